"""Paper search, mixed into PaperQuerySet as `.search(q)`."""

from django.db import models


class PaperSearchMixin:
    def search(self, query: str) -> models.QuerySet:
        # Simplest portable search; the Site issue replaces it with PostgreSQL full-text
        # search (search_vector, websearch syntax, rank, headline, trigram fallback).
        query = " ".join(query.split())[:200]
        if not query:
            return self.none()
        return self.filter(models.Q(title__icontains=query) | models.Q(abstract__icontains=query))
