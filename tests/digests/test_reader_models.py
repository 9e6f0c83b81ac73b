"""Training readers' models from the database: library, signals, topics, mutes."""

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
