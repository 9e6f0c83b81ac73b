"""The reader's library: save and remove papers, import a reference list, export BibTeX."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from papers import library
from papers.forms import LibraryImportForm
from papers.models import Paper


def _back(request, fallback: str):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_http_methods(["GET", "POST"])
def library_page(request):
    form = LibraryImportForm()
    report = None
    if request.method == "POST":
        form = LibraryImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                report = library.library_import(
                    user=request.user, data=form.data_bytes(), fmt=form.cleaned_data["format"]
                )
            except library.LibraryImportError as exc:
                form.add_error(None, f"This file could not be imported: {exc}.")
    status = 400 if request.method == "POST" and report is None else 200
    context = {
        "items": library.library_items(user=request.user),
        "form": form,
        "report": report,
    }
    return render(request, "papers/library.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def library_save(request, paper_id: int):
    """GET asks (cards link here from shared caches); POST saves."""
    paper = get_object_or_404(Paper.objects.published(), pk=paper_id)
    if request.method == "GET":
        return render(request, "papers/library_save.html", {"paper": paper})
    if library.library_save(user=request.user, paper=paper):
        messages.success(request, "Saved to your library.")
    return _back(request, paper.get_absolute_url())


@login_required
@require_POST
def library_remove(request, paper_id: int):
    paper = get_object_or_404(Paper, pk=paper_id)
    if library.library_remove(user=request.user, paper=paper):
        messages.success(request, "Removed from your library.")
    return _back(request, "papers:library")


@login_required
@require_GET
def library_export(request):
    body = library.library_bibtex(items=library.library_items(user=request.user))
    response = HttpResponse(body, content_type="application/x-bibtex; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="paperboy-library.bib"'
    return response
