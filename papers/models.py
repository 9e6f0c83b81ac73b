import re
import unicodedata

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from papers.search import PaperSearchMixin


def normalise_title(title: str) -> str:
    """The key two sources' copies of one paper share: case, accents, punctuation and
    spacing folded away. Used to merge a paper arriving without an arXiv id."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", " ", text.lower())
    return " ".join(text.split())[:255]


class Topic(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("papers:topic", kwargs={"slug": self.slug})


class Window(models.TextChoices):
    TODAY = "today", "Today"
    WEEK = "week", "This week"
    MONTH = "month", "This month"


class PaperQuerySet(PaperSearchMixin, models.QuerySet):
    def published(self):
        return self.filter(status=Paper.Status.PUBLISHED)

    def with_code(self):
        return self.filter(has_code=True)

    def trending(self, window: str = Window.WEEK):
        """Published papers ranked by their stored score for `window`, best first.

        Each row carries `trend_score`, `trend_stars` (stars gained in the window) and
        `trend_reason` (the human "why trending" line). Papers with no score for the
        window are left out; scores are written by papers.trending.
        """
        return (
            self.published()
            .filter(trends__window=window)
            .annotate(
                trend_score=F("trends__score"),
                trend_stars=F("trends__stars_gained"),
                trend_reason=F("trends__reason"),
            )
            .order_by("-trend_score", "-published_on", "-pk")
        )

    def latest(self):
        return self.published().order_by(F("published_on").desc(nulls_last=True), "-pk")


class Paper(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        HIDDEN = "hidden", "Hidden"

    arxiv_id = models.CharField(
        "arXiv id",
        max_length=32,
        unique=True,
        null=True,
        blank=True,
        help_text="Without version suffix, e.g. 2401.01234; versions fold into one record.",
    )
    doi = models.CharField("DOI", max_length=255, blank=True)
    slug = models.SlugField(max_length=120, unique=True)
    title = models.TextField(help_text="Stored as given (may hold LaTeX); always rendered escaped.")
    title_key = models.CharField(max_length=255, unique=True, editable=False)
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=list, blank=True, help_text="Author names, in order.")
    published_on = models.DateField(null=True, blank=True)
    updated_on = models.DateField(null=True, blank=True)
    categories = models.JSONField(default=list, blank=True, help_text="arXiv categories.")
    abstract_url = models.URLField(max_length=500, blank=True)
    pdf_url = models.URLField("PDF URL", max_length=500, blank=True)
    topics = models.ManyToManyField(Topic, blank=True, related_name="papers")
    status = models.CharField(max_length=10, choices=Status, default=Status.PUBLISHED)
    sources = models.JSONField(default=list, blank=True, help_text="Importers that supplied it.")

    # Editorial weight, added to the computed trending score until `boost_until`.
    boost = models.FloatField(default=0)
    pinned = models.BooleanField(default=False)
    boost_until = models.DateTimeField(null=True, blank=True)

    # Denormalised from the repositories so lists sort and filter without joins.
    stars = models.PositiveIntegerField(default=0)
    has_code = models.BooleanField(default=False)

    # Maintained by a PostgreSQL trigger (migration 0002); unused on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PaperQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "-pk"]
        indexes = [
            models.Index(fields=["status", "-published_on"], name="paper_status_published"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="paper_title_not_empty"),
        ]

    def __str__(self):
        return self.title[:120]

    def save(self, *args, **kwargs):
        self.title_key = normalise_title(self.title)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("papers:detail", kwargs={"slug": self.slug})


class Repository(models.Model):
    url = models.URLField(max_length=300, unique=True, help_text="Normalised: lower case, no .git.")
    owner = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    framework = models.CharField(max_length=40, blank=True)
    stars = models.PositiveIntegerField(default=0)
    stars_checked_at = models.DateTimeField(null=True, blank=True)
    etag = models.CharField(max_length=200, blank=True, editable=False)
    papers = models.ManyToManyField(Paper, through="PaperRepository", related_name="repositories")

    class Meta:
        verbose_name_plural = "repositories"
        ordering = ["-stars"]

    def __str__(self):
        return f"{self.owner}/{self.name}"


class PaperRepository(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="code_links")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="paper_links")
    is_official = models.BooleanField(default=False)

    class Meta:
        verbose_name = "code repository"
        constraints = [
            models.UniqueConstraint(fields=["paper", "repository"], name="paperrepo_unique"),
        ]

    def __str__(self):
        return f"{self.repository} for {self.paper_id}"


class StarSnapshot(models.Model):
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField()
    stars = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "taken_at"], name="snapshot_unique"),
        ]
        indexes = [models.Index(fields=["taken_at", "repository"], name="snapshot_time_repo")]

    def __str__(self):
        return f"{self.stars} stars at {self.taken_at:%Y-%m-%d %H:%M}"


class Trend(models.Model):
    """A paper's trending score for one window, recomputed in bulk by papers.trending."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="trends")
    window = models.CharField(max_length=5, choices=Window)
    score = models.FloatField()
    stars_gained = models.IntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["paper", "window"], name="trend_paper_window"),
        ]
        indexes = [models.Index(fields=["window", "-score"], name="trend_window_score")]

    def __str__(self):
        return f"{self.window}: {self.score:.2f}"


class PaperDay(models.Model):
    """Readers' reactions to a paper in one day: digest clicks and More/Less feedback.

    Written by the services as events arrive, so "top papers this week" sums at most
    seven small rows per paper instead of reading deliveries."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    clicks = models.PositiveIntegerField(default=0, db_default=0)
    more = models.PositiveIntegerField(default=0, db_default=0)
    less = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["paper", "day"], name="paperday_unique"),
        ]
        indexes = [models.Index(fields=["day"], name="paperday_day")]

    def __str__(self):
        return f"paper {self.paper_id} on {self.day}"


class FetchDay(models.Model):
    """What each fetcher brought in one day (written by the fetch tasks)."""

    day = models.DateField()
    source = models.CharField(max_length=20)
    runs = models.PositiveIntegerField(default=0, db_default=0)
    created = models.PositiveIntegerField(default=0, db_default=0)
    updated = models.PositiveIntegerField(default=0, db_default=0)
    skipped = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "source"], name="fetchday_unique"),
        ]

    def __str__(self):
        return f"{self.source} on {self.day}"
