import datetime as dt
import json
import re
from unittest import mock
from urllib.parse import parse_qs

import pytest
import responses

from digests import rendering
from digests.models import Delivery, Edition, Kind
from digests.services import delivery_send_chunk, edition_get_or_compose
from digests.tasks import send_digest_chunk
from subscriptions.models import Subscriber
from subscriptions.tokens import UNSUBSCRIBE, read_token
from tests.digests.conftest import (
    POSTMARK,
    make_trending,
    postmark_batch_ok,
    postmark_ok,
    recorded,
    run_like_a_broker,
    send_to,
    sent_payloads,
)
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 27)


@pytest.fixture
def edition():
    make_trending(12, title="Noise2Recon: a semi-supervised framework")
    return edition_get_or_compose(day=DAY, kind=Kind.DAILY)[0]


@pytest.fixture
def bulk(postmark_default):
    # Nothing but the server token: batching through the Bulk API is the default.
    postmark = postmark_default
    postmark.add(
        "POST", f"{POSTMARK}/email/bulk", json=recorded("postmark_bulk_accepted.json"), status=200
    )
    return postmark


def _header(payload, name):
    return next(h["Value"] for h in payload["Headers"] if h["Name"] == name)


def test_it_sends_each_reader_their_own_links_and_headers_through_postmark(postmark, edition):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    ada, bob = (
        SubscriberFactory(email="ada@example.org"),
        SubscriberFactory(email="bob@example.org"),
    )

    result = send_to(edition, ada, bob)

    assert result.sent == 2
    payloads = {p["To"]: p for p in sent_payloads(postmark)}
    assert set(payloads) == {"ada@example.org", "bob@example.org"}
    ada_mail = payloads["ada@example.org"]
    assert ada_mail["Subject"] == "Trending papers, 27 Nov: " + edition.entries.first().paper.title
    unsubscribe = _header(ada_mail, "List-Unsubscribe")
    url, mailto = re.fullmatch(r"<(http[^>]+)>, <(mailto:[^>]+)>", unsubscribe).groups()
    token = re.search(r"/unsubscribe/([^/]+)/$", url).group(1)
    assert read_token(token, UNSUBSCRIBE).subscriber_id == ada.pk
    assert token in mailto
    assert _header(ada_mail, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert _header(ada_mail, "List-Id").startswith("Paperboy daily digest <daily.digest.")
    assert url in ada_mail["HtmlBody"] and url in ada_mail["TextBody"]
    assert url not in payloads["bob@example.org"]["HtmlBody"]
    assert ada_mail["Tag"] == "digest-daily"
    delivery = Delivery.objects.get(subscriber=ada)
    assert ada_mail["Metadata"] == {
        "edition_id": str(edition.pk),
        "subscriber_id": str(ada.pk),
        "delivery_id": str(delivery.pk),
    }
    assert ada_mail["TrackOpens"] is True
    assert delivery.status == "sent" and delivery.esp_message_id
    assert len(delivery.paper_ids) == 10


def test_it_shows_everything_a_reader_needs_in_both_parts(postmark, edition):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    send_to(edition, SubscriberFactory(papers_per_email=5))
    mail = sent_payloads(postmark)[0]
    first = edition.entries.select_related("paper").first()
    repo = first.paper.code_links.get().repository
    for part in (mail["TextBody"], mail["HtmlBody"]):
        assert "Noise2Recon" in part
        assert "Ada Lovelace, Alan Turing" in part
        assert first.reason in part
        assert repo.url in part
        assert "★ 100" in part
        assert "/digests/mine/" in part  # the reader's own copy on the web
        assert "/preferences/" in part
    assert "<table" in mail["HtmlBody"] and 'style="' in mail["HtmlBody"]  # CSS inlined
    assert "prefers-color-scheme: dark" in mail["HtmlBody"]


def test_it_keeps_the_html_part_under_gmails_clipping_size(postmark):
    make_trending(30, abstract="word " * 2000, title="A very long title " * 10)
    edition = edition_get_or_compose(day=DAY, kind=Kind.DAILY)[0]
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    send_to(edition, SubscriberFactory(papers_per_email=30))
    html = sent_payloads(postmark)[0]["HtmlBody"]
    assert html.count('class="title"') == 30
    assert len(html.encode()) < 100 * 1024


def test_it_sends_plain_text_to_readers_who_chose_it(postmark, edition):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    send_to(edition, SubscriberFactory(email_format=Subscriber.Format.TEXT))
    mail = sent_payloads(postmark)[0]
    assert "HtmlBody" not in mail and "Noise2Recon" in mail["TextBody"]


def test_it_batches_one_call_per_distinct_digest_on_the_bulk_api(bulk, edition):
    readers = [SubscriberFactory() for _ in range(3)]
    five = SubscriberFactory(papers_per_email=5)

    result = send_to(edition, *readers, five)

    assert result.sent == 4
    calls = sent_payloads(bulk, "/email/bulk")
    assert len(calls) == 2  # two distinct digests: ten papers, and five papers
    big = next(c for c in calls if len(c["Messages"]) == 3)
    assert "{{unsubscribe_url}}" in big["HtmlBody"] and "{{manage_url}}" in big["TextBody"]
    assert "PBMERGE" not in big["HtmlBody"]
    by_to = {m["To"]: m for m in big["Messages"]}
    for reader in readers:
        message = by_to[reader.email]
        link = message["TemplateModel"]["unsubscribe_url"]
        assert (
            read_token(link.rstrip("/").rsplit("/", 1)[1], UNSUBSCRIBE).subscriber_id == reader.pk
        )
        assert message["Headers"] == [
            {"Name": "List-Id", "Value": mock.ANY},
            {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
            {"Name": "List-Unsubscribe", "Value": mock.ANY},
        ]
        assert message["Headers"][-1]["Value"].startswith(f"<{link}>, <mailto:")
        delivery = Delivery.objects.get(subscriber=reader)
        assert message["Metadata"]["delivery_id"] == str(delivery.pk)
        assert delivery.esp_message_id == message["Metadata"]["anymail_id"]


def test_it_keeps_latex_braces_from_being_read_as_merge_fields(bulk):
    make_trending(3, title="Bounds on {{x}} in $\\mathbb{R}^{{n}}$")
    edition = edition_get_or_compose(day=DAY, kind=Kind.DAILY)[0]
    send_to(edition, SubscriberFactory())
    body = sent_payloads(bulk, "/email/bulk")[0]
    assert "{{x}}" not in body["TextBody"] and "{\u200b{x}\u200b}" in body["TextBody"]
    assert "{{x}}" not in body["Subject"]


def test_it_renders_once_per_edition_not_per_reader(postmark, edition):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    from django.test.signals import template_rendered

    readers = [SubscriberFactory() for _ in range(6)] + [SubscriberFactory(papers_per_email=5)]
    rendered = []

    def count(sender, template, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(count)
    try:
        send_to(edition, *readers)
    finally:
        template_rendered.disconnect(count)
    # The HTML and the text template once, with every paper of the edition in them.
    assert sorted(n for n in rendered if "digest-body" in n) == [
        "emails/digest-body.html",
        "emails/digest-body.txt",
    ]
    assert len(postmark.calls) == 7


def test_it_uses_a_bounded_number_of_queries_whatever_the_chunk_size(bulk, edition):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from digests.services import digest_fan_out

    # Same three distinct digests (5, 6 and 7 papers) for 6 readers and for 40: the same
    # number of ESP calls, so the same number of queries.
    few = [SubscriberFactory(papers_per_email=5 + i % 3) for i in range(6)]
    many = [SubscriberFactory(papers_per_email=5 + i % 3) for i in range(40)]
    from digests.services import reader

    reader.vocabulary_current()  # built once, by the first send of all (or nightly)
    counts = []
    for group in (few, many):
        rendering.clear_caches()
        ids = [s.pk for s in group]
        digest_fan_out(
            edition=edition, subscribers=Subscriber.objects.filter(pk__in=ids), enqueue=lambda *a: 0
        )
        with CaptureQueriesContext(connection) as queries:
            delivery_send_chunk(edition=edition, subscriber_ids=ids)
        counts.append(len(queries))
    assert counts[0] == counts[1] < 40
    assert len(sent_payloads(bulk, "/email/bulk")) == 6
    assert Delivery.objects.filter(status="sent").count() == 46


def test_it_loads_what_every_kind_of_reader_needs_in_a_constant_number_of_queries(bulk, edition):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from digests.services import digest_fan_out, reader
    from papers.models import Paper, Topic
    from tests.factories import UserFactory

    topic = Topic.objects.create(slug="vision", name="Vision")
    for paper in Paper.objects.all():
        paper.topics.add(topic)

    def shapes():
        readers = [
            SubscriberFactory(email_format=Subscriber.Format.TEXT),
            SubscriberFactory(keywords_include=["framework"], keywords_exclude=["audio"]),
            SubscriberFactory(only_with_code=True, ranking=Subscriber.Ranking.TRENDING),
            SubscriberFactory(user=UserFactory(), papers_per_email=5),
        ]
        readers[0].topics.add(topic)
        return readers

    reader.vocabulary_current()
    counts = []
    for copies in (1, 3):
        rendering.clear_caches()
        ids = [s.pk for _ in range(copies) for s in shapes()]
        digest_fan_out(
            edition=edition, subscribers=Subscriber.objects.filter(pk__in=ids), enqueue=lambda *a: 0
        )
        with CaptureQueriesContext(connection) as queries:
            result = delivery_send_chunk(edition=edition, subscriber_ids=ids)
        assert result.sent == len(ids)
        counts.append(len(queries))
    # A column the send reads but does not load would cost one query per reader.
    assert counts[0] == counts[1]


def test_it_never_sends_twice_when_a_chunk_task_runs_twice(postmark, edition):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    readers = [SubscriberFactory() for _ in range(3)]
    send_to(edition, *readers)
    ids = [r.pk for r in readers]
    send_digest_chunk.delay(edition.pk, ids)
    send_digest_chunk.delay(edition.pk, ids)
    send_to(edition, *readers)  # a rerun of the whole fan-out
    assert len(postmark.calls) == 3
    assert Delivery.objects.filter(status="sent").count() == 3
    edition.refresh_from_db()
    assert edition.sent_count == 3 and edition.status == Edition.Status.SENT


def test_its_claim_takes_only_rows_still_pending(edition):
    # A chunk plans its calls from the rows it read as pending; a duplicate task may send
    # them before this one claims. The claim itself must then take nothing.
    from digests.services.deliveries import delivery_claim

    rows = {
        status: Delivery.objects.create(
            edition=edition, subscriber=SubscriberFactory(), status=status
        )
        for status in ("pending", "sending", "sent", "failed")
    }
    claimed = delivery_claim(delivery_ids=[d.pk for d in rows.values()])
    assert claimed == {rows["pending"].pk}
    assert dict(Delivery.objects.values_list("pk", "status")) == {
        rows["pending"].pk: "sending",
        rows["sending"].pk: "sending",
        rows["sent"].pk: "sent",
        rows["failed"].pk: "failed",
    }


def test_it_leaves_rows_claimed_by_another_worker_alone(postmark, edition):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    reader = SubscriberFactory()
    from digests.services import digest_fan_out

    digest_fan_out(edition=edition, subscribers=Subscriber.objects.all(), enqueue=lambda *a: 0)
    Delivery.objects.update(status=Delivery.Status.SENDING)  # a worker died after claiming
    delivery_send_chunk(edition=edition, subscriber_ids=[reader.pk])
    assert len(postmark.calls) == 0


def test_it_retries_a_failing_esp_and_sends_once_it_recovers(postmark, edition):
    failures = iter([503, 500])

    def flaky(request):
        status = next(failures, None)
        if status:
            return status, {}, json.dumps(recorded("postmark_server_error.json"))
        return postmark_ok(request)

    postmark.add_callback("POST", f"{POSTMARK}/email", callback=flaky)
    SubscriberFactory()
    SubscriberFactory()
    from digests.services import digest_fan_out

    with mock.patch("digests.services.backoff_seconds", return_value=0) as backoff:
        digest_fan_out(
            edition=edition,
            subscribers=Subscriber.objects.all(),
            enqueue=lambda pk, ids: run_like_a_broker(send_digest_chunk, pk, ids),
        )
    assert backoff.call_count == 2
    assert len(postmark.calls) == 4  # two refused, then one per reader
    # The first reader's call was claimed three times; the second reader's once.
    assert sorted(Delivery.objects.values_list("status", "attempts")) == [
        ("sent", 1),
        ("sent", 3),
    ]


def test_it_marks_the_chunk_failed_when_the_esp_stays_down(postmark, edition, settings):
    postmark.add(
        "POST", f"{POSTMARK}/email", json=recorded("postmark_server_error.json"), status=500
    )
    SubscriberFactory()
    from digests.services import digest_fan_out

    with mock.patch("digests.services.backoff_seconds", return_value=0):
        digest_fan_out(
            edition=edition,
            subscribers=Subscriber.objects.all(),
            enqueue=lambda pk, ids: run_like_a_broker(send_digest_chunk, pk, ids),
        )
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and "500" in delivery.error
    edition.refresh_from_db()
    assert edition.status == Edition.Status.FAILED and edition.failed_count == 1
    assert len(postmark.calls) == settings.DIGEST_MAX_RETRIES + 1


def test_it_reads_the_retry_limit_when_the_task_runs(postmark, edition, settings):
    settings.DIGEST_MAX_RETRIES = 1
    postmark.add(
        "POST", f"{POSTMARK}/email", json=recorded("postmark_server_error.json"), status=500
    )
    SubscriberFactory()
    from digests.services import digest_fan_out

    with mock.patch("digests.services.backoff_seconds", return_value=0):
        digest_fan_out(
            edition=edition,
            subscribers=Subscriber.objects.all(),
            enqueue=lambda pk, ids: run_like_a_broker(send_digest_chunk, pk, ids),
        )
    assert len(postmark.calls) == 2
    assert Delivery.objects.get().status == "failed"


def test_it_records_a_permanent_rejection_with_the_esps_reason(postmark, edition):
    postmark.add(
        "POST", f"{POSTMARK}/email", json=recorded("postmark_inactive_recipient.json"), status=422
    )
    reader = SubscriberFactory(email="reader@example.org")
    result = send_to(edition, reader)
    delivery = Delivery.objects.get(subscriber=reader)
    assert result.failed == 1 and delivery.status == "failed"
    assert "rejected" in delivery.error or "inactive" in delivery.error
    assert len(postmark.calls) == 1


def test_it_skips_a_reader_who_left_between_fan_out_and_send(postmark, edition):
    reader = SubscriberFactory()
    from digests.services import digest_fan_out

    digest_fan_out(edition=edition, subscribers=Subscriber.objects.all(), enqueue=lambda *a: 0)
    Subscriber.objects.filter(pk=reader.pk).update(status=Subscriber.Status.UNSUBSCRIBED)
    delivery_send_chunk(edition=edition, subscriber_ids=[reader.pk])
    assert Delivery.objects.get().skip_reason == "inactive"
    assert len(postmark.calls) == 0


def test_it_never_sends_anything_to_the_real_network(edition, settings):
    # The default backend in tests writes .eml files; no HTTP happens at all.
    with responses.RequestsMock() as nothing:
        result = send_to(edition, SubscriberFactory())
    assert result.sent == 1 and len(nothing.calls) == 0


# --- Crash safety at the ESP call --------------------------------------------------------


def test_it_never_resends_a_reader_an_earlier_call_reached_when_a_later_call_fails(
    postmark, edition
):
    """Reader A's call is accepted, reader B's gets a 503: the retry sends B only."""
    answers = iter(["ok", 503, "ok"])

    def esp(request):
        answer = next(answers)
        if answer == 503:
            return 503, {}, json.dumps(recorded("postmark_server_error.json"))
        return postmark_ok(request)

    postmark.add_callback("POST", f"{POSTMARK}/email", callback=esp)
    a, b = SubscriberFactory(email="a@example.org"), SubscriberFactory(email="b@example.org")
    from digests.services import digest_fan_out

    with mock.patch("digests.services.backoff_seconds", return_value=0):
        digest_fan_out(
            edition=edition,
            subscribers=Subscriber.objects.filter(pk__in=[a.pk, b.pk]),
            enqueue=lambda pk, ids: run_like_a_broker(send_digest_chunk, pk, ids),
        )
    assert [p["To"] for p in sent_payloads(postmark)] == [
        "a@example.org",
        "b@example.org",
        "b@example.org",
    ]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_it_claims_only_the_readers_of_the_call_being_made(postmark, edition):
    """Inside each ESP call, the rows it carries are "sending" and nobody else's are."""
    readers = [SubscriberFactory() for _ in range(3)]
    seen = []

    def esp(request):
        to = json.loads(request.body)["To"]
        seen.append(dict(Delivery.objects.values_list("subscriber__email", "status")))
        assert seen[-1][to] == "sending"
        return postmark_ok(request)

    postmark.add_callback("POST", f"{POSTMARK}/email", callback=esp)
    send_to(edition, *readers)
    assert len(seen) == 3
    for index, statuses in enumerate(seen):
        mine = readers[index].email
        assert statuses[mine] == "sending"
        # Earlier readers are marked sent; later ones are still pending (not claimed yet).
        assert [statuses[r.email] for r in readers[:index]] == ["sent"] * index
        assert [statuses[r.email] for r in readers[index + 1 :]] == ["pending"] * (2 - index)


def test_it_marks_a_bulk_calls_readers_sending_during_the_call(bulk, edition):
    readers = [SubscriberFactory() for _ in range(3)]
    statuses = []

    def esp(request):
        statuses.append(set(Delivery.objects.values_list("status", flat=True)))
        return 200, {}, json.dumps(recorded("postmark_bulk_accepted.json"))

    bulk.remove(responses.POST, f"{POSTMARK}/email/bulk")  # the fixture's plain answer
    bulk.add_callback("POST", f"{POSTMARK}/email/bulk", callback=esp)
    send_to(edition, *readers)
    assert statuses == [{"sending"}]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_it_claims_one_batch_per_call_in_bulk_mode(bulk, edition, settings):
    settings.DIGEST_BATCH_SIZE = 2
    readers = [SubscriberFactory() for _ in range(5)]
    during = []

    def esp(request):
        during.append(Delivery.objects.filter(status="sending").count())
        return 200, {}, json.dumps(recorded("postmark_bulk_accepted.json"))

    bulk.remove(responses.POST, f"{POSTMARK}/email/bulk")
    bulk.add_callback("POST", f"{POSTMARK}/email/bulk", callback=esp)
    send_to(edition, *readers)
    assert during == [2, 2, 1]
    assert sorted(len(c["Messages"]) for c in sent_payloads(bulk, "/email/bulk")) == [1, 2, 2]


# --- Escaping -----------------------------------------------------------------------------

NASTY_TITLE = "Attention <script>alert(1)</script> & <b>bold</b> claims"
NASTY_ABSTRACT = "We show that x < y & y > z, <i>surprisingly</i>."


def test_it_escapes_titles_and_abstracts_in_html_and_keeps_text_literal(postmark):
    make_trending(2, title=NASTY_TITLE, abstract=NASTY_ABSTRACT)
    edition = edition_get_or_compose(day=DAY, kind=Kind.DAILY)[0]
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    send_to(edition, SubscriberFactory())
    mail = sent_payloads(postmark)[0]
    html, text = mail["HtmlBody"], mail["TextBody"]
    assert "<script>" not in html and "<b>bold" not in html and "<i>surprisingly" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "x &lt; y &amp; y &gt; z, &lt;i&gt;surprisingly&lt;/i&gt;." in html
    assert "Attention <script>alert(1)</script> & <b>bold</b> claims 0" in text
    assert "x < y & y > z, <i>surprisingly</i>." in text
    assert "&amp;" not in text and "&lt;" not in text
    assert mail["Subject"].endswith("<script>alert(1)</script> & <b>bold</b> claims 0")


# --- Postmark: broadcast stream, Bulk API by default, /email/batch when refused ----------


def test_it_sends_digests_through_postmarks_bulk_api_and_broadcast_stream_by_default(bulk, edition):
    send_to(edition, SubscriberFactory(), SubscriberFactory())
    call = sent_payloads(bulk, "/email/bulk")[0]
    assert call["MessageStream"] == "broadcast"
    assert len(call["Messages"]) == 2


def test_it_keeps_confirmations_on_the_transactional_stream(
    postmark_default, client, django_capture_on_commit_callbacks
):
    postmark_default.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/subscribe/", {"email": "new@example.org"})
    assert response.status_code in (200, 302)
    payloads = sent_payloads(postmark_default)
    assert len(payloads) == 1 and payloads[0]["To"] == "new@example.org"
    assert "MessageStream" not in payloads[0]  # Postmark's default: the transactional stream


# A refusal of the Bulk API is not documented by Postmark (it is enabled per account on
# request); this answer is synthetic. Any whole-call 4xx but 401 and 429 counts as one.
BULK_REFUSED = {"ErrorCode": 605, "Message": "Bulk API is not enabled for this server."}


def test_it_falls_back_to_email_batch_when_the_bulk_api_is_refused_and_remembers(
    postmark_default, edition, caplog, client
):
    postmark_default.add("POST", f"{POSTMARK}/email/bulk", json=BULK_REFUSED, status=422)
    postmark_default.add_callback("POST", f"{POSTMARK}/email/batch", callback=postmark_batch_ok)
    ada, bob = (
        SubscriberFactory(email="ada@example.org"),
        SubscriberFactory(email="bob@example.org"),
    )

    result = send_to(edition, ada, bob)

    assert result.sent == 2
    batch = sent_payloads(postmark_default, "/email/batch")
    assert len(batch) == 1 and [m["To"] for m in batch[0]] == [ada.email, bob.email]
    for message, reader in zip(batch[0], (ada, bob), strict=True):
        unsubscribe = _header(message, "List-Unsubscribe")
        link = re.match(r"<([^>]+)>", unsubscribe).group(1)
        assert link in message["HtmlBody"] and link in message["TextBody"]  # merged here
        assert "PBMERGE" not in message["HtmlBody"] and "{{" not in message["TextBody"]
        assert message["MessageStream"] == "broadcast"
        assert message["Metadata"]["delivery_id"] == str(Delivery.objects.get(subscriber=reader).pk)
    assert "refused the Bulk API" in caplog.text

    # Remembered: the next send goes straight to /email/batch.
    more = SubscriberFactory()
    send_to(edition, more)
    assert len(sent_payloads(postmark_default, "/email/bulk")) == 1
    assert len(sent_payloads(postmark_default, "/email/batch")) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}

    # And the admin says so.
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get("/admin/digests/edition/").content.decode()
    assert "Postmark refused the Bulk API" in page and "/email/batch" in page


def test_it_puts_at_most_500_readers_in_one_email_batch_call(postmark_default, edition, settings):
    from digests import sending

    settings.DIGEST_BATCH_SIZE = 1000
    sending._remember_bulk_refused("refused in an earlier run")
    postmark_default.add_callback("POST", f"{POSTMARK}/email/batch", callback=postmark_batch_ok)
    connection = sending.digest_connection()
    assert sending.send_mode(connection) == sending.Mode("batch", 500)


def test_it_batches_through_mailgun_with_recipient_variables(settings, edition):
    """Another ESP's batch path, through Anymail's Mailgun backend (HTTP mocked)."""
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {"MAILGUN_API_KEY": "key-test", "MAILGUN_SENDER_DOMAIN": "mg.example.org"}
    settings.DIGEST_MERGE_FIELD_FORMAT = "%recipient.{name}%"
    readers = [SubscriberFactory() for _ in range(3)]
    with responses.RequestsMock() as mailgun:
        mailgun.add(
            "POST",
            "https://api.mailgun.net/v3/mg.example.org/messages",
            json={"id": "<20261127070001.1.ABC@mg.example.org>", "message": "Queued. Thank you."},
        )
        result = send_to(edition, *readers)
        assert result.sent == 3 and len(mailgun.calls) == 1
        form = parse_qs(mailgun.calls[0].request.body)
    assert "%recipient.unsubscribe_url%" in form["html"][0]
    assert "%recipient.web_url%" in form["text"][0]
    variables = json.loads(form["recipient-variables"][0])
    assert set(variables) == {r.email for r in readers}
    for reader in readers:
        link = variables[reader.email]["unsubscribe_url"]
        token = link.rstrip("/").rsplit("/", 1)[1]
        assert read_token(token, UNSUBSCRIBE).subscriber_id == reader.pk
        assert "/digests/mine/" in variables[reader.email]["web_url"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_it_reads_chunk_size_and_candidates_when_it_runs(settings):
    from digests.services import digest_fan_out

    settings.DIGEST_CANDIDATES = 3
    settings.DIGEST_CHUNK_SIZE = 2
    make_trending(6)
    edition = edition_get_or_compose(day=DAY, kind=Kind.DAILY)[0]
    assert edition.entries.count() == 3
    for _ in range(5):
        SubscriberFactory()
    chunks = []
    digest_fan_out(
        edition=edition,
        subscribers=Subscriber.objects.all(),
        enqueue=lambda _pk, ids: chunks.append(ids),
    )
    assert [len(ids) for ids in chunks] == [2, 2, 1]


def test_it_puts_readers_who_get_the_same_digest_in_the_same_chunk(bulk, edition, settings):
    from digests.services import digest_fan_out

    settings.DIGEST_CHUNK_SIZE = 3
    # Signed up alternately, so chunks cut by primary key would mix the two digests.
    readers = [SubscriberFactory(papers_per_email=(5, 10)[i % 2]) for i in range(6)]
    chunks = []
    digest_fan_out(
        edition=edition,
        subscribers=Subscriber.objects.all(),
        enqueue=lambda _pk, ids: chunks.append(ids),
    )
    by_id = {r.pk: r.papers_per_email for r in readers}
    assert [sorted({by_id[pk] for pk in ids}) for ids in chunks] == [[5], [10]]
    for ids in chunks:
        delivery_send_chunk(edition=edition, subscriber_ids=ids)
    # One call per chunk: cut by primary key, each chunk would take two.
    assert len(sent_payloads(bulk, "/email/bulk")) == 2
    assert Delivery.objects.filter(status="sent").count() == 6


def test_it_puts_readers_of_the_same_topic_in_the_same_chunk(edition, settings):
    from digests.services import digest_fan_out
    from tests.factories import TopicFactory

    settings.DIGEST_CHUNK_SIZE = 3
    vision = TopicFactory(slug="vision")
    readers = [SubscriberFactory() for _ in range(6)]
    for reader in readers[::2]:  # signed up alternately: every other reader follows a topic
        reader.topics.add(vision)
    chunks = []
    digest_fan_out(
        edition=edition,
        subscribers=Subscriber.objects.all(),
        enqueue=lambda _pk, ids: chunks.append(ids),
    )
    following = {r.pk for r in readers[::2]}
    assert [{pk in following for pk in ids} for ids in chunks] == [{False}, {True}]
