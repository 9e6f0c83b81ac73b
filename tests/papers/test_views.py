import pytest

from papers.models import Paper
from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db


def test_it_lists_published_papers_under_the_banner(client):
    PaperFactory(title="Visible <b>Paper</b>")
    PaperFactory(title="Hidden Paper", status=Paper.Status.HIDDEN)

    response = client.get("/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Get trending papers in your email inbox once a day!" in body
    assert "Visible &lt;b&gt;Paper&lt;/b&gt;" in body
    assert "Hidden Paper" not in body
