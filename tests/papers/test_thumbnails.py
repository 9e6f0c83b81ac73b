"""Thumbnails: the first PDF page rendered by pypdfium2 and stored through Django's storage
API, on a real one-page PDF (data/pdf/tiny-paper.pdf, see its README); HTTP mocked."""

import io
from pathlib import Path

import pytest
import responses
from django.core.files.storage import storages
from PIL import Image

from papers import tasks
from papers.models import Paper
from papers.thumbnails import ThumbnailError, paper_thumbnail_make, thumbnail_render
from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db

PDF = (Path(__file__).parent / "data" / "pdf" / "tiny-paper.pdf").read_bytes()
MEMORY_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


@pytest.fixture
def memory_storage(settings):
    """Thumbnails in memory: what a bucket would hold, set by STORAGES alone."""
    settings.STORAGES = MEMORY_STORAGE  # Django's setting_changed resets default_storage
    assert type(storages["default"]).__name__ == "InMemoryStorage"
    return storages["default"]


def test_it_renders_the_first_page_as_a_jpeg_of_the_given_width():
    image, width, height = thumbnail_render(pdf=PDF, width=240)

    picture = Image.open(io.BytesIO(image))
    assert picture.format == "JPEG"
    assert (width, height) == picture.size == (240, 311)  # US Letter: 612 x 792 points
    # The title's black text is on the page: not a blank render.
    assert picture.convert("L").getextrema()[0] < 80


def test_it_refuses_a_file_that_is_not_a_pdf():
    with pytest.raises(ThumbnailError, match="not a readable PDF"):
        thumbnail_render(pdf=b"<html>arXiv is down</html>", width=240)


@responses.activate
def test_it_stores_the_thumbnail_through_the_configured_storage(memory_storage, settings):
    settings.PAPERS_THUMBNAIL_WIDTH = 300
    paper = PaperFactory(arxiv_id="2411.00001", slug="tiny-paper", pdf_url="")
    responses.get("https://arxiv.org/pdf/2411.00001", body=PDF, content_type="application/pdf")

    assert tasks.render_thumbnail.delay(paper.pk).get() is True

    paper.refresh_from_db()
    assert paper.thumbnail.name.startswith("thumbnails/tiny-paper-")
    assert paper.thumbnail.name.endswith(".jpg")
    assert (paper.thumbnail_width, paper.thumbnail_height) == (300, 389)
    assert memory_storage.exists(paper.thumbnail.name), "in the storage STORAGES names"
    assert paper.thumbnail_checked_at is not None
    with memory_storage.open(paper.thumbnail.name) as stored:
        assert Image.open(stored).size == (300, 389)


@responses.activate
def test_it_serves_a_filesystem_thumbnail_for_a_year(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    paper = PaperFactory(pdf_url="https://example.org/paper.pdf", slug="served")
    responses.get("https://example.org/paper.pdf", body=PDF)
    assert paper_thumbnail_make(paper=paper)
    paper.refresh_from_db()

    response = client.get(paper.thumbnail.url)

    assert paper.thumbnail.url.startswith("/media/thumbnails/served-")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"  # a JPEG
    assert client.get("/media/thumbnails/missing.jpg").status_code == 404
    assert client.get("/media/thumbnails/..%2Fdb.sqlite3").status_code == 404


@responses.activate
def test_it_marks_an_unreadable_pdf_as_tried_and_moves_on(memory_storage):
    paper = PaperFactory(arxiv_id="2411.00002")
    responses.get("https://arxiv.org/pdf/2411.00002", body=b"not a pdf")

    assert paper_thumbnail_make(paper=paper) is False

    paper.refresh_from_db()
    assert not paper.thumbnail and paper.thumbnail_checked_at is not None
    assert tasks.render_missing_thumbnails.delay().get() == 0, "not fetched again"


@responses.activate
def test_it_leaves_a_transient_failure_for_a_retry(memory_storage):
    paper = PaperFactory(arxiv_id="2411.00003")
    responses.get("https://arxiv.org/pdf/2411.00003", status=503)

    with pytest.raises(ThumbnailError) as raised:
        paper_thumbnail_make(paper=paper)

    assert raised.value.transient
    paper.refresh_from_db()
    assert paper.thumbnail_checked_at is None, "tried again later"


@responses.activate
def test_it_skips_a_pdf_over_the_size_limit(memory_storage, settings):
    settings.PAPERS_THUMBNAIL_MAX_PDF_BYTES = 100
    paper = PaperFactory(arxiv_id="2411.00004")
    responses.get("https://arxiv.org/pdf/2411.00004", body=PDF)

    assert paper_thumbnail_make(paper=paper) is False
    assert not Paper.objects.get(pk=paper.pk).thumbnail


@responses.activate
def test_the_batch_renders_the_newest_untried_papers_with_a_pdf(memory_storage, settings):
    settings.PAPERS_THUMBNAIL_BATCH = 2
    papers = [PaperFactory(arxiv_id=f"2411.0010{n}") for n in range(3)]
    PaperFactory(arxiv_id=None, pdf_url="")  # nothing to render from
    PaperFactory(arxiv_id="2411.00200", status=Paper.Status.HIDDEN)
    for paper in papers:
        responses.get(f"https://arxiv.org/pdf/{paper.arxiv_id}", body=PDF)

    assert tasks.render_missing_thumbnails.delay().get() == 2
    assert tasks.render_missing_thumbnails.delay().get() == 1
    assert tasks.render_missing_thumbnails.delay().get() == 0

    assert Paper.objects.exclude(thumbnail="").count() == 3
    assert len(responses.calls) == 3
