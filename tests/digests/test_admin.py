import datetime as dt
import re

import pytest
from django.core import mail

from digests.models import Edition, Kind
from digests.services import edition_get_or_compose
from tests.digests.conftest import make_trending
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = UserFactory(is_staff=True, is_superuser=True, email="editor@example.org")
    client.force_login(user)
    return user


def test_it_lists_editions_with_their_counts(client, editor):
    make_trending(2)
    edition, _ = edition_get_or_compose(day=dt.date(2026, 11, 27), kind=Kind.DAILY)
    Edition.objects.filter(pk=edition.pk).update(sent_count=1234, bounced_count=7, opened_count=99)
    page = client.get("/admin/digests/edition/").content.decode()
    row = re.findall(r"<tr[^>]*>(.*?)</tr>", page[page.index('id="result_list"') :], re.S)[1]
    cells = dict(re.findall(r'<td class="field-(\w+)[^"]*">(.*?)</td>', row, re.S))
    assert cells["sent_count"] == "1234"
    assert cells["bounced_count"] == "7"
    assert cells["opened_count"] == "99"
    assert cells["complained_count"] == "0" and cells["clicked_count"] == "0"


def test_it_previews_the_next_edition_as_html_and_text(client, editor):
    make_trending(3, title="Preview me")
    response = client.get("/admin/digests/edition/preview/?kind=daily")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Preview me 0" in page and "<iframe" in page and "KB" in page
    assert not Edition.objects.exists()  # a preview writes nothing


def test_it_sends_a_test_copy_to_the_editor(client, editor, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_trending(3)
    response = client.post("/admin/digests/edition/preview/", {"kind": "daily"})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["editor@example.org"]]
    assert mail.outbox[0].alternatives[0][1] == "text/html"


def test_it_rate_limits_test_copies(client, editor, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_trending(1)
    for _ in range(12):
        client.post("/admin/digests/edition/preview/", {"kind": "daily"})
    assert len(mail.outbox) == 10


def test_it_keeps_the_preview_from_non_staff(client, db):
    client.force_login(UserFactory())
    assert client.get("/admin/digests/edition/preview/").status_code == 302
