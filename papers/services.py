"""Writes to papers: imports and merges, code links, star counts, editorial actions.

Views, admin actions, commands and tasks call these; none of them writes papers directly.
"""

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify

from papers import importers
from papers.identifiers import extract_code_links, normalise_repository_url
from papers.importers.base import PaperRecord, RecordError, RepositoryRecord, Skip, Source
from papers.importers.batches import read_ahead
from papers.importers.indexes import DeferredIndexes
from papers.importers.store import PlannerStatistics, repository_updates, store_batch
from papers.models import Paper, PaperRepository, Repository, StarSnapshot, Topic, normalise_title
from papers.topics import topics_for_categories

logger = logging.getLogger(__name__)

# How far each source is trusted for metadata, most first. A record overwrites a paper's
# fields only when its source ranks at least as high as every source the paper already came
# from; otherwise it only fills fields that are still empty. So sources imported in any
# order, or again, converge on one record instead of flip-flopping.
SOURCE_RANK = {"arxiv": 5, "jsonl": 4, "pwc": 3, "hf": 2, "searchpage": 1}
METADATA_FIELDS = (
    "title", "doi", "abstract", "authors", "published_on", "updated_on", "categories",
    "abstract_url", "pdf_url",
)  # fmt: skip


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skip] = field(default_factory=list)
    # Fields dropped from records that were imported all the same (location, what).
    bad_fields: list[Skip] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    dry_run: bool = False
    created_ids: list[int] = field(default_factory=list)
    # File imports run to millions of records and keep their memory flat: no id list.
    track_ids: bool = True
    scores_refreshed: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated) and not self.dry_run

    @property
    def read(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.skipped)

    def skip_reasons(self) -> Counter:
        return Counter(skip.reason for skip in self.skipped)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "skip_reasons": dict(self.skip_reasons()),
            "bad_fields": len(self.bad_fields),
            "unreadable": self.unreadable,
            "dry_run": self.dry_run,
        }


# (source, records so far, bytes consumed, file size) after each record.
ProgressCallback = Callable[[Source, int, int, int], None]


def papers_import(
    *,
    paths: Iterable[str],
    fmt: str = "auto",
    draft: bool = False,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    notify: Callable[[str], None] | None = None,
) -> ImportSummary:
    """Import every record of every file; a bad record or file is reported and skipped.

    Upserts are idempotent (a second import of the same file changes nothing). New papers
    are published unless `draft`; an existing paper's status is never changed by an import,
    so papers the editors hid stay hidden. `dry_run` does all the work and rolls it back.
    `notify` receives a line for each long step that is not reading a file (index builds).
    """
    summary = ImportSummary(dry_run=dry_run, track_ids=False)
    status = Paper.Status.DRAFT if draft else Paper.Status.PUBLISHED
    items = _read_all(paths=paths, fmt=fmt, summary=summary, progress=progress)

    def one_by_one(item):
        _import_item(item, status=status, summary=summary)

    # Committed in batches: a dump of half a million papers neither holds one transaction
    # (and, on SQLite, the write lock) for its whole length nor pays a commit per record.
    # Upserts are idempotent, so an interrupted import is simply run again. New papers and
    # code links are written a batch at a time (papers.importers.store).
    statistics = PlannerStatistics()
    # A dry run rolls back one transaction: index DDL has no place in it.
    indexes = None if dry_run else DeferredIndexes(after=IMPORT_DEFER_INDEXES, notify=notify)
    try:
        with transaction.atomic() if dry_run else nullcontext():
            for batch in read_ahead(items, IMPORT_BATCH):
                with transaction.atomic():
                    store_batch(batch, status=status, summary=summary, one_by_one=one_by_one)
                written = summary.created + summary.updated
                statistics.refresh(written=written)
                if indexes:
                    indexes.refresh(written=written)
            if dry_run:
                transaction.set_rollback(True)
    finally:
        if indexes:
            indexes.restore()
    if not dry_run:
        if notify and summary.changed:
            notify("Recomputing the trending scores...")
        _refresh_after_import(summary)
    return summary


IMPORT_BATCH = 1000
# Papers an import writes before it builds the text indexes at its end instead of row by
# row (only once it has also written more than the table held: papers.importers.indexes).
IMPORT_DEFER_INDEXES = 20_000


def _read_all(*, paths, fmt, summary: ImportSummary, progress: ProgressCallback | None):
    for path in _ordered(paths, fmt):
        try:
            with Source(path) as source:
                for count, item in enumerate(importers.read(source, fmt), start=1):
                    yield item
                    if progress:
                        progress(source, count, source.position, source.size)
        except importers.UnreadableFile as exc:
            # Whatever the file yielded before it broke is imported; the rest is reported.
            summary.unreadable.append(str(exc))
            logger.warning("import: %s", exc)


def _ordered(paths: Iterable[str], fmt: str) -> list[str]:
    # The Papers with Code links dump refers to papers the papers dump creates: read it last.
    return sorted(paths, key=lambda p: "links" in str(p).rsplit("/", 1)[-1].lower())


def _import_item(item, *, status: str, summary: ImportSummary) -> None:
    if isinstance(item, Skip):
        summary.skipped.append(item)
        return
    try:
        with transaction.atomic():
            paper, outcome = paper_upsert(record=item, status=status)
    except RecordError as exc:
        summary.skipped.append(Skip(item.location, str(exc)))
        return
    except IntegrityError as exc:
        summary.skipped.append(Skip(item.location, f"conflicts with a stored record ({exc})"))
        return
    except (DatabaseError, OverflowError) as exc:
        # A value the readers let through but the database refuses: this record is
        # reported, its savepoint rolled back, and the batch around it goes on.
        summary.skipped.append(Skip(item.location, f"the database refused it ({exc})"))
        return
    summary.bad_fields.extend(Skip(item.location, problem) for problem in item.problems)
    setattr(summary, outcome, getattr(summary, outcome) + 1)
    if outcome == "created" and summary.track_ids:
        summary.created_ids.append(paper.pk)


def paper_upsert(*, record: PaperRecord, status: str = Paper.Status.PUBLISHED):
    """Create or merge the Paper for `record`; returns (paper, "created"|"updated"|"unchanged").

    One paper is one record: a record matches a stored paper by arXiv id (versions folded)
    or else by normalised title. Raises RecordError when the record cannot be placed.
    """
    title_key = normalise_title(record.title)
    if not title_key:
        raise RecordError("the title has no letters or digits")
    by_id = Paper.objects.filter(arxiv_id=record.arxiv_id).first() if record.arxiv_id else None
    by_title = Paper.objects.filter(title_key=title_key).first()
    if by_id and by_title and by_id.pk != by_title.pk:
        if by_title.arxiv_id:
            raise RecordError(
                f"its title is that of arXiv {by_title.arxiv_id}, a different arXiv id"
            )
        paper_merge(into=by_id, other=by_title)
    elif by_title and not by_id and record.arxiv_id and by_title.arxiv_id:
        raise RecordError(f"its title is that of arXiv {by_title.arxiv_id}, a different arXiv id")
    paper = by_id or by_title

    if paper is None:
        if record.links_only:
            raise RecordError("no paper with this arXiv id or title to link the code to")
        paper = _paper_create(record=record, status=status)
        _link_code(paper=paper, record=record)
        return paper, "created"

    changed = _paper_update(paper=paper, record=record)
    changed |= _link_code(paper=paper, record=record)
    return paper, "updated" if changed else "unchanged"


def _paper_create(*, record: PaperRecord, status: str) -> Paper:
    paper = Paper(
        arxiv_id=record.arxiv_id,
        status=status,
        sources=[record.source],
        **{name: getattr(record, name) for name in METADATA_FIELDS},
    )
    paper.slug = _unique_slug(record.title, record.arxiv_id)
    paper.save()
    # A record that names its topics (our JSONL) is curated; others start from categories.
    _add_topics(paper=paper, topics=record.topics or topics_for_categories(record.categories))
    return paper


def _paper_update(*, paper: Paper, record: PaperRecord) -> bool:
    changed = []
    rank = SOURCE_RANK.get(record.source, 0)
    authoritative = not record.links_only and all(
        rank >= SOURCE_RANK.get(source, 0) for source in paper.sources
    )
    for name in METADATA_FIELDS:
        new, old = getattr(record, name), getattr(paper, name)
        if new in (None, "", []) or new == old:
            continue
        if authoritative or old in (None, "", []):
            if name == "title" and normalise_title(new) != paper.title_key:
                other = Paper.objects.filter(title_key=normalise_title(new)).first()
                if other and other.pk != paper.pk:
                    continue  # two stored papers claim the title: keep ours, say nothing
            setattr(paper, name, new)
            changed.append(name)
    if record.arxiv_id and not paper.arxiv_id:
        paper.arxiv_id = record.arxiv_id
        changed.append("arxiv_id")
    if record.source not in paper.sources:
        paper.sources = [*paper.sources, record.source]
        changed.append("sources")
    if changed:
        paper.save()
    return bool(changed) | _add_topics(paper=paper, topics=record.topics)


def _unique_slug(title: str, arxiv_id: str | None) -> str:
    base = slugify(title)[:90].strip("-") or "paper"
    if not Paper.objects.filter(slug=base).exists():
        return base
    if arxiv_id:
        candidate = f"{base}-{slugify(arxiv_id.replace('.', '-'))}"
        if not Paper.objects.filter(slug=candidate).exists():
            return candidate
    taken = set(Paper.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _add_topics(*, paper: Paper, topics: list[tuple[str, str]]) -> bool:
    if not topics:
        return False
    have = set(paper.topics.values_list("slug", flat=True))
    missing = [(slug, name) for slug, name in topics if slug not in have]
    for slug, name in missing:
        topic, _ = Topic.objects.get_or_create(slug=slug, defaults={"name": name})
        paper.topics.add(topic)
    return bool(missing)


def _link_code(*, paper: Paper, record: PaperRecord) -> bool:
    repos = list(record.repositories)
    known = {r.url for r in repos}
    # Links the authors wrote into the abstract (or arXiv comment) are their own code.
    for url in extract_code_links(f"{record.abstract} {record.code_text}"):
        if url not in known:
            _, owner, name = normalise_repository_url(url)
            repos.append(RepositoryRecord(url=url, owner=owner, name=name, is_official=True))
            known.add(url)
    changed = False
    for repo in repos:
        changed |= repository_link(paper=paper, record=repo)
    if changed:
        papers_refresh_code_stats(paper_ids=[paper.pk])
    return changed


def repository_link(*, paper: Paper, record: RepositoryRecord) -> bool:
    """Attach the repository `record` describes to `paper`; True if anything changed."""
    changed = False
    repo = Repository.objects.filter(url=record.url).first()
    if repo is None:
        repo = Repository.objects.create(
            url=record.url,
            owner=record.owner[:100],
            name=record.name[:100],
            framework=record.framework,
            stars=record.stars or 0,
        )
        if record.stars is not None:
            StarSnapshot.objects.create(
                repository=repo, taken_at=timezone.now(), stars=record.stars
            )
        changed = True
    else:
        updates = repository_updates(repo=repo, record=record)
        if updates:
            Repository.objects.filter(pk=repo.pk).update(**updates)
            changed = True
    link, created = PaperRepository.objects.get_or_create(
        paper=paper, repository=repo, defaults={"is_official": record.is_official}
    )
    if created:
        changed = True
    elif record.is_official and not link.is_official:
        PaperRepository.objects.filter(pk=link.pk).update(is_official=True)
        changed = True
    return changed


def papers_refresh_code_stats(*, paper_ids=None, repository_ids=None) -> int:
    """Recompute the denormalised `stars` (best repository) and `has_code` in one UPDATE."""
    papers = Paper.objects.all()
    if paper_ids is not None:
        papers = papers.filter(pk__in=paper_ids)
    if repository_ids is not None:
        papers = papers.filter(code_links__repository_id__in=repository_ids).distinct()
    links = PaperRepository.objects.filter(paper=OuterRef("pk"))
    return Paper.objects.filter(pk__in=papers.values("pk")).update(
        stars=Coalesce(
            Subquery(links.order_by("-repository__stars").values("repository__stars")[:1]),
            Value(0),
        ),
        has_code=Exists(links),
    )


def paper_merge(*, into: Paper, other: Paper) -> Paper:
    """Fold `other` into `into` (the same paper from two sources) and delete `other`."""
    for name in METADATA_FIELDS:
        if getattr(into, name) in (None, "", []) and getattr(other, name) not in (None, "", []):
            setattr(into, name, getattr(other, name))
    into.arxiv_id = into.arxiv_id or other.arxiv_id
    into.sources = sorted(set(into.sources) | set(other.sources))
    into.boost = max(into.boost, other.boost)
    into.pinned = into.pinned or other.pinned
    for link in other.code_links.all():
        PaperRepository.objects.get_or_create(
            paper=into, repository_id=link.repository_id, defaults={"is_official": link.is_official}
        )
    into.topics.add(*other.topics.all())
    # Delete first: `other` still holds the unique arXiv id and title key `into` may take.
    other.delete()
    into.save()
    papers_refresh_code_stats(paper_ids=[into.pk])
    logger.info("merged paper %s into %s", other.pk, into.pk)
    return into


# --- Stars -----------------------------------------------------------------------------------


def repository_record_stars(
    *, repository: Repository, stars: int, taken_at: datetime, etag: str = ""
) -> StarSnapshot:
    """Store a fetched star count: a snapshot for the history, the current count on the
    repository, and the denormalised count on its papers."""
    snapshot, _ = StarSnapshot.objects.update_or_create(
        repository=repository, taken_at=taken_at, defaults={"stars": stars}
    )
    changed = repository.stars != stars
    Repository.objects.filter(pk=repository.pk).update(
        stars=stars, stars_checked_at=taken_at, etag=etag or repository.etag
    )
    repository.stars, repository.stars_checked_at = stars, taken_at
    repository.etag = etag or repository.etag
    if changed:
        papers_refresh_code_stats(repository_ids=[repository.pk])
    return snapshot


# --- Editorial actions ---------------------------------------------------------------------------


def papers_set_status(*, papers: QuerySet, status: str) -> int:
    if status not in Paper.Status.values:
        raise ValueError(f"unknown status {status!r}")
    count = papers.exclude(status=status).update(status=status, updated_at=timezone.now())
    if count:
        _recompute_soon()
    return count


def papers_pin(*, papers: QuerySet, until: datetime | None = None) -> int:
    """Pin to the top of every trending window, until `until` (None: until unpinned)."""
    count = papers.update(pinned=True, boost_until=until, updated_at=timezone.now())
    _recompute_soon()
    return count


def papers_unpin(*, papers: QuerySet) -> int:
    count = papers.filter(pinned=True).update(pinned=False, updated_at=timezone.now())
    if count:
        _recompute_soon()
    return count


def _recompute_soon():
    # Editors expect to see a pin or a publish on the site now, not at the next hourly run.
    from papers.tasks import recompute_trending

    recompute_trending.delay_on_commit()


# --- Add by arXiv id -------------------------------------------------------------------------


def papers_add_by_arxiv_ids(*, ids: list[str], client=None) -> ImportSummary:
    """Fetch `ids` from the arXiv API and create them as drafts (editors publish them)."""
    from papers.fetchers.arxiv import ArxivClient

    client = client or ArxivClient()
    summary = papers_import_items(items=client.fetch_ids(ids), status=Paper.Status.DRAFT)
    if summary.changed:
        # In the editor's request: the recompute (half a minute at a million papers) runs in
        # a worker right after this commits, not while the admin page waits.
        _recompute_soon()
        summary.scores_refreshed = True
    return summary


def papers_import_items(*, items: Iterable, status: str) -> ImportSummary:
    """Import records a fetcher produced (PaperRecord or Skip items), one savepoint each."""
    summary = ImportSummary()
    with transaction.atomic():
        for item in items:
            _import_item(item, status=status, summary=summary)
    # A fetch runs unattended: its bad records and dropped fields go to the log.
    for skip in summary.skipped:
        logger.warning("import skipped %s: %s", skip.location, skip.reason)
    for bad in summary.bad_fields:
        logger.warning("import dropped a bad field of %s: %s", bad.location, bad.reason)
    return summary


# --- Scores after a change -----------------------------------------------------------------

# Any constant: one PostgreSQL advisory lock shared by every recompute of the scores.
_SCORES_LOCK = 0x7A9E5C0


def papers_refresh_scores() -> dict[str, int]:
    """Recompute the trending scores now; every page cached from the old ones goes with them.

    Recomputes never overlap: each waits for the one running (on PostgreSQL an advisory
    lock; SQLite has one writer at a time anyway), since two at once would both insert the
    full set of scores.
    """
    from django.db import connection

    from papers.trending import trending_recompute

    if connection.vendor != "postgresql":
        return trending_recompute()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_SCORES_LOCK])
    try:
        return trending_recompute()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_SCORES_LOCK])


def _refresh_after_import(summary: ImportSummary) -> None:
    # Whatever the hourly recompute would prepare must be ready now: the home page, the
    # feeds and the next digest show what was just imported, not what was there before.
    if summary.changed:
        papers_refresh_scores()
        summary.scores_refreshed = True
