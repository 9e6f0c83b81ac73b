"""A JSON encoder for JSONFields that hold human text (author names).

Django stores a JSONField with `json.dumps`, which escapes every non-ASCII character:
"Wübben" becomes "W\\u00fcbben" in the column. PostgreSQL's jsonb decodes that, but on
SQLite the column is plain text, so LIKE and full-text matching see the escapes and a
search for Wübben finds nothing. With this encoder the text is stored as UTF-8.
"""

from django.core.serializers.json import DjangoJSONEncoder


class UnicodeJSONEncoder(DjangoJSONEncoder):
    def __init__(self, *args, **kwargs):
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)
