"""More like this / Less like this end to end on a real worker: yesterday's digest goes out
through the real Postmark backend (HTTP mocked), the reader follows the link in the message
Postmark received and POSTs it, the worker retrains their model, and today's digest, also
sent by the worker, carries their own order. In one-by-one and in bulk mode."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from digests.models import Delivery, Kind, ReaderModel
from digests.services import digest_fan_out, reader
from digests.services.compose import edition_get_or_compose
from digests.tasks import _enqueue
from papers.models import Trend, Window
from subscriptions.models import Subscriber
from tests.digests.conftest import POSTMARK, postmark_ok, recorded, sent_payloads, wait_for
from tests.factories import PaperFactory, SubscriberFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CHUNK = "digests.tasks.send_digest_chunk"
TRAIN = "digests.tasks.train_reader_models"
SPARSE = "Sparse attention kernels for long context transformers"
UNRELATED = [
    ("Protein folding with graph networks", "Molecular graph networks predict protein folds."),
    ("Speech recognition for low-resource languages", "Self-supervised speech encoders."),
    ("Weather forecasting with diffusion", "Diffusion models forecast weather fields."),
]
# Today's trending order alternates unrelated and sparse-attention papers.
TODAY_ORDER = ["u0", "s0", "u1", "s1", "u2", "s2"]


@pytest.fixture
def papers():
    made = {"liked": PaperFactory(title=f"{SPARSE}: the original", abstract="Sparse attention.")}
    for rank in range(3):
        made[f"u{rank}"] = PaperFactory(title=UNRELATED[rank][0], abstract=UNRELATED[rank][1])
        made[f"s{rank}"] = PaperFactory(
            title=f"{SPARSE}, part {rank}", abstract="Sparse attention makes long context cheap."
        )
    reader.vocabulary_build()
    return made


def _trending(papers, keys):
    """Make `keys` the trending list, best first (scores newer than every paper change,
    so composing keeps them)."""
    Trend.objects.all().delete()
    for position, key in enumerate(keys):
        Trend.objects.create(
            paper=papers[key],
            window=Window.TODAY,
            score=100 - position,
            reason=f"+{50 - position} stars in 24 h",
            computed_at=timezone.now(),
        )


def _send_on_worker(day, readers, finished_tasks):
    """Compose `day`'s edition and fan it out to the worker in chunk tasks, as the beat
    does; wait for those chunks to finish."""
    edition, _ = edition_get_or_compose(day=day, kind=Kind.DAILY)
    before = finished_tasks.count(CHUNK)
    chunks = digest_fan_out(
        edition=edition,
        subscribers=Subscriber.objects.filter(pk__in=[r.pk for r in readers]),
        enqueue=_enqueue,
    )
    assert chunks
    assert wait_for(lambda: finished_tasks.count(CHUNK) > before)
    assert wait_for(lambda: not Delivery.objects.filter(edition=edition, status="pending").exists())
    return edition


def _received(mock) -> dict[str, str]:
    """{recipient: text part} as readers get it from what Postmark received: a bulk
    call's text with each message's merge fields filled in, as Postmark fills them."""
    found = {}
    for mail in sent_payloads(mock, "/email"):
        found[mail["To"]] = mail["TextBody"]
    for call in sent_payloads(mock, "/email/bulk"):
        for message in call["Messages"]:
            text = call["TextBody"]
            for name, value in message["TemplateModel"].items():
                text = text.replace("{{" + name + "}}", value)
            found[message["To"]] = text
    return found


def _order(text: str, papers) -> list[str]:
    titles = {p.title: key for key, p in papers.items()}
    found = [(text.index(title), key) for title, key in titles.items() if title in text]
    return [key for _, key in sorted(found)]


def _click(client, text: str, label: str) -> None:
    """Follow a feedback link from the mail: GET (the page), then POST its button."""
    link = re.search(rf"{label}: (\S+)", text).group(1)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 200


def _more_and_less_end_to_end(client, mock, papers, finished_tasks):
    ada = SubscriberFactory(papers_per_email=5, email="ada@example.org")
    bob = SubscriberFactory(papers_per_email=5, email="bob@example.org")
    cold = SubscriberFactory(papers_per_email=6, email="cold@example.org")
    today = timezone.localdate()

    # Yesterday's digest carried the paper they react to.
    _trending(papers, ["liked"])
    _send_on_worker(today - dt.timedelta(days=1), [ada, bob, cold], finished_tasks)
    yesterday = _received(mock)
    assert _order(yesterday[ada.email], papers) == ["liked"]

    # The signals retrain each reader's model on the worker, once the POST has committed.
    _click(client, yesterday[ada.email], "More like this")
    _click(client, yesterday[bob.email], "Less like this")
    assert wait_for(lambda: finished_tasks.count(TRAIN) >= 2)
    assert wait_for(lambda: ReaderModel.objects.filter(stale=False).count() == 2)

    _trending(papers, TODAY_ORDER)
    _send_on_worker(today, [ada, bob, cold], finished_tasks)
    received = _received(mock)

    ada_order = _order(received[ada.email], papers)
    assert ada_order[:3] == ["s0", "s1", "s2"]  # above the equally (or more) trending u1, u2
    assert "For you: Like papers you marked More like this" in received[ada.email]
    bob_order = _order(received[bob.email], papers)
    assert bob_order[:3] == ["u0", "u1", "u2"]
    assert "s2" not in bob_order  # cut by the count of five: below, or not at all
    assert _order(received[cold.email], papers) == TODAY_ORDER


def test_more_and_less_like_this_reorder_the_next_digest_one_by_one(
    client, postmark, papers, celery_worker, finished_tasks
):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)

    _more_and_less_end_to_end(client, postmark, papers, finished_tasks)


def test_more_and_less_like_this_reorder_the_next_digest_in_bulk(
    client, postmark_default, papers, celery_worker, finished_tasks
):
    postmark_default.add(
        "POST", f"{POSTMARK}/email/bulk", json=recorded("postmark_bulk_accepted.json"), status=200
    )

    _more_and_less_end_to_end(client, postmark_default, papers, finished_tasks)

    assert not sent_payloads(postmark_default, "/email")  # every message went in bulk
