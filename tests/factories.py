import datetime

import factory
from django.contrib.auth import get_user_model

from papers.models import Paper, PaperRepository, Repository, Topic, Trend, Window
from subscriptions.models import Subscriber


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class PaperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Paper

    arxiv_id = factory.Sequence(lambda n: f"2411.{n:05d}")
    title = factory.Sequence(lambda n: f"A Study of Paper Number {n}")
    slug = factory.Sequence(lambda n: f"a-study-of-paper-number-{n}")
    abstract = "We study things and find results."
    authors = factory.LazyFunction(lambda: ["Ada Lovelace", "Alan Turing"])
    published_on = factory.Faker("date_between", start_date="-60d", end_date="today")
    status = Paper.Status.PUBLISHED


class RepositoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Repository

    owner = factory.Sequence(lambda n: f"owner{n}")
    name = factory.Sequence(lambda n: f"repo{n}")
    url = factory.LazyAttribute(lambda o: f"https://github.com/{o.owner}/{o.name}")
    stars = 10


class PaperRepositoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaperRepository

    paper = factory.SubFactory(PaperFactory)
    repository = factory.SubFactory(RepositoryFactory)
    is_official = True


class TrendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trend

    paper = factory.SubFactory(PaperFactory)
    window = Window.TODAY
    score = factory.Sequence(lambda n: 1000.0 - n)
    stars_gained = 12
    reason = "+12 stars in 24 h"
    computed_at = factory.Faker("date_time_this_month", tzinfo=datetime.UTC)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class SubscriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscriber

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    status = Subscriber.Status.CONFIRMED
