"""Thumbnails: the first page of a paper's PDF as a small JPEG, for cards, paper pages,
link previews and the digest.

The image goes through Django's storage API (STORAGES["default"]): files under
MEDIA_ROOT by default, served by papers.views.thumbnail; an S3-compatible bucket when
STORAGES names django-storages' S3 backend, with no code change. Names carry a hash of the
image, so a stored thumbnail never changes and may be cached for ever.
"""

import hashlib
import io
import logging

import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from papers.fetchers.base import TRANSIENT_STATUSES, FetchError, session
from papers.models import Paper

logger = logging.getLogger(__name__)


class ThumbnailError(Exception):
    """The PDF cannot be had or read; `transient` when trying again later may help."""

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient


def thumbnail_render(*, pdf: bytes, width: int) -> tuple[bytes, int, int]:
    """The first page of `pdf` as JPEG bytes `width` pixels wide, with its height."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as exc:
        raise ThumbnailError(f"not a readable PDF: {exc}") from exc
    try:
        if len(document) == 0:
            raise ThumbnailError("the PDF has no pages")
        page = document[0]
        page_width, _ = page.get_size()
        image = page.render(scale=width / page_width).to_pil().convert("RGB")
        page.close()
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80, optimize=True, progressive=True)
    return out.getvalue(), image.width, image.height


def pdf_download(*, url: str, http: requests.Session | None = None) -> bytes:
    """The PDF at `url`, at most PAPERS_THUMBNAIL_MAX_PDF_BYTES (a huge scan is skipped)."""
    limit = settings.PAPERS_THUMBNAIL_MAX_PDF_BYTES
    http = http or session()
    try:
        with http.get(url, timeout=60, stream=True) as response:
            if response.status_code != 200:
                raise ThumbnailError(
                    f"{url} answered {response.status_code}",
                    transient=response.status_code in TRANSIENT_STATUSES,
                )
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > limit:
                    raise ThumbnailError(f"{url} is larger than {limit} bytes")
    except requests.RequestException as exc:
        raise ThumbnailError(f"{url} unreachable: {exc}", transient=True) from exc
    return bytes(body)


def paper_thumbnail_make(*, paper: Paper, http: requests.Session | None = None) -> bool:
    """Render and store `paper`'s thumbnail from its PDF; True when one was stored.

    A PDF that cannot be read marks the paper as tried (thumbnail_checked_at), so the
    batch does not fetch it again; a transient failure (timeout, 503) raises, for the
    task to retry.
    """
    url = paper.pdf_link
    if not url:
        return False
    try:
        pdf = pdf_download(url=url, http=http)
        image, width, height = thumbnail_render(pdf=pdf, width=settings.PAPERS_THUMBNAIL_WIDTH)
    except (ThumbnailError, FetchError) as exc:
        if getattr(exc, "transient", False):
            raise
        logger.warning("no thumbnail for paper %s: %s", paper.pk, exc)
        Paper.objects.filter(pk=paper.pk).update(thumbnail_checked_at=timezone.now())
        return False
    old = paper.thumbnail.name if paper.thumbnail else ""
    digest = hashlib.sha256(image).hexdigest()[:12]
    paper.thumbnail.save(f"{paper.slug[:80]}-{digest}.jpg", ContentFile(image), save=False)
    paper.thumbnail_width, paper.thumbnail_height = width, height
    paper.thumbnail_checked_at = timezone.now()
    Paper.objects.filter(pk=paper.pk).update(
        thumbnail=paper.thumbnail.name,
        thumbnail_width=width,
        thumbnail_height=height,
        thumbnail_checked_at=paper.thumbnail_checked_at,
    )
    if old and old != paper.thumbnail.name:
        paper.thumbnail.storage.delete(old)
    return True


def papers_needing_thumbnails(*, limit: int) -> list[int]:
    """Ids of published papers with a PDF (or an arXiv id) that were never tried, newest
    first: the most visible cards get their image first."""
    papers = (
        Paper.objects.published()
        .filter(thumbnail="", thumbnail_checked_at__isnull=True)
        .exclude(pdf_url="", arxiv_id__isnull=True)
        .latest()
    )
    return list(papers.values_list("pk", flat=True)[:limit])
