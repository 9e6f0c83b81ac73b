"""More like this / Less like this / Mute this topic: the links in the digest."""

import datetime as dt

import pytest
from django.core import signing

from digests import tokens
from digests.models import Delivery, Edition, ReaderModel, ReaderSignal, TopicMute
from tests.factories import PaperFactory, SubscriberFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    topic = TopicFactory(name="Vision", slug="vision")
    papers = [PaperFactory(), PaperFactory()]
    papers[0].topics.add(topic)
    subscriber = SubscriberFactory()
    edition = Edition.objects.create(date=dt.date(2026, 12, 1), status=Edition.Status.SENT)
    delivery = Delivery.objects.create(
        edition=edition,
        subscriber=subscriber,
        status=Delivery.Status.SENT,
        paper_ids=[papers[0].pk],
    )
    base = tokens.feedback_base_url(
        subscriber_id=subscriber.pk, email=subscriber.email, delivery_id=delivery.pk
    )
    return {
        "subscriber": subscriber,
        "paper": papers[0],
        "other_paper": papers[1],
        "topic": topic,
        "delivery": delivery,
        "base": base.split("://", 1)[1].split("/", 1)[1],  # the path, for the test client
    }


def _url(sent, action, paper=None):
    return f"/{sent['base']}/{(paper or sent['paper']).pk}/{action}/"


@pytest.mark.parametrize("action", ["more", "less", "mute"])
def test_a_get_shows_one_button_and_records_nothing(client, sent, action):
    response = client.get(_url(sent, action))

    assert response.status_code == 200
    panel = response.content.decode().split('class="panel feedback"', 1)[1].split("</section>")[0]
    assert sent["paper"].title in panel
    assert panel.count("<button") == 1
    assert not ReaderSignal.objects.exists()
    assert not TopicMute.objects.exists()


def test_the_post_records_more_like_this_and_offers_undo(client, sent):
    response = client.post(_url(sent, "more"))

    signal = ReaderSignal.objects.get()
    assert (signal.subscriber, signal.paper, signal.kind) == (
        sent["subscriber"],
        sent["paper"],
        "more",
    )
    assert signal.delivery == sent["delivery"]
    page = response.content.decode()
    assert "recorded as <strong>More like this</strong>" in page
    assert ">Undo</button>" in page


def test_the_dashboard_counts_each_signal_once(client, sent):
    from digests.models import Edition

    client.post(_url(sent, "more"))
    client.post(_url(sent, "more"))

    edition = Edition.objects.get(pk=sent["delivery"].edition_id)
    assert (edition.more_count, edition.less_count) == (1, 0)


def test_repeating_the_post_changes_nothing(client, sent):
    client.post(_url(sent, "less"))
    first = ReaderSignal.objects.get()

    client.post(_url(sent, "less"))

    again = ReaderSignal.objects.get()
    assert (again.pk, again.kind, again.updated_at) == (first.pk, "less", first.updated_at)


def test_an_opposite_signal_replaces_the_earlier_one(client, sent):
    client.post(_url(sent, "more"))
    client.post(_url(sent, "less"))

    assert list(ReaderSignal.objects.values_list("kind", flat=True)) == ["less"]


def test_undo_removes_the_signal(client, sent):
    client.post(_url(sent, "more"))

    response = client.post(_url(sent, "more"), {"undo": "1"})

    assert not ReaderSignal.objects.exists()
    assert "Undone" in response.content.decode()


def test_mute_mutes_a_topic_of_the_paper_and_undo_unmutes(client, sent):
    client.post(_url(sent, "mute"), {"topic": sent["topic"].pk})
    assert list(TopicMute.objects.values_list("topic", flat=True)) == [sent["topic"].pk]

    client.post(_url(sent, "mute"), {"topic": sent["topic"].pk, "undo": "1"})
    assert not TopicMute.objects.exists()


def test_mute_refuses_a_topic_the_paper_does_not_have(client, sent):
    other = TopicFactory(name="Audio", slug="audio")

    response = client.post(_url(sent, "mute"), {"topic": other.pk})

    assert response.status_code == 400
    assert not TopicMute.objects.exists()


def test_a_signal_retrains_the_readers_model_after_commit(
    client, sent, django_capture_on_commit_callbacks
):
    ReaderModel.objects.create(
        subscriber=sent["subscriber"], profile={}, trained_at="2026-11-30T00:00Z", stale=False
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(_url(sent, "more"))

    assert len(callbacks) == 1  # the retrain waits for the signal to be committed
    # The retrain task ran (eagerly here) and wrote a fresh, non-stale model.
    model = ReaderModel.objects.get(subscriber=sent["subscriber"])
    assert model.stale is False
    assert model.signals == 1


def _forged(sent, **changes):
    payload = [sent["subscriber"].pk, sent["subscriber"].email, sent["delivery"].pk]
    salt = changes.pop("salt", tokens.FEEDBACK)
    for index, value in changes.items():
        payload[int(index[1:])] = value
    return signing.dumps(payload, salt=salt, compress=True)


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        pytest.param("salt", id="a manage-link token"),
        pytest.param("other-reader", id="another reader's delivery"),
        pytest.param("other-email", id="the address behind the id changed"),
    ],
)
def test_a_forged_or_cross_purpose_token_changes_nothing(client, sent, token):
    if token == "salt":
        token = _forged(sent, salt="subscriptions.manage")
    elif token == "other-reader":
        token = _forged(sent, i0=SubscriberFactory().pk)
    elif token == "other-email":
        token = _forged(sent, i1="someone@else.example")

    for method in (client.get, client.post):
        response = method(f"/digests/feedback/{token}/{sent['paper'].pk}/more/")
        assert response.status_code == 400
    assert not ReaderSignal.objects.exists()


def test_a_paper_the_delivery_did_not_carry_is_refused(client, sent):
    response = client.post(_url(sent, "more", paper=sent["other_paper"]))

    assert response.status_code == 400
    assert not ReaderSignal.objects.exists()


def test_an_unknown_action_is_not_found(client, sent):
    assert client.post(_url(sent, "delete")).status_code == 404
