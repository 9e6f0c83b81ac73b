import copy
import html
import json
import re
import time
import uuid
from pathlib import Path

import pytest
import responses
from celery.signals import task_postrun
from django.utils import timezone

from digests import rendering
from papers.models import Trend, Window
from tests.factories import PaperFactory, PaperRepositoryFactory

DATA = Path(__file__).parent / "data"
POSTMARK = "https://api.postmarkapp.com"


def recorded(name: str) -> dict:
    return json.loads((DATA / name).read_text())


@pytest.fixture(autouse=True)
def _fresh_render_cache():
    # Renders are cached per worker process by edition; tests reuse primary keys on SQLite.
    rendering.clear_caches()
    yield
    rendering.clear_caches()


@pytest.fixture
def postmark(settings):
    """The real Postmark backend, one call per reader (batching off); only its HTTP
    layer is replaced by recorded responses."""
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "test-server-token"}
    settings.DIGEST_BATCH_SEND = False
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def postmark_default(settings):
    """The real Postmark backend with nothing but its token set: production defaults."""
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "test-server-token"}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def postmark_batch_ok(request):
    """Postmark's answer to POST /email/batch: one result per message, in order."""
    results = []
    for message in json.loads(request.body):
        body = recorded("postmark_send_ok.json")
        body["To"] = message["To"]
        body["MessageID"] = str(uuid.uuid4())
        results.append(body)
    return 200, {"Content-Type": "application/json"}, json.dumps(results)


def postmark_ok(request):
    """Postmark's answer to POST /email, echoing the recipient like the real API."""
    body = recorded("postmark_send_ok.json")
    body["To"] = json.loads(request.body)["To"]
    body["MessageID"] = str(uuid.uuid4())
    return 200, {"Content-Type": "application/json"}, json.dumps(body)


def _mustache(template: str, model: dict, *, escape) -> str:
    text = re.sub(r"\{\{\{(\w+)\}\}\}", lambda m: model[m.group(1)], template)
    return re.sub(r"\{\{(\w+)\}\}", lambda m: escape(model[m.group(1)]), text)


def bulk_merged(payload: dict) -> dict[str, dict]:
    """{address: {"Subject", "TextBody", "HtmlBody"}} of a Bulk API call, merged as Postmark
    does: {{{field}}} as it is, {{field}} HTML-escaped in the HTML part."""
    merged = {}
    for message in payload["Messages"]:
        model = message.get("TemplateModel", {})
        merged[message["To"]] = {
            part: _mustache(payload[part], model, escape=html.escape if part == "HtmlBody" else str)
            for part in ("Subject", "TextBody", "HtmlBody")
            if part in payload
        }
    return merged


def sent_payloads(mock, path="/email") -> list[dict]:
    return [json.loads(c.request.body) for c in mock.calls if c.request.url == POSTMARK + path]


def make_trending(count: int, *, window=Window.TODAY, code=True, **fields) -> list:
    """`count` published papers ranked on `window`, best first, each with a repository."""
    papers = []
    base_title = fields.pop("title", None)
    for rank in range(count):
        if base_title:
            fields["title"] = f"{base_title} {rank}"  # titles are unique once normalised
        paper = PaperFactory(**fields)
        if code:
            PaperRepositoryFactory(paper=paper, repository__stars=100 + rank)
            paper.has_code = True
            paper.stars = 100 + rank
            paper.save()
        Trend.objects.create(
            paper=paper,
            window=window,
            score=1000 - rank,
            stars_gained=50 - rank,
            reason=f"+{50 - rank} stars in 24 h",
            computed_at=timezone.now(),
        )
        papers.append(paper)
    return papers


def event_payload(name: str, **changes) -> dict:
    body = copy.deepcopy(recorded(name))
    body.update(changes)
    return body


def send_to(edition, *subscribers, connection=None):
    """Fan `edition` out to `subscribers` and send each chunk here, as a worker would."""
    from digests.services import ChunkResult, delivery_send_chunk, digest_fan_out
    from subscriptions.models import Subscriber

    total = ChunkResult()

    def run(_edition_id, ids):
        total.add(delivery_send_chunk(edition=edition, subscriber_ids=ids, connection=connection))

    digest_fan_out(
        edition=edition,
        subscribers=Subscriber.objects.filter(pk__in=[s.pk for s in subscribers]),
        enqueue=run,
    )
    return total


def run_like_a_broker(task, *args) -> object:
    """Run `task` eagerly, and again each time it asks for a retry, as a worker would."""
    from celery.exceptions import Retry

    retries = 0
    while True:
        try:
            return task.apply(args=args, retries=retries).get()
        except Retry:
            retries += 1


def wait_for(condition, timeout=30) -> bool:
    """Poll `condition` until it holds (a real worker runs in its own thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def finished_tasks():
    """Names of the tasks a real worker has finished, in order (its thread fires these
    signals), so a test waits for the task itself rather than sleeping."""
    done: list[str] = []

    def record(sender=None, **kwargs):
        if sender is not None:
            done.append(sender.name)

    task_postrun.connect(record, weak=False)
    yield done
    task_postrun.disconnect(record)
