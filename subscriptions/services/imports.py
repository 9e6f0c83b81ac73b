"""Importing subscriber lists (Mailchimp, listmonk, plain CSV) with a report.

Built for migrations of a million addresses: rows are read lazily and written a chunk at
a time (one existence query, one INSERT of subscribers, one of consent records), and the
report hands each skipped row on as it is found instead of keeping it, so memory stays
the same whatever the size of the file. See bench/import_subscribers.py.
"""

import contextlib
import itertools
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from lib import addresses
from subscriptions.models import ConsentRecord, Subscriber
from subscriptions.services.lifecycle import _send_later

CHUNK_SIZE = 5000


class _EmailValidator(EmailValidator):
    """Django's e-mail validation with its patterns compiled up front: the lazily
    compiled class attributes cost a proxy lookup per use, a third of the time an
    import of a million rows spent checking addresses."""

    user_regex = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)
    domain_regex = re.compile(
        EmailValidator.domain_regex.pattern, EmailValidator.domain_regex.flags
    )
    literal_regex = re.compile(
        EmailValidator.literal_regex.pattern, EmailValidator.literal_regex.flags
    )


validate_email = _EmailValidator()


@dataclass
class ImportReport:
    """What an import did. Subclass and override `bad_row`/`duplicate` to stream the
    skipped rows somewhere (the command prints them) instead of keeping them."""

    imported: int = 0
    consents: int = 0
    duplicate_count: int = 0
    bad_row_count: int = 0

    def __post_init__(self):
        self.duplicates: list[tuple[int, str]] = []
        self.bad_rows: list[tuple[int, str]] = []

    def bad_row(self, line: int, reason: str) -> None:
        self.bad_row_count += 1
        self.bad_rows.append((line, reason))

    def duplicate(self, line: int, email: str) -> None:
        self.duplicate_count += 1
        self.duplicates.append((line, email))


def subscribers_import(
    *,
    rows: Iterable[tuple[int, str]],
    confirmed: bool,
    source: str,
    report: ImportReport | None = None,
) -> ImportReport:
    """Add (line number, address) rows as subscribers, one consent record per address.

    Addresses are normalised as everywhere else (lib.addresses), so an import cannot
    bring back a suppressed address under another spelling. Bad addresses, addresses
    the ESP would refuse, and duplicates (within the file, or already known in any
    status: an import never resubscribes anyone) are skipped and reported. Unconfirmed
    imports get the double opt-in e-mail; `confirmed` ones are trusted as already opted
    in where `source` says. Each chunk is committed on its own, so a file that turns out
    unreadable half-way keeps the rows before the bad spot.
    """
    report = report or ImportReport()
    rows = iter(rows)
    options = {"confirmed": confirmed, "source": source}
    on_its_way = None
    with _pipeline():
        while chunk := list(itertools.islice(rows, CHUNK_SIZE)):
            # Checking this chunk's rows in Python overlaps with the database storing the
            # previous one (PostgreSQL): the two took about the same time.
            fresh = _check(chunk, report)
            if on_its_way:
                _finish(on_its_way, report=report, **options)
            on_its_way = _start(fresh, **options) if fresh else None
        if on_its_way:
            _finish(on_its_way, report=report, **options)
    return report


def _clean(raw: str | None) -> tuple[str, str | None]:
    """(normalised address, None) or (raw, why the row is bad)."""
    try:
        email = addresses.normalise(raw or "")
        validate_email(email)
    except (addresses.InvalidAddress, ValidationError):
        return raw, f"not an e-mail address: {raw!r}"
    reason = addresses.undeliverable_reason(email)
    if reason:
        return raw, f"{reason} ({raw!r})"
    return email, None


def _check(chunk, report: ImportReport) -> dict[str, int]:
    """{address: line of its first occurrence} of the chunk's good, new-looking rows."""
    fresh: dict[str, int] = {}
    for line, raw in chunk:
        email, problem = _clean(raw)
        if problem:
            report.bad_row(line, problem)
        elif email in fresh:
            report.duplicate(line, email)
        else:
            fresh[email] = line
    return fresh


@dataclass
class _Insert:
    fresh: dict[str, int]
    created: dict[str, int] | None = None  # {address: id}, once known
    cursor: object = None  # PostgreSQL: the cursor whose result is still on its way


def _start(fresh: dict[str, int], *, confirmed: bool, source: str) -> _Insert:
    if connection.vendor == "postgresql":
        cursor = _send_postgresql(list(fresh), confirmed=confirmed, source=source)
        return _Insert(fresh, cursor=cursor)
    with transaction.atomic():
        created = _insert_orm(list(fresh), confirmed=confirmed, source=source)
    return _Insert(fresh, created=created)


def _finish(insert: _Insert, *, confirmed: bool, source: str, report: ImportReport) -> None:
    if insert.cursor is not None:
        with insert.cursor:
            insert.created = dict(insert.cursor.fetchall())
    created = insert.created
    if not confirmed:
        for pk in created.values():
            _send_later(Subscriber(pk=pk), "confirm")
    # Whatever was not created was known already, in any status (earlier chunks of this
    # file included): an import never resubscribes anyone.
    for email, line in insert.fresh.items():
        if email not in created:
            report.duplicate(line, email)
    report.imported += len(created)
    report.consents += len(created)


@contextlib.contextmanager
def _pipeline():
    """psycopg's pipeline mode on PostgreSQL: a statement is sent without waiting for
    its result, which is read when `_finish` asks for it."""
    if connection.vendor != "postgresql":
        yield
        return
    import psycopg

    connection.ensure_connection()
    if not psycopg.Pipeline.is_supported():
        yield
        return
    with connection.connection.pipeline():
        yield


def _template(*, confirmed: bool, now) -> Subscriber:
    return Subscriber(
        status=Subscriber.Status.CONFIRMED if confirmed else Subscriber.Status.PENDING,
        confirmed_at=now if confirmed else None,
        created_at=now,
        updated_at=now,
    )


def _insert_orm(emails: list[str], *, confirmed: bool, source: str) -> dict[str, int]:
    """{address: id} of the subscribers created, each with its consent record."""
    now = timezone.now()
    known = set(
        Subscriber.objects.alias(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .values_list("email", flat=True)
    )
    created = {}
    for email in emails:
        if email in known:
            continue
        subscriber = _template(confirmed=confirmed, now=now)
        subscriber.email = email
        subscriber.confirm_nonce = "" if confirmed else secrets.token_hex(8)
        try:
            with transaction.atomic():  # someone may sign up with it meanwhile
                subscriber.save()
        except IntegrityError:
            continue
        ConsentRecord.objects.create(
            subscriber=subscriber, kind=ConsentRecord.Kind.IMPORT, source=source[:200]
        )
        created[email] = subscriber.pk
    return created


def _send_postgresql(emails: list[str], *, confirmed: bool, source: str):
    """Send the INSERT of a chunk; its cursor returns (address, id) of each subscriber
    created, each with its consent record.

    One statement for the whole chunk, so it commits or fails as one even outside a
    transaction: the addresses and nonces go in as two arrays;
    ON CONFLICT on the lower(email) unique index skips addresses already known, including
    one someone signs up with during the import; the consent records are written from
    the inserted rows. The ORM's bulk_create spent about 1 ms a row preparing values,
    more than PostgreSQL took to store them.
    """
    now = timezone.now()
    template = _template(confirmed=confirmed, now=now)
    quote = connection.ops.quote_name
    columns, values, params = [], [], []
    for field in Subscriber._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(field.column))
        if field.attname in ("email", "confirm_nonce"):
            values.append(f"rows.{field.attname}")  # per row, from the arrays
        else:
            # The model's default (or the template's value), the same for every row; cast,
            # since a parameter in a SELECT list does not take the column's type by itself.
            values.append(f"%s::{field.db_type(connection)}")
            params.append(field.get_db_prep_save(getattr(template, field.attname), connection))
    consent = ConsentRecord._meta
    sql = f"""
        WITH new AS (
            INSERT INTO {quote(Subscriber._meta.db_table)} ({", ".join(columns)})
            SELECT {", ".join(values)}
            FROM unnest(%s::text[], %s::text[]) AS rows(email, confirm_nonce)
            ON CONFLICT DO NOTHING
            RETURNING id, email
        ), consents AS (
            INSERT INTO {quote(consent.db_table)}
                ({quote(consent.get_field("subscriber").column)}, kind, source, user_agent,
                 created_at)
            SELECT id, %s::text, %s::text, '', %s::timestamptz FROM new
        )
        SELECT email, id FROM new
    """
    import psycopg  # only here: every other database takes the ORM's path

    nonces = ["" if confirmed else secrets.token_hex(8) for _ in emails]
    # A server-side-binding cursor: the arrays travel as two parameters instead of being
    # spelled out into the SQL text, as Django's client-side cursor would.
    cursor = psycopg.Cursor(connection.connection)
    cursor.execute(sql, [*params, emails, nonces, ConsentRecord.Kind.IMPORT, source[:200], now])
    return cursor
