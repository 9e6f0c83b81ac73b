import datetime as dt
import json
import re
from unittest import mock

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
def bulk(postmark, settings):
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "test-server-token", "POSTMARK_USE_BULK_API": True}
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
        assert f"/digests/daily/{DAY.isoformat()}/" in part
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


def test_it_renders_once_per_distinct_digest_not_per_reader(postmark, edition):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    readers = [SubscriberFactory() for _ in range(6)] + [SubscriberFactory(papers_per_email=5)]
    with mock.patch("digests.rendering.render_parts", wraps=rendering.render_parts) as render:
        send_to(edition, *readers)
    assert render.call_count == 2
    assert len(postmark.calls) == 7


def test_it_uses_a_bounded_number_of_queries_whatever_the_chunk_size(
    bulk, edition, django_assert_max_num_queries
):
    few = [SubscriberFactory(papers_per_email=5 + i % 3) for i in range(3)]
    many = [SubscriberFactory(papers_per_email=5 + i % 3) for i in range(40)]
    Edition.objects.filter(pk=edition.pk)  # warm nothing: both runs start cold
    from digests.services import digest_fan_out

    for group in (few, many):
        rendering.clear_caches()
        ids = [s.pk for s in group]
        digest_fan_out(
            edition=edition, subscribers=Subscriber.objects.filter(pk__in=ids), enqueue=lambda *a: 0
        )
        with django_assert_max_num_queries(20):
            delivery_send_chunk(edition=edition, subscriber_ids=ids)
    assert Delivery.objects.filter(status="sent").count() == 43


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
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 3)}


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
    assert len(postmark.calls) == send_digest_chunk.max_retries + 1


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
