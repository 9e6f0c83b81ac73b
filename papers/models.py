import functools
import re
import unicodedata

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.text import slugify

from lib.jsonfield import UnicodeJSONEncoder
from papers.search import PaperSearchMixin


def normalise_title(title: str) -> str:
    """The key two sources' copies of one paper share: case, accents, punctuation and
    spacing folded away. Used to merge a paper arriving without an arXiv id."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", " ", text.lower())
    return " ".join(text.split())[:255]


@functools.lru_cache(maxsize=20_000)
def author_slug(name: str) -> str:
    """The `/authors/<slug>/` of an author name: accents and punctuation folded away, so
    "Jürgen Schmidhuber" and "Jurgen Schmidhuber" share one page. Memoised: every card
    of every page slugs its authors, and the same names come back all day."""
    ascii_name = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return slugify(ascii_name)[:80]


def author_keys(authors) -> str:
    """The searchable form of an author list: " slug-a slug-b ", spaces at both ends so
    a LIKE on " slug " matches whole slugs only on every database."""
    slugs = [slug for slug in (author_slug(str(name)) for name in authors or []) if slug]
    return f" {' '.join(slugs)} " if slugs else ""


# What Django's <slug:...> path converter accepts: other values go through reverse().
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


@functools.lru_cache(maxsize=32)
def _url_prefix(name: str, argument: str, placeholder: str, script_prefix: str, urlconf) -> str:
    # reverse() with a placeholder, cut before it.
    url = reverse(name, kwargs={argument: placeholder}, urlconf=urlconf)
    return url[: -len(placeholder) - 1]


def url_prefix(name: str, argument: str = "slug", placeholder: str = "-") -> str:
    """ "/authors/" for "papers:author": the part of a URL with one argument (last in its
    path) before that argument, for the current script prefix and URL configuration.
    reverse() costs about 30 µs and a page of cards needs over a hundred URLs of a few
    kinds, so each kind is reversed once."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _url_prefix(name, argument, placeholder, get_script_prefix(), urlconf)


def slug_url(name: str, slug: str) -> str:
    """reverse(name, kwargs={"slug": slug}) for a URL whose only argument is a slug, from
    the memoised prefix. A value the slug converter would refuse takes reverse() itself,
    so it fails exactly as it would there."""
    if not _SLUG.fullmatch(slug):
        return reverse(name, kwargs={"slug": slug})
    return f"{url_prefix(name)}{slug}/"


class Topic(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return slug_url("papers:topic", self.slug)


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

    def by_author(self, slug: str):
        """Published papers listing the author whose `author_slug` is `slug`, newest first."""
        return self.latest().filter(author_keys__contains=f" {slug} ")


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
    # Stored unescaped so SQLite's text matching finds non-ASCII names (lib.jsonfield).
    authors = models.JSONField(
        default=list, blank=True, encoder=UnicodeJSONEncoder, help_text="Author names, in order."
    )
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

    # The first page of the PDF, rendered by papers.tasks.render_thumbnail into the default
    # storage (STORAGES["default"]: the filesystem, or S3-compatible storage by setting).
    # db_default: rows inserted by raw SQL (bulk loaders, benchmarks) need no value.
    thumbnail = models.FileField(
        upload_to="thumbnails/", max_length=200, blank=True, default="", db_default=""
    )
    thumbnail_width = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    thumbnail_height = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    # Set when a render was tried, so a PDF that cannot be read is not fetched again.
    thumbnail_checked_at = models.DateTimeField(null=True, blank=True, editable=False)

    # " slug-a slug-b ": the author pages' lookup, kept in step with `authors` by save().
    author_keys = models.TextField(blank=True, editable=False, default="", db_default="")

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
        self.author_keys = author_keys(self.authors)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return slug_url("papers:detail", self.slug)

    @property
    def arxiv_url(self) -> str:
        if self.abstract_url:
            return self.abstract_url
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else ""

    @property
    def pdf_link(self) -> str:
        if self.pdf_url:
            return self.pdf_url
        return f"https://arxiv.org/pdf/{self.arxiv_id}" if self.arxiv_id else ""

    @property
    def author_links(self) -> list[tuple[str, str]]:
        """(name, author page URL) for each author with a usable slug (slug_url: no
        reverse() per author, and a page of cards lists over a hundred)."""
        prefix = url_prefix("papers:author")
        links = []
        for name in self.authors or []:
            # Always what the slug converter accepts (slugify of ASCII), or empty.
            slug = author_slug(str(name))
            if slug:
                links.append((str(name), f"{prefix}{slug}/"))
        return links


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


class TrendSnapshot(models.Model):
    """The ranking of one window as it stood at the end of one day (the last recompute of
    that day), so a daily, weekly or monthly page of the past keeps showing what trended
    then. Written by papers.trending next to the live Trend rows; top SNAPSHOT_SIZE only."""

    day = models.DateField()
    window = models.CharField(max_length=5, choices=Window)
    rank = models.PositiveIntegerField()
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="trend_snapshots")
    score = models.FloatField()
    stars_gained = models.IntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "window", "paper"], name="trendsnapshot_day_window_paper"
            ),
        ]
        indexes = [
            models.Index(fields=["window", "day", "rank"], name="trendsnapshot_window_day"),
        ]

    def __str__(self):
        return f"{self.day} {self.window} #{self.rank}"


class LibraryItem(models.Model):
    """A paper in a signed-in reader's library: saved on the site, or imported from a
    reference manager. An imported entry Paperboy does not have keeps its title, so it
    still teaches the reader's relevance model what they read."""

    class Origin(models.TextChoices):
        SAVED = "saved", "Saved on the site"
        IMPORTED = "imported", "Imported"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="library_items"
    )
    paper = models.ForeignKey(
        Paper, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    origin = models.CharField(max_length=8, choices=Origin, default=Origin.SAVED)
    title = models.TextField(blank=True, help_text="As imported, for entries without a paper.")
    arxiv_id = models.CharField("arXiv id", max_length=32, blank=True)
    doi = models.CharField("DOI", max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "paper"],
                condition=Q(paper__isnull=False),
                name="libraryitem_user_paper_unique",
            ),
        ]

    def __str__(self):
        return self.title[:80] or f"paper {self.paper_id}"
