"""The digest joined from pieces per reader is the digest the template renders in full,
and no template is rendered per reader."""

import datetime as dt
import random
from unittest import mock

import pytest
import time_machine
from django.test.signals import template_rendered

from digests import rendering, sending
from digests.models import Kind
from digests.services import edition_get_or_compose
from tests.digests.conftest import make_trending, send_to
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 27)
# Whatever a title, reason or update may hold that escaping or the inliner could change.
TRICKY = "Q&A <b>bold</b> \"quoted\" 'single' a\xa0b {{x}} ·…"
REASONS = ["", "Because you saved " + TRICKY, "Matches your interests: sparse attention", ""]
UPDATES = (
    (7, "Code for " + TRICKY, "its first repository: o/r <3", 'https://x.org/p?a=1&b="2"'),
    (9, "A long title " * 9, "new version v2", "https://x.org/q"),
)


@pytest.fixture
def edition():
    papers = make_trending(12, title=TRICKY + " a long enough title to wrap in the text part")
    for paper in papers[::3]:
        paper.authors = ["Ann <Lee>", "Bob & Co"]
        paper.save()
    return edition_get_or_compose(day=DAY, kind=Kind.DAILY)[0]


def _full(edition, paper_ids, reasons, updates, html):
    entries = rendering.edition_entries(edition)
    personal = dict(zip(paper_ids, reasons, strict=False))
    chosen = [
        rendering.replace(entries[pk], personal_reason=personal.get(pk) or "") for pk in paper_ids
    ]
    return rendering.render_digest(
        edition, chosen, html=html, links=sending.placeholders(), updates=updates
    )


def test_a_joined_digest_is_the_full_render_for_any_order_reasons_and_updates(edition):
    ids = list(rendering.edition_entries(edition))
    rng = random.Random(7)
    for count in (1, 2, 5, 10, len(ids)):
        for html in (True, False):
            paper_ids = tuple(rng.sample(ids, count))
            reasons = tuple(rng.choice(REASONS) for _ in paper_ids)
            updates = UPDATES[: rng.randint(0, 2)]
            joined = rendering.rendered_for(
                edition,
                paper_ids,
                html=html,
                links=sending.placeholders(),
                reasons=reasons,
                updates=updates,
            )
            full = _full(edition, paper_ids, reasons, updates, html)
            assert (joined.subject, joined.text, joined.html) == (
                full.subject,
                full.text,
                full.html,
            )
            assert "".join(joined.text_parts) == joined.text
            assert "PBCUT" not in joined.text and "PBSLOT" not in joined.text


def test_it_escapes_what_a_reader_brings_as_the_template_does(edition):
    paper_ids = tuple(list(rendering.edition_entries(edition))[:2])
    joined = rendering.rendered_for(
        edition,
        paper_ids,
        html=True,
        links=sending.placeholders(),
        reasons=("Because you saved <script>x</script>", ""),
        updates=((1, "<i>t</i>", "d & e", 'https://x.org/?a="1"'),),
    )
    assert "<script>" not in joined.html and "&lt;script&gt;x&lt;/script&gt;" in joined.html
    assert "<b>bold" not in joined.html and "Q&amp;A &lt;b&gt;bold&lt;/b&gt;" in joined.html
    assert "&lt;i&gt;t&lt;/i&gt;" in joined.html and "d &amp; e" in joined.html
    assert 'href="https://x.org/?a=&quot;1&quot;"' in joined.html


def test_it_renders_templates_per_edition_never_per_reader(edition):
    # Twelve papers, forty readers, each with their own order: the template is rendered
    # (and its CSS inlined) for the edition, not for each reader.
    rng = random.Random(3)
    readers = [SubscriberFactory(papers_per_email=rng.randint(3, 12)) for _ in range(40)]
    ids = list(rendering.edition_entries(edition))
    orders = {}

    def own_order(*, edition, subscribers, candidates):
        from digests.selection import Choice, ChosenPaper

        for subscriber in subscribers:
            order = rng.sample(ids, subscriber.papers_per_email)
            orders[subscriber.pk] = order
        return {
            s.pk: Choice(papers=tuple(ChosenPaper(pk, "", "For you") for pk in orders[s.pk]))
            for s in subscribers
        }

    rendered = []

    def count(sender, template, context, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(count)
    try:
        with (
            mock.patch("digests.selection.choices_for", own_order),
            mock.patch("digests.rendering.inline_css", wraps=rendering.inline_css) as inlined,
        ):
            result = send_to(edition, *readers)
    finally:
        template_rendered.disconnect(count)
    assert result.sent == 40 and len({tuple(o) for o in orders.values()}) == 40
    digest = [name for name in rendered if name.startswith("emails/digest-body")]
    assert sorted(digest) == ["emails/digest-body.html", "emails/digest-body.txt"]
    assert inlined.call_count == 1


def _own_orders(ids, rng):
    """A stand-in for the relevance model: every reader their own order and reasons."""

    def choices_for(*, edition, subscribers, candidates):
        from digests.selection import Choice, ChosenPaper

        return {
            s.pk: Choice(
                papers=tuple(
                    ChosenPaper(pk, "", rng.choice(REASONS))
                    for pk in rng.sample(ids, s.papers_per_email)
                )
            )
            for s in subscribers
        }

    return choices_for


def test_one_bulk_call_carries_readers_with_their_own_orders(edition, postmark_default):
    from digests.models import Delivery
    from digests.sending import _mustache_protect
    from tests.digests.conftest import POSTMARK, bulk_merged, recorded, sent_payloads

    postmark_default.add(
        "POST", f"{POSTMARK}/email/bulk", json=recorded("postmark_bulk_accepted.json"), status=200
    )
    rng = random.Random(5)
    readers = [SubscriberFactory(papers_per_email=rng.randint(2, 12)) for _ in range(8)]
    readers += [SubscriberFactory(papers_per_email=4, email_format="text") for _ in range(3)]
    ids = list(rendering.edition_entries(edition))
    with mock.patch("digests.selection.choices_for", _own_orders(ids, rng)):
        result = send_to(edition, *readers)

    assert result.sent == 11
    calls = sent_payloads(postmark_default, "/email/bulk")
    assert sorted(len(c["Messages"]) for c in calls) == [3, 8]  # HTML readers, text readers
    copies = {to: copy for call in calls for to, copy in bulk_merged(call).items()}
    models = {m["To"]: m["TemplateModel"] for c in calls for m in c["Messages"]}
    for reader in readers:
        html = reader.email_format != "text"
        delivery = Delivery.objects.get(subscriber=reader)
        links = {name: models[reader.email][name] for name in sending.MERGE_FIELDS}
        own = rendering.rendered_for(
            edition,
            tuple(delivery.paper_ids),
            html=html,
            links=sending.placeholders(),
            reasons=tuple(delivery.reasons),
        )
        subject, text, html_part = sending.merged(own, links)
        expected = {"Subject": _mustache_protect(subject), "TextBody": _mustache_protect(text)}
        if html:
            expected["HtmlBody"] = _mustache_protect(html_part)
        assert copies[reader.email] == expected


@time_machine.travel(dt.datetime(2026, 11, 27, 8, tzinfo=dt.UTC), tick=False)
def test_readers_with_their_own_orders_get_their_own_copy_through_email_batch(
    edition, postmark_default
):
    # Time stands still: the links signed again below carry the same timestamp.
    from digests.models import Delivery
    from tests.digests.conftest import POSTMARK, postmark_batch_ok, sent_payloads

    postmark_default.add(
        "POST", f"{POSTMARK}/email/bulk", json={"ErrorCode": 605, "Message": "no"}, status=422
    )
    postmark_default.add_callback("POST", f"{POSTMARK}/email/batch", callback=postmark_batch_ok)
    rng = random.Random(9)
    readers = [SubscriberFactory(papers_per_email=rng.randint(2, 12)) for _ in range(5)]
    ids = list(rendering.edition_entries(edition))
    with mock.patch("digests.selection.choices_for", _own_orders(ids, rng)):
        result = send_to(edition, *readers)

    assert result.sent == 5
    [batch] = sent_payloads(postmark_default, "/email/batch")
    for message in batch:
        delivery = Delivery.objects.get(pk=message["Metadata"]["delivery_id"])
        own = rendering.rendered_for(
            edition,
            tuple(delivery.paper_ids),
            html=True,
            links=sending.placeholders(),
            reasons=tuple(delivery.reasons),
        )
        recipient = sending.recipient_for(delivery.pk, delivery.subscriber)
        subject, text, html = sending.merged(own, recipient.links)
        assert (message["Subject"], message["TextBody"], message["HtmlBody"]) == (
            subject,
            text,
            html,
        )
    assert len({m["Subject"] for m in batch}) > 1
