from django import forms

from papers.library import FORMATS, MAX_IMPORT_BYTES


class LibraryImportForm(forms.Form):
    format = forms.ChoiceField(
        choices=[
            ("arxiv", "arXiv ids or URLs, one per line"),
            ("bibtex", "BibTeX (Zotero, Mendeley, Google Scholar)"),
            ("zotero_csv", "Zotero CSV export"),
        ],
        initial="bibtex",
    )
    file = forms.FileField(required=False, help_text="A .bib, .csv or .txt file.")
    text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Or paste it here",
        max_length=200_000,
    )

    def clean_format(self):
        value = self.cleaned_data["format"]
        if value not in FORMATS:
            raise forms.ValidationError("Choose one of the formats listed.")
        return value

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None and upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_IMPORT_BYTES // 1024 // 1024} MB."
            )
        if upload is None and not (cleaned.get("text") or "").strip():
            raise forms.ValidationError("Choose a file, or paste your list.")
        return cleaned

    def data_bytes(self) -> bytes | str:
        upload = self.cleaned_data.get("file")
        if upload is not None:
            return upload.read()
        return self.cleaned_data["text"]
