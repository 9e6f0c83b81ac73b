"""Curation in the Django admin: list, search, filters, bulk actions, add by arXiv id."""

from pathlib import Path

import pytest
import responses
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from papers.fetchers.arxiv import API_URL as ARXIV_URL
from papers.models import Paper, Trend
from papers.trending import trending_recompute
from tests.factories import (
    PaperFactory,
    PaperRepositoryFactory,
    RepositoryFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
CHANGELIST = reverse("admin:papers_paper_changelist")
ADD_BY_ARXIV = reverse("admin:papers_paper_add_by_arxiv")


@pytest.fixture
def editor(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture(autouse=True)
def _no_arxiv_spacing(settings):
    settings.ARXIV_API_SPACING_SECONDS = 0


def test_it_keeps_the_admin_to_staff(client):
    client.force_login(UserFactory(is_staff=False))

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert client.get(ADD_BY_ARXIV).status_code == 302


def test_it_lists_papers_with_score_stars_and_code(client, editor):
    paper = PaperFactory(
        title="A <i>Trending</i> Paper", stars=812, has_code=True, published_on=timezone.localdate()
    )
    PaperFactory(title="Quiet Paper")
    trending_recompute()

    response = client.get(CHANGELIST)

    body = response.content.decode()
    assert response.status_code == 200
    assert "A &lt;i&gt;Trending&lt;/i&gt; Paper" in body
    assert "812" in body
    score = Trend.objects.get(paper=paper, window="week").score
    assert f"{score:.2f}" in body
    assert "Add by arXiv id" in body
    for column in (
        "column-status",
        "column-trending_score",
        "column-stars",
        "column-has_code",
        "column-published_on",
    ):
        assert column in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("diffusion", "Fast Diffusion"),
        ("2411.99999", "Fast Diffusion"),
        ("Hopper", "Fast Diffusion"),
        ("denoising", "Fast Diffusion"),
    ],
)
def test_it_searches_title_arxiv_id_author_and_abstract(client, editor, query, expected):
    PaperFactory(
        title="Fast Diffusion",
        arxiv_id="2411.99999",
        authors=["Grace Hopper"],
        abstract="Denoising, quickly.",
    )
    PaperFactory(title="Other Paper", authors=["Ada Lovelace"], abstract="Nothing here.")

    response = client.get(CHANGELIST, {"q": query})

    titles = [str(p) for p in response.context["cl"].result_list]
    assert titles == [expected]


def test_it_filters_by_status_code_topic_and_date(client, editor):
    topic = TopicFactory(slug="vision", name="Vision")
    with_code = PaperFactory(title="With Code", published_on="2024-11-01")
    with_code.topics.add(topic)
    PaperRepositoryFactory(paper=with_code)
    from papers.services import papers_refresh_code_stats

    papers_refresh_code_stats(paper_ids=[with_code.pk])
    PaperFactory(title="Draft", status=Paper.Status.DRAFT, published_on="2023-01-01")

    def titles(**params):
        return [str(p) for p in client.get(CHANGELIST, params).context["cl"].result_list]

    assert titles(status__exact="draft") == ["Draft"]
    assert titles(code="yes") == ["With Code"]
    assert titles(code="no") == ["Draft"]
    assert titles(topics__id__exact=topic.pk) == ["With Code"]
    assert titles(published_on__year="2023") == ["Draft"]


def _act(client, action, papers):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [p.pk for p in papers]},
        follow=True,
    )


def test_it_publishes_and_hides_in_bulk_and_logs_each_change(client, editor):
    drafts = PaperFactory.create_batch(2, status=Paper.Status.DRAFT)
    published = PaperFactory()

    response = _act(client, "publish", [*drafts, published])

    assert "Published: 2 paper(s)." in response.content.decode()
    assert set(Paper.objects.values_list("status", flat=True)) == {"published"}
    entries = LogEntry.objects.filter(action_flag=CHANGE, change_message="Published")
    assert sorted(int(e.object_id) for e in entries) == sorted(p.pk for p in drafts)
    assert all(e.user_id == editor.pk for e in entries)

    _act(client, "hide", drafts)

    assert Paper.objects.filter(status="hidden").count() == 2
    assert LogEntry.objects.filter(change_message="Hidden").count() == 2


def test_it_pins_and_unpins_and_the_pin_shows_in_trending_at_once(
    client, editor, django_capture_on_commit_callbacks
):
    hot = PaperFactory(published_on="2024-11-19")
    pinned = PaperFactory(published_on="2020-01-01")
    repo = RepositoryFactory()
    PaperRepositoryFactory(paper=hot, repository=repo)

    with django_capture_on_commit_callbacks(execute=True):
        _act(client, "pin", [pinned])

    pinned.refresh_from_db()
    assert pinned.pinned and pinned.boost_until is None
    # The pin recomputed the scores (on commit): the pinned paper leads every window.
    assert Paper.objects.trending("today").first() == pinned
    assert Paper.objects.trending("today").first().trend_reason == "Pinned by the editors"
    assert LogEntry.objects.filter(object_id=str(pinned.pk), change_message="Pinned").exists()

    with django_capture_on_commit_callbacks(execute=True):
        _act(client, "unpin", [pinned, hot])

    assert not Paper.objects.filter(pinned=True).exists()
    assert LogEntry.objects.filter(change_message="Unpinned").count() == 1
    assert not Trend.objects.filter(paper=pinned).exists()  # too old to trend unpinned


def test_it_shows_repositories_inline_and_refreshes_code_stats_on_save(client, editor):
    paper = PaperFactory(title="Inline Paper")
    repo = RepositoryFactory(stars=321)
    url = reverse("admin:papers_paper_change", args=[paper.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "title": paper.title,
            "slug": paper.slug,
            "status": "published",
            "authors": '["Ada Lovelace"]',
            "categories": "[]",
            "boost": "0",
            "topics": [],
            "code_links-TOTAL_FORMS": "1",
            "code_links-INITIAL_FORMS": "0",
            "code_links-MIN_NUM_FORMS": "0",
            "code_links-MAX_NUM_FORMS": "1000",
            "code_links-0-repository": repo.pk,
            "code_links-0-is_official": "on",
        }
    )
    data.pop("arxiv_id", None)
    data["arxiv_id"] = paper.arxiv_id

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    paper.refresh_from_db()
    assert (paper.stars, paper.has_code) == (321, True)


def test_it_refuses_a_second_paper_with_the_same_title(client, editor):
    PaperFactory(title="Attention Is All You Need")

    response = client.post(
        reverse("admin:papers_paper_add"),
        {
            "title": "attention is all you need!",
            "slug": "x",
            "status": "draft",
            "authors": "[]",
            "categories": "[]",
            "boost": "0",
            "code_links-TOTAL_FORMS": "0",
            "code_links-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "already has this title: one paper is one record." in response.content.decode()
    assert Paper.objects.count() == 1


def test_it_shows_the_add_by_arxiv_form(client, editor):
    response = client.get(ADD_BY_ARXIV)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="ids"' in body
    assert "csrfmiddlewaretoken" in body


@responses.activate
def test_it_adds_papers_by_arxiv_id_as_drafts_and_logs_them(client, editor):
    responses.get(ARXIV_URL, body=(DATA / "arxiv_id_list_with_error.atom").read_bytes())

    response = client.post(
        ADD_BY_ARXIV, {"ids": "https://arxiv.org/abs/2106.09685v2,\n1234.56789"}, follow=True
    )

    body = response.content.decode()
    assert "1 created as drafts, 0 updated, 0 already present, 2 skipped." in body
    assert "arXiv has no paper with this id" in body
    paper = Paper.objects.get(arxiv_id="2106.09685")
    assert paper.status == Paper.Status.DRAFT
    assert LogEntry.objects.get(action_flag=ADDITION).object_id == str(paper.pk)
    assert responses.calls[0].request.params["id_list"] == "2106.09685,1234.56789"


def test_it_rejects_text_that_holds_no_arxiv_ids(client, editor):
    response = client.post(ADD_BY_ARXIV, {"ids": "hello, 2401.01234"})

    assert response.status_code == 200
    assert "Not arXiv ids: hello" in response.content.decode()
    assert not Paper.objects.exists()


@responses.activate
def test_it_says_so_when_arxiv_is_down(client, editor):
    responses.get(ARXIV_URL, status=503)

    response = client.post(ADD_BY_ARXIV, {"ids": "2106.09685"}, follow=True)

    assert response.status_code == 200
    assert "Could not reach arXiv: arXiv API answered 503" in response.content.decode()


def test_it_needs_the_add_permission_for_add_by_arxiv(client):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_paper"))
    client.force_login(user)

    assert client.get(ADD_BY_ARXIV).status_code == 403
    assert "Add by arXiv id" not in client.get(CHANGELIST).content.decode()
