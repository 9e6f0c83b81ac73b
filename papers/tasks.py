"""Celery tasks: thin, idempotent wrappers around services (the beat schedule is in settings)."""

import logging
from datetime import date

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from papers import services, stats, thumbnails
from papers.fetchers.base import FetchError
from papers.sample import sample_note_refresh

logger = logging.getLogger(__name__)

TRANSIENT_RETRIES = 3


def _single(name: str, timeout: int):
    """A cache lock so two overlapping runs (a slow run and the next beat tick) never overlap."""
    return cache.add(f"papers:task-lock:{name}", 1, timeout=timeout)


def _release(name: str):
    cache.delete(f"papers:task-lock:{name}")


@shared_task
def recompute_trending() -> dict:
    if not _single("trending", timeout=settings.CELERY_TASK_TIME_LIMIT):
        logger.info("trending recompute already running; skipped")
        return {}
    try:
        counts = services.papers_refresh_scores()
    finally:
        _release("trending")
    sample_note_refresh()
    return counts


@shared_task
def import_papers(paths: list[str], fmt: str = "auto", draft: bool = False) -> dict:
    return services.papers_import(paths=paths, fmt=fmt, draft=draft).as_dict()


def _import_fetched(items, *, source: str) -> dict:
    status = "draft" if settings.PAPERS_FETCH_AS_DRAFT else "published"
    summary = services.papers_import_items(items=items, status=status)
    stats.fetch_day_count(source=source, summary=summary)
    if summary.created and status == "published":
        # New papers show on the site now rather than at the next hourly recompute.
        recompute_trending.delay_on_commit()
        render_missing_thumbnails.delay_on_commit()
    return summary.as_dict()


@shared_task(bind=True, max_retries=TRANSIENT_RETRIES)
def fetch_arxiv(self) -> dict:
    from papers.fetchers.arxiv import ArxivClient

    try:
        items = list(
            ArxivClient().fetch_recent(
                categories=settings.ARXIV_FETCH_CATEGORIES,
                max_results=settings.ARXIV_FETCH_MAX_RESULTS,
            )
        )
    except FetchError as exc:
        if exc.transient:
            raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
        raise
    return _import_fetched(items, source="arxiv")


@shared_task(bind=True, max_retries=TRANSIENT_RETRIES)
def fetch_huggingface_daily(self, day: str | None = None) -> dict:
    from papers.fetchers.huggingface import fetch_daily

    try:
        items = list(fetch_daily(day=date.fromisoformat(day) if day else None))
    except FetchError as exc:
        if exc.transient:
            raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
        raise
    return _import_fetched(items, source="hf")


@shared_task
def refresh_github_stars() -> dict:
    from papers.fetchers.github import refresh_stars, repositories_due

    if not _single("github", timeout=settings.CELERY_TASK_TIME_LIMIT):
        return {}
    try:
        summary = refresh_stars(repositories=repositories_due(settings.GITHUB_REFRESH_BATCH))
    finally:
        _release("github")
    result = {
        "refreshed": summary.refreshed,
        "not_modified": summary.not_modified,
        "missing": summary.missing,
        "failed": summary.failed,
        "paused_until": summary.paused_until.isoformat() if summary.paused_until else None,
    }
    logger.info("GitHub stars: %s", result)
    return result


# --- Thumbnails (papers.thumbnails) ------------------------------------------------------


@shared_task
def render_missing_thumbnails() -> int:
    """Queue a render for the newest papers never tried; the beat runs it every 15 minutes
    and imports right after they add papers."""
    ids = thumbnails.papers_needing_thumbnails(limit=settings.PAPERS_THUMBNAIL_BATCH)
    for paper_id in ids:
        render_thumbnail.delay(paper_id)
    return len(ids)


@shared_task(bind=True, max_retries=TRANSIENT_RETRIES)
def render_thumbnail(self, paper_id: int) -> bool:
    from papers.models import Paper

    paper = Paper.objects.filter(pk=paper_id).first()
    if paper is None:
        return False
    try:
        return thumbnails.paper_thumbnail_make(paper=paper)
    except thumbnails.ThumbnailError as exc:
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
