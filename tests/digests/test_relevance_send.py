"""The relevance model in the real send: More like this lifts similar papers, Less sinks
them, through the real Postmark backend (HTTP mocked) in one-by-one and bulk mode."""

import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from digests.models import Delivery, Edition, EditionPaper, Kind, ReaderSignal
from digests.services import reader
from digests.services.compose import edition_get_or_compose
from papers.models import Trend, Window
from tests.digests.conftest import POSTMARK, bulk_merged, postmark_ok, recorded, sent_payloads
from tests.factories import PaperFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 1)
SPARSE = "Sparse attention kernels for long context transformers"
# Trending order alternates unrelated and sparse-attention papers: u0, s0, u1, s1, u2, s2.
UNRELATED = [
    ("Protein folding with graph networks", "Molecular graph networks predict protein folds."),
    ("Speech recognition for low-resource languages", "Self-supervised speech encoders."),
    ("Weather forecasting with diffusion", "Diffusion models forecast weather fields."),
]


@pytest.fixture
def papers():
    # Yesterday's digest carried the paper the reader reacts to (created first: scores
    # computed after the last paper change are fresh, so compose keeps them).
    made = {"liked": PaperFactory(title=f"{SPARSE}: the original", abstract="Sparse attention.")}
    for rank in range(3):
        made[f"u{rank}"] = PaperFactory(title=UNRELATED[rank][0], abstract=UNRELATED[rank][1])
        made[f"s{rank}"] = PaperFactory(
            title=f"{SPARSE}, part {rank}", abstract="Sparse attention makes long context cheap."
        )
    order = ["u0", "s0", "u1", "s1", "u2", "s2"]
    for position, key in enumerate(order):
        Trend.objects.create(
            paper=made[key],
            window=Window.TODAY,
            score=100 - position,
            reason=f"+{50 - position} stars in 24 h",
            computed_at=timezone.now(),
        )
    reader.vocabulary_build()
    return made


def _react(subscriber, paper, kind):
    yesterday = Edition.objects.create(date=TODAY - dt.timedelta(days=1), status="sent")
    EditionPaper.objects.create(edition=yesterday, paper=paper, position=1)
    delivery = Delivery.objects.create(
        edition=yesterday, subscriber=subscriber, status="sent", paper_ids=[paper.pk]
    )
    reader.reader_signal_record(subscriber=subscriber, paper=paper, kind=kind, delivery=delivery)
    reader.reader_models_train(subscriber_ids=[subscriber.pk])


def _order(text: str, papers) -> list[str]:
    titles = {p.title: key for key, p in papers.items()}
    found = [(text.index(title), key) for title, key in titles.items() if title in text]
    return [key for _, key in sorted(found)]


def _send(papers, subscriber):
    from tests.digests.conftest import send_to

    edition = edition_get_or_compose(day=TODAY, kind=Kind.DAILY)[0]
    return send_to(edition, subscriber)


def test_more_like_this_lifts_similar_papers_one_by_one(postmark, papers):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    ada = SubscriberFactory(papers_per_email=5)
    _react(ada, papers["liked"], "more")

    _send(papers, ada)

    [mail] = sent_payloads(postmark)
    order = _order(mail["TextBody"], papers)
    assert order[:3] == ["s0", "s1", "s2"]  # above the equally (or more) trending u1, u2
    assert "For you: Like papers you marked More like this" in mail["TextBody"]
    delivery = Delivery.objects.get(subscriber=ada, edition__date=TODAY)
    assert delivery.paper_ids[:3] == [papers[k].pk for k in ("s0", "s1", "s2")]
    assert delivery.reasons[0] == "Like papers you marked More like this"


def test_less_like_this_sinks_similar_papers_one_by_one(postmark, papers):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    bob = SubscriberFactory(papers_per_email=5)
    _react(bob, papers["liked"], "less")

    _send(papers, bob)

    [mail] = sent_payloads(postmark)
    order = _order(mail["TextBody"], papers)
    assert order[:3] == ["u0", "u1", "u2"]
    assert "s2" not in order  # cut by the count of five: below, or not at all


def test_a_reader_without_signals_keeps_the_trending_order(postmark, papers):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    cold = SubscriberFactory(papers_per_email=6)

    _send(papers, cold)

    [mail] = sent_payloads(postmark)
    assert _order(mail["TextBody"], papers) == ["u0", "s0", "u1", "s1", "u2", "s2"]
    assert "For you:" not in mail["TextBody"]


def test_the_bulk_api_carries_the_personal_order_and_feedback_links(postmark_default, papers):
    postmark_default.add(
        "POST", f"{POSTMARK}/email/bulk", json=recorded("postmark_bulk_accepted.json"), status=200
    )
    ada, cold = SubscriberFactory(papers_per_email=5), SubscriberFactory(papers_per_email=5)
    _react(ada, papers["liked"], "more")
    edition = edition_get_or_compose(day=TODAY, kind=Kind.DAILY)[0]
    from tests.digests.conftest import send_to

    send_to(edition, ada, cold)

    # Each reader's digest is their own: one call carries both, each reader's papers in
    # that reader's merge data, the parts they share (head, footer) once.
    [call] = sent_payloads(postmark_default, "/email/bulk")
    by_reader = bulk_merged(call)
    assert _order(by_reader[ada.email]["TextBody"], papers)[:3] == ["s0", "s1", "s2"]
    assert _order(by_reader[cold.email]["TextBody"], papers)[:2] == ["u0", "s0"]
    assert "prefers-color-scheme" in call["HtmlBody"] and "{{unsubscribe_url}}" in call["HtmlBody"]
    html = by_reader[ada.email]["HtmlBody"]
    assert ">More like this</a>" in html and ">Less like this</a>" in html
    model = {m["To"]: m["TemplateModel"] for m in call["Messages"]}[ada.email]
    base = model["feedback_url"]
    assert f'href="{base}/{papers["s0"].pk}/more/"' in html
    assert re.match(r"^http://[^/]+/digests/feedback/[^/]+$", base)
    assert by_reader[ada.email]["Subject"] != by_reader[cold.email]["Subject"]


def test_a_feed_only_reader_gets_no_mail_but_a_recorded_digest(postmark, papers):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    ada = SubscriberFactory(papers_per_email=5)
    reader.reader_feed_set_feed_only(subscriber=ada, feed_only=True)

    _send(papers, ada)

    assert sent_payloads(postmark) == []
    delivery = Delivery.objects.get(subscriber=ada)
    assert (delivery.status, delivery.skip_reason) == ("skipped", "feed")
    assert len(delivery.paper_ids) == 5


def test_the_feedback_link_in_the_mail_records_a_signal(client, postmark, papers):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    ada = SubscriberFactory(papers_per_email=5)

    _send(papers, ada)

    [mail] = sent_payloads(postmark)
    link = re.search(r"More like this: (\S+)", mail["TextBody"]).group(1)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert client.get(path).status_code == 200
    assert not ReaderSignal.objects.exists()  # a GET (a link scanner) records nothing
    client.post(path)
    assert ReaderSignal.objects.get().subscriber == ada
    assert json.loads(json.dumps(mail["TextBody"])).count("Less like this: ") == 5


def test_updates_on_kept_papers_are_listed_once_in_the_digest(postmark, papers):
    from digests.services import updates
    from papers import library
    from tests.factories import UserFactory

    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    user = UserFactory()
    ada = SubscriberFactory(user=user, email=user.email, papers_per_email=5)
    assert ada.user == user
    library.library_save(user=user, paper=papers["liked"])
    updates.paper_updates_detect()  # first sighting: no code yet
    papers["liked"].has_code = True
    papers["liked"].save()

    # send_digest's own path: it looks for updates before it sends.
    from digests.services import digest_send_date

    digest_send_date(day=TODAY, kind=Kind.DAILY)
    digest_send_date(day=TODAY + dt.timedelta(days=1), kind=Kind.DAILY)

    first, second = sent_payloads(postmark)
    assert "Updates on your papers" in first["TextBody"]
    section = first["TextBody"].split("Updates on your papers", 1)[1].split("--", 1)[0]
    flat = " ".join(section.split())  # the text part wraps at 78 columns
    assert f"- {papers['liked'].title}: Code arrived" in flat
    assert "Updates on your papers</h2>" in first["HtmlBody"]
    # Listed once: the code update is not repeated. (The second send may list a new
    # update of its own: the first compose recomputes trending, and the paper can enter
    # today's top 30, which is a real change.)
    assert "Code arrived" not in second["TextBody"]
    assert "Code arrived" not in second["HtmlBody"]


def test_a_muted_topic_keeps_its_papers_out_of_the_digest(postmark, papers):
    from digests.models import TopicMute
    from tests.factories import TopicFactory

    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    biology = TopicFactory(name="Biology", slug="biology")
    papers["u0"].topics.add(biology)
    ada = SubscriberFactory(papers_per_email=6)
    TopicMute.objects.create(subscriber=ada, topic=biology)

    _send(papers, ada)

    [mail] = sent_payloads(postmark)
    assert _order(mail["TextBody"], papers) == ["s0", "u1", "s1", "u2", "s2"]


def test_a_feed_only_reader_never_gets_the_same_paper_twice(postmark, papers):
    from tests.digests.conftest import send_to

    ada = SubscriberFactory(papers_per_email=3)
    reader.reader_feed_set_feed_only(subscriber=ada, feed_only=True)
    _send(papers, ada)
    tomorrow = edition_get_or_compose(day=TODAY + dt.timedelta(days=1), kind=Kind.DAILY)[0]

    send_to(tomorrow, ada)

    first, second = Delivery.objects.filter(subscriber=ada).order_by("edition__date")
    assert len(second.paper_ids) == 3
    assert not set(first.paper_ids) & set(second.paper_ids)
