"""The bulk path of papers.services.papers_import: a batch of records in a few queries.

A Papers with Code migration is half a million papers and 300,000 code links. Record by
record that is a dozen queries each, hours in all. Most records of such an import are
either a paper the database has never seen (the papers dump) or a code link to a paper
the same import just created (the links dump), so those two kinds are written in bulk:

- new papers: one INSERT per batch for the papers, their topics and their code;
- code links: papers and repositories looked up by batch, missing rows inserted in bulk.

Everything else (a record matching a stored paper, two records of one paper in a batch,
merges, a title without letters) goes through `one_by_one`, the per-record upsert with
its merge rules, so the outcome is the same as importing the records one at a time.
"""

import json
from collections.abc import Callable

import psycopg
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from papers.identifiers import extract_code_links, normalise_repository_url
from papers.importers.base import PaperRecord, RepositoryRecord, Skip
from papers.models import (
    Paper,
    PaperRepository,
    Repository,
    StarSnapshot,
    Topic,
    author_keys,
    normalise_title,
)
from papers.topics import topics_for_categories

OneByOne = Callable[[object], None]


def repository_updates(*, repo: Repository, record: RepositoryRecord) -> dict:
    """What an imported code link may change on a stored repository: its framework if
    unknown, and its stars until GitHub's own count has been fetched (then GitHub wins)."""
    updates = {}
    if record.framework and not repo.framework:
        updates["framework"] = record.framework
    if record.stars is not None and repo.stars_checked_at is None and repo.stars != record.stars:
        updates["stars"] = record.stars
    return updates


def store_batch(items: list, *, status: str, summary, one_by_one: OneByOne) -> None:
    """Import `items` (PaperRecord or Skip) into `summary` (a services.ImportSummary)."""
    records = []
    for item in items:
        if isinstance(item, Skip):
            summary.skipped.append(item)
        else:
            records.append(item)
    keys = {id(r): normalise_title(r.title) for r in records}
    stored_ids = set(
        Paper.objects.filter(arxiv_id__in={r.arxiv_id for r in records if r.arxiv_id})
        .values_list("arxiv_id", flat=True)
        .iterator()
    )
    stored_keys = set(
        Paper.objects.filter(title_key__in=set(keys.values()))
        .values_list("title_key", flat=True)
        .iterator()
    )
    fresh, links, rest = [], [], []
    batch_ids, batch_keys = set(), set()
    for record in records:
        key = keys[id(record)]
        if record.links_only:
            links.append(record)
        elif (
            not key
            or key in stored_keys
            or key in batch_keys
            or (record.arxiv_id and (record.arxiv_id in stored_ids or record.arxiv_id in batch_ids))
        ):
            rest.append(record)
        else:
            fresh.append(record)
            batch_keys.add(key)
            batch_ids.add(record.arxiv_id)
    if fresh:
        try:
            with transaction.atomic():
                _create(fresh, keys=keys, status=status, summary=summary)
        except (DatabaseError, OverflowError):
            # A concurrent import took a slug or title meanwhile, or a value the database
            # refuses: record by record, each in its own savepoint, so only that one is lost.
            rest = fresh + rest
    # Papers before code links, as the files come (a batch can span the end of the papers
    # dump and the start of the links dump).
    for record in rest:
        one_by_one(record)
    for record in _link(links, summary=summary):
        one_by_one(record)


class PlannerStatistics:
    """ANALYZE the tables an import fills each time what it wrote doubles (PostgreSQL).

    An import into an empty or small database grows the tables faster than autovacuum
    analyzes them; with the old statistics the planner reads the whole repositories table
    for each paper whose code stats are refreshed, and a 300,000-link dump then takes hours
    instead of minutes. Doubling keeps it to a handful of ANALYZEs whatever the size.
    """

    # Not papers_paper: its search vectors make that ANALYZE take a minute, and its rows
    # are only ever found by primary or unique key here.
    TABLES = "papers_repository, papers_paperrepository"

    def __init__(self, first: int = 1000):
        self.next = first

    def refresh(self, *, written: int) -> None:
        if written < self.next or connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {self.TABLES}")
        self.next = written * 2


def _create(records: list[PaperRecord], *, keys: dict, status: str, summary) -> None:
    slugs = _slugs(records)
    code = {id(r): _code_of(r) for r in records}
    repos = _repositories([repo for links in code.values() for repo in links])
    # Each paper's denormalised code stats are known before it is written, which spares
    # rewriting every row (and its search indexes) right after the insert.
    papers = [
        Paper(
            arxiv_id=r.arxiv_id,
            status=status,
            sources=[r.source],
            slug=slugs[id(r)],
            title_key=keys[id(r)],
            # bulk_create does not call save(), which keeps these in step with authors.
            author_keys=author_keys(r.authors),
            title=r.title,
            doi=r.doi,
            abstract=r.abstract,
            authors=r.authors,
            published_on=r.published_on,
            updated_on=r.updated_on,
            categories=r.categories,
            abstract_url=r.abstract_url,
            pdf_url=r.pdf_url,
            stars=max((repos[link.url].stars for link in code[id(r)]), default=0),
            has_code=bool(code[id(r)]),
        )
        for r in records
    ]
    _insert_papers(papers)
    pairs = list(zip(records, papers, strict=True))
    _add_topics(pairs)
    links = [(paper, link) for record, paper in pairs for link in code[id(record)]]
    _link_repositories(links, repos=repos, refresh=False)
    for record, paper in pairs:
        summary.bad_fields.extend(Skip(record.location, p) for p in record.problems)
        if summary.track_ids:
            summary.created_ids.append(paper.pk)
    summary.created += len(papers)


# The columns of a new paper an import fills; the others take their defaults.
_INSERTED = (
    ("arxiv_id", "varchar"), ("doi", "varchar"), ("slug", "varchar"), ("title", "text"),
    ("title_key", "varchar"), ("author_keys", "text"), ("abstract", "text"),
    ("authors", "jsonb"), ("published_on", "date"), ("updated_on", "date"),
    ("categories", "jsonb"), ("abstract_url", "varchar"), ("pdf_url", "varchar"),
    ("status", "varchar"), ("sources", "jsonb"), ("stars", "integer"), ("has_code", "boolean"),
)  # fmt: skip
_JSON = {"authors", "categories", "sources"}


def _insert_papers(papers: list[Paper]) -> None:
    """Insert `papers`, setting their pk. On PostgreSQL one INSERT of one array per column
    (UNNEST): bulk_create's 20 placeholders a paper, each prepared by its model field and
    then parsed by the driver, cost the command more CPU than the rows cost the server.
    Same values, same constraints: the search vector still comes from the trigger."""
    if connection.vendor != "postgresql":
        Paper.objects.bulk_create(papers)
        return
    now = timezone.now()
    columns = [
        [
            json.dumps(getattr(p, name), ensure_ascii=False) if name in _JSON else getattr(p, name)
            for p in papers
        ]
        for name, _ in _INSERTED
    ]
    names = ", ".join(name for name, _ in _INSERTED)
    arrays = ", ".join(f"%s::{kind}[]" for _, kind in _INSERTED)
    defaults = {"boost": 0, "pinned": False, "created_at": now, "updated_at": now}
    # Bound by the server, not spelled into the SQL by the driver as Django's cursors do:
    # array literals cannot hold every JSON text unquoted, and parameters cost no parsing.
    # wrap_database_errors: a refused value raises Django's DatabaseError, which sends the
    # batch to the per-record path as bulk_create's would.
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"INSERT INTO papers_paper ({names}, {', '.join(defaults)}) "
            f"SELECT *, {', '.join(['%s'] * len(defaults))} FROM UNNEST({arrays}) "
            "RETURNING id, slug",
            [*defaults.values(), *columns],
        )
        ids = {slug: pk for pk, slug in cursor.fetchall()}
    for paper in papers:
        paper.pk = ids[paper.slug]
        paper.created_at = paper.updated_at = now
        paper._state.adding = False


def _slugs(records: list[PaperRecord]) -> dict:
    """Unique slugs, as services._unique_slug spells them, for a whole batch at once."""
    bases = {id(r): slugify(r.title)[:90].strip("-") or "paper" for r in records}
    taken = set(Paper.objects.filter(slug__in=set(bases.values())).values_list("slug", flat=True))
    slugs = {}
    for record in records:
        base = bases[id(record)]
        slug = base
        if slug in taken:
            # Rare (two papers of one title): checked against the database one by one.
            candidates = [f"{base}-{slugify(record.arxiv_id.replace('.', '-'))}"] * bool(
                record.arxiv_id
            )
            number = 2
            while True:
                if not candidates:
                    candidates.append(f"{base}-{number}")
                    number += 1
                slug = candidates.pop()
                if slug not in taken and not Paper.objects.filter(slug=slug).exists():
                    break
        taken.add(slug)
        slugs[id(record)] = slug
    return slugs


def _add_topics(pairs) -> None:
    wanted = {}
    for record, _ in pairs:
        for slug, name in record.topics or topics_for_categories(record.categories):
            wanted.setdefault(slug, name)
    if not wanted:
        return
    Topic.objects.bulk_create(
        [Topic(slug=slug, name=name) for slug, name in wanted.items()], ignore_conflicts=True
    )
    topic_ids = dict(Topic.objects.filter(slug__in=wanted).values_list("slug", "pk"))
    through = Paper.topics.through
    rows = {
        (paper.pk, topic_ids[slug])
        for record, paper in pairs
        for slug, _ in record.topics or topics_for_categories(record.categories)
    }
    through.objects.bulk_create(
        [through(paper_id=p, topic_id=t) for p, t in rows], ignore_conflicts=True
    )


def _code_of(record: PaperRecord) -> list[RepositoryRecord]:
    # As services._link_code: the record's repositories, then links the authors wrote.
    repos = list(record.repositories)
    known = {r.url for r in repos}
    for url in extract_code_links(f"{record.abstract} {record.code_text}"):
        if url not in known:
            _, owner, name = normalise_repository_url(url)
            repos.append(RepositoryRecord(url=url, owner=owner, name=name, is_official=True))
            known.add(url)
    return repos


class _Repositories(dict):
    """url -> Repository for a batch, and the ids of those the batch created or changed."""

    changed: set


def _repositories(links: list[RepositoryRecord]) -> _Repositories:
    """Every repository `links` name, created or updated as services.repository_link
    does one at a time: missing ones inserted in bulk, with their first star snapshot."""
    records = {}
    for repo in links:
        records.setdefault(repo.url, repo)
    stored = _Repositories((r.url, r) for r in Repository.objects.filter(url__in=records))
    missing = [records[url] for url in records if url not in stored]
    changed_repos = set()
    if missing:
        Repository.objects.bulk_create(
            [
                Repository(
                    url=r.url,
                    owner=r.owner[:100],
                    name=r.name[:100],
                    framework=r.framework,
                    stars=r.stars or 0,
                )
                for r in missing
            ],
            ignore_conflicts=True,
        )
        created = Repository.objects.filter(url__in=[r.url for r in missing])
        now = timezone.now()
        snapshots = []
        for repo in created:
            stored[repo.url] = repo
            changed_repos.add(repo.pk)
            if records[repo.url].stars is not None:
                snapshots.append(
                    StarSnapshot(repository=repo, taken_at=now, stars=records[repo.url].stars)
                )
        StarSnapshot.objects.bulk_create(snapshots, ignore_conflicts=True)
    for record in links:
        repo = stored[record.url]
        if repo.pk in changed_repos:
            continue
        updates = repository_updates(repo=repo, record=record)
        if updates:
            Repository.objects.filter(pk=repo.pk).update(**updates)
            for name, value in updates.items():
                setattr(repo, name, value)
            changed_repos.add(repo.pk)
    stored.changed = changed_repos
    return stored


def _link_repositories(code, *, repos: _Repositories, refresh: bool = True) -> set[int]:
    """Attach each (paper, repository record) of `code`, as services.repository_link does
    one at a time; the ids of the papers whose code changed, their code stats refreshed
    unless `refresh` is off (new papers were written with theirs)."""
    stored, changed_repos = repos, repos.changed
    official = {}
    for paper, record in code:
        pair = (paper.pk, stored[record.url].pk)
        official[pair] = official.get(pair, False) or record.is_official
    existing = {
        (link.paper_id, link.repository_id): link
        for link in PaperRepository.objects.filter(
            paper_id__in={p for p, _ in official}, repository_id__in={r for _, r in official}
        )
    }
    new = [pair for pair in official if pair not in existing]
    PaperRepository.objects.bulk_create(
        [
            PaperRepository(paper_id=p, repository_id=r, is_official=official[(p, r)])
            for p, r in new
        ],
        ignore_conflicts=True,
    )
    promote = [
        existing[pair].pk
        for pair, is_official in official.items()
        if pair in existing and is_official and not existing[pair].is_official
    ]
    if promote:
        PaperRepository.objects.filter(pk__in=promote).update(is_official=True)
    changed = {p for p, _ in new} | {p for (p, r) in official if r in changed_repos}
    changed |= {pair[0] for pair in official if existing.get(pair) and existing[pair].pk in promote}
    if changed and refresh:
        from papers.services import papers_refresh_code_stats

        papers_refresh_code_stats(paper_ids=changed)
    return changed


def _link(records: list[PaperRecord], *, summary) -> list[PaperRecord]:
    """Code-link records (the PwC links dump) in bulk; returns the ones that need the
    per-record path (a paper to merge, or one that gains its arXiv id from the link)."""
    if not records:
        return []
    by_id = {
        p.arxiv_id: p
        for p in Paper.objects.filter(
            arxiv_id__in={r.arxiv_id for r in records if r.arxiv_id}
        ).only("pk", "arxiv_id", "title_key", "sources")
    }
    keys = {id(r): normalise_title(r.title) for r in records}
    by_key = {
        p.title_key: p
        for p in Paper.objects.filter(title_key__in=set(keys.values())).only(
            "pk", "arxiv_id", "title_key", "sources"
        )
    }
    careful, placed = [], []
    for record in records:
        paper = by_id.get(record.arxiv_id) if record.arxiv_id else None
        other = by_key.get(keys[id(record)])
        if paper and other and paper.pk != other.pk:
            careful.append(record)
            continue
        paper = paper or other
        if paper is None:
            summary.skipped.append(
                Skip(record.location, "no paper with this arXiv id or title to link the code to")
            )
        elif (record.arxiv_id and not paper.arxiv_id) or record.source not in paper.sources:
            careful.append(record)
        else:
            placed.append((record, paper))
    if placed:
        code = [(paper, repo) for record, paper in placed for repo in record.repositories]
        repos = _repositories([repo for _, repo in code])
        changed = _link_repositories(code, repos=repos)
        for record, paper in placed:
            summary.bad_fields.extend(Skip(record.location, p) for p in record.problems)
            if paper.pk in changed:
                summary.updated += 1
            else:
                summary.unchanged += 1
    return careful
