"""Training readers' models from the database: library, signals, topics, mutes."""

import json

import pytest
from django.utils import timezone

from digests import relevance
from digests.models import ReaderModel, ReaderSignal, TopicMute
from digests.services import reader
from papers import library
from papers.models import LibraryItem
from tests.factories import PaperFactory, SubscriberFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXTS = {
    "sparse": ("Sparse attention for long context", "Sparse attention kernels cut memory."),
    "sparse2": ("Fast sparse attention on GPUs", "Block sparse attention for long context."),
    "diffusion": ("Diffusion models for images", "Diffusion image generation with guidance."),
    "diffusion2": ("Latent diffusion transformers", "Scaling diffusion image generation."),
    "graphs": ("Graph networks for molecules", "Molecular graph property prediction."),
}


@pytest.fixture
def papers():
    made = {k: PaperFactory(title=t, abstract=a) for k, (t, a) in TEXTS.items()}
    reader.vocabulary_build()
    return made


def _order(subscriber, papers, keys):
    profile = reader.reader_profiles([subscriber.pk]).get(subscriber.pk)
    vectors = reader.paper_vectors([papers[k] for k in keys])
    ranked = relevance.rank([(papers[k].pk, vectors[papers[k].pk]) for k in keys], profile)
    by_pk = {p.pk: k for k, p in papers.items()}
    return [by_pk[r.paper_id] for r in ranked], {by_pk[r.paper_id]: r.reason for r in ranked}


def test_a_reader_without_signals_gets_no_model_and_the_trending_order(papers):
    subscriber = SubscriberFactory()

    assert reader.reader_models_train(subscriber_ids=[subscriber.pk]) == 0

    keys = ["diffusion", "graphs", "sparse2"]
    assert not ReaderModel.objects.exists()
    assert _order(subscriber, papers, keys)[0] == keys


def test_a_saved_paper_lifts_similar_papers_and_says_so(papers):
    user = UserFactory()
    subscriber = SubscriberFactory(user=user, email=user.email)
    library.library_save(user=user, paper=papers["sparse"])

    reader.reader_models_train(subscriber_ids=[subscriber.pk])

    order, reasons = _order(subscriber, papers, ["diffusion", "graphs", "sparse2"])
    assert order[0] == "sparse2"
    assert reasons["sparse2"] == "Because you saved Sparse attention for long context"


def test_an_imported_entry_paperboy_lacks_still_teaches_by_its_title(papers):
    user = UserFactory()
    subscriber = SubscriberFactory(user=user, email=user.email)
    LibraryItem.objects.create(
        user=user, origin="imported", title="Latent diffusion image generation"
    )

    reader.reader_models_train(subscriber_ids=[subscriber.pk])

    order, _ = _order(subscriber, papers, ["graphs", "sparse2", "diffusion2"])
    assert order[0] == "diffusion2"


def test_less_like_this_sinks_similar_papers(papers):
    subscriber = SubscriberFactory()
    ReaderSignal.objects.create(subscriber=subscriber, paper=papers["diffusion"], kind="less")

    reader.reader_models_train(subscriber_ids=[subscriber.pk])

    order, _ = _order(subscriber, papers, ["diffusion2", "sparse2", "graphs"])
    assert order[-1] == "diffusion2"


def test_retraining_after_the_last_signal_is_undone_drops_the_model(papers):
    subscriber = SubscriberFactory()
    ReaderSignal.objects.create(subscriber=subscriber, paper=papers["sparse"], kind="more")
    reader.reader_models_train(subscriber_ids=[subscriber.pk])
    assert ReaderModel.objects.filter(subscriber=subscriber).exists()

    reader.reader_signal_undo(subscriber=subscriber, paper=papers["sparse"])
    reader.reader_models_train(subscriber_ids=[subscriber.pk])

    assert not ReaderModel.objects.filter(subscriber=subscriber).exists()


def test_the_nightly_task_retrains_every_reader_with_signals(papers):
    with_signal = SubscriberFactory()
    without = SubscriberFactory()
    ReaderSignal.objects.create(subscriber=with_signal, paper=papers["graphs"], kind="more")
    from digests.tasks import train_reader_models_nightly

    assert train_reader_models_nightly.delay().get() == 1

    model = ReaderModel.objects.get()
    assert model.subscriber == with_signal
    assert model.trained_at <= timezone.now()
    assert not ReaderModel.objects.filter(subscriber=without).exists()


def test_turning_relevance_off_keeps_every_reader_cold(papers, settings):
    subscriber = SubscriberFactory()
    ReaderSignal.objects.create(subscriber=subscriber, paper=papers["sparse"], kind="more")
    reader.reader_models_train(subscriber_ids=[subscriber.pk])
    settings.RELEVANCE_ENABLED = False

    assert reader.reader_profiles([subscriber.pk]) == {}


def test_the_data_export_holds_the_library_signals_and_mutes(client, papers):
    user = UserFactory()
    subscriber = SubscriberFactory(user=user, email=user.email)
    library.library_save(user=user, paper=papers["sparse"])
    ReaderSignal.objects.create(subscriber=subscriber, paper=papers["graphs"], kind="less")
    TopicMute.objects.create(subscriber=subscriber, topic=TopicFactory())
    client.force_login(user)

    data = client.get("/accounts/data/").json()

    assert [item["title"] for item in data["library"]] == [papers["sparse"].title]
    assert [s["kind"] for s in data["subscription"]["signals"]] == ["less"]
    assert len(data["subscription"]["topic_mutes"]) == 1


def test_account_deletion_takes_the_library_signals_and_mutes(client, papers):
    user = UserFactory()
    subscriber = SubscriberFactory(user=user, email=user.email)
    library.library_save(user=user, paper=papers["sparse"])
    ReaderSignal.objects.create(subscriber=subscriber, paper=papers["graphs"], kind="less")
    TopicMute.objects.create(subscriber=subscriber, topic=TopicFactory())
    reader.reader_models_train(subscriber_ids=[subscriber.pk])
    from subscriptions.services import account_delete

    account_delete(user=user)

    assert not LibraryItem.objects.exists()
    assert not ReaderSignal.objects.exists()
    assert not TopicMute.objects.exists()
    assert not ReaderModel.objects.exists()


@pytest.mark.django_db(transaction=True)  # outside a transaction, as the nightly task runs
def test_retraining_many_readers_stores_the_model_of_each_readers_own_examples(
    papers, settings, monkeypatch
):
    """The run-wide paper cache, the chunking and the one-statement write (in a second
    thread on PostgreSQL) give every reader exactly the model of their own examples."""
    import datetime as dt

    settings.RELEVANCE_TRAIN_CHUNK = 2  # several chunks share one run's features
    monkeypatch.setattr(reader, "_RUN_PAPERS", 3)  # and it forgets papers on the way
    sparse = TopicFactory(name="Sparse attention", description="sparse attention kernels")
    graphs = TopicFactory(name="Graphs", description="molecular graph networks")
    user = UserFactory()
    readers = [SubscriberFactory(user=user, email=user.email), *SubscriberFactory.create_batch(4)]
    start = timezone.now() - dt.timedelta(days=1)
    plan = [
        [("sparse", "more"), ("diffusion", "less"), ("graphs", "read")],
        [("diffusion", "more"), ("sparse2", "less")],
        [("graphs", "less"), ("diffusion2", "more")],
        [],  # topics alone: cold
        [("sparse2", "more"), ("graphs", "more")],
    ]
    for reader_index, (subscriber, signals) in enumerate(zip(readers, plan, strict=True)):
        for n, (key, kind) in enumerate(signals):
            signal = ReaderSignal.objects.create(
                subscriber=subscriber, paper=papers[key], kind=kind
            )
            when = start + dt.timedelta(minutes=10 * (5 - n) + reader_index)  # newest first
            ReaderSignal.objects.filter(pk=signal.pk).update(updated_at=when)
    library.library_save(user=user, paper=papers["sparse2"])
    LibraryItem.objects.create(user=user, origin="imported", title="Latent diffusion on graphs")
    readers[0].topics.add(sparse)
    readers[3].topics.add(graphs)
    readers[4].topics.add(sparse)
    TopicMute.objects.create(subscriber=readers[1], topic=graphs)

    assert reader.reader_models_train() == 4

    vocabulary = reader.vocabulary_current()
    vectors = reader.paper_vectors(papers.values())
    for subscriber in readers:
        topics = [("topic", t) for t in subscriber.topics.all()]
        topics += [("muted", m.topic) for m in subscriber.topic_mutes.all()]
        examples = [
            relevance.Example(
                kind, "", relevance.vectorise(f"{t.name}\n{t.description}", vocabulary)
            )
            for kind, t in topics
        ]
        rows = [(s.updated_at, s.kind, s.paper, "") for s in subscriber.signals.all()]
        if subscriber.user_id:
            rows += [(i.created_at, i.origin, i.paper, i.title) for i in user.library_items.all()]
        for _, kind, paper, title in sorted(rows, key=lambda row: row[0]):
            if paper is not None:
                examples.append(relevance.Example(kind, paper.title, vectors[paper.pk]))
            else:
                vector = relevance.vectorise(title, vocabulary)
                examples.append(relevance.Example(kind, title, vector))
        expected = relevance.profile_train(examples)
        stored = ReaderModel.objects.filter(subscriber=subscriber).first()
        if expected.is_cold():
            assert stored is None
        else:
            assert stored.profile == expected.as_json()
            assert (stored.signals, stored.stale) == (expected.signals, False)


def test_a_models_json_is_its_profile_in_json():
    vocabulary = relevance.vocabulary_build(['Sparse "attention" für long context'] * 2)
    vector = relevance.vectorise("Sparse attention für long context", vocabulary)
    known = reader._Terms(relevance.anchor_terms(vector))
    known.json = json.dumps(known)
    profile = relevance.profile_train(
        [
            relevance.Example("saved", 'A "quoted" title: für Sie', vector, known),
            relevance.Example("more", "Plain\\title", vector),
            relevance.Example("less", "", vector),
        ]
    )

    assert json.loads(reader._profile_json(profile)) == profile.as_json()


@pytest.mark.django_db(transaction=True)
def test_a_failed_write_fails_the_retraining(papers, monkeypatch):
    subscriber = SubscriberFactory()
    ReaderSignal.objects.create(subscriber=subscriber, paper=papers["sparse"], kind="more")

    def refuse(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(reader, "_models_store", refuse)

    with pytest.raises(RuntimeError, match="disk full"):
        reader.reader_models_train()
