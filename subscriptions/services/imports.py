"""Importing subscriber lists (Mailchimp, listmonk, plain CSV) with a report.

Built for migrations of a million addresses: rows are read lazily and written a chunk at
a time (one existence query, one INSERT of subscribers, one of consent records), and the
report hands each skipped row on as it is found instead of keeping it, so memory stays
the same whatever the size of the file. See bench/import_subscribers.py.
"""

import itertools
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from lib import addresses
from subscriptions.models import ConsentRecord, Subscriber
from subscriptions.services.lifecycle import _send_later

CHUNK_SIZE = 2000


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
    while chunk := list(itertools.islice(rows, CHUNK_SIZE)):
        _import_chunk(chunk, confirmed=confirmed, source=source, report=report)
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


def _import_chunk(chunk, *, confirmed: bool, source: str, report: ImportReport) -> None:
    fresh: dict[str, int] = {}  # address -> line, first occurrence in this chunk
    for line, raw in chunk:
        email, problem = _clean(raw)
        if problem:
            report.bad_row(line, problem)
        elif email in fresh:
            report.duplicate(line, email)
        else:
            fresh[email] = line
    if not fresh:
        return
    # Known addresses, in any status; earlier chunks of this file are known by now too.
    known = set(
        Subscriber.objects.alias(email_lower=Lower("email"))
        .filter(email_lower__in=list(fresh))
        .values_list("email", flat=True)
    )
    new = [(line, email) for email, line in fresh.items() if email not in known]
    for email in known:
        report.duplicate(fresh[email], email)
    try:
        with transaction.atomic():
            created = _create(new, confirmed=confirmed, source=source)
    except IntegrityError:
        # Someone signed up with one of these addresses since the query above: take the
        # chunk one row at a time so only that row is skipped.
        created = []
        for line, email in new:
            try:
                with transaction.atomic():
                    created += _create([(line, email)], confirmed=confirmed, source=source)
            except IntegrityError:
                report.duplicate(line, email)
    report.imported += len(created)
    report.consents += len(created)


def _create(rows: list[tuple[int, str]], *, confirmed: bool, source: str) -> list[Subscriber]:
    now = timezone.now()
    subscribers = Subscriber.objects.bulk_create(
        [
            Subscriber(
                email=email,
                status=Subscriber.Status.CONFIRMED if confirmed else Subscriber.Status.PENDING,
                confirmed_at=now if confirmed else None,
                confirm_nonce="" if confirmed else secrets.token_hex(8),
            )
            for _, email in rows
        ]
    )
    ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(
                subscriber=subscriber, kind=ConsentRecord.Kind.IMPORT, source=source[:200]
            )
            for subscriber in subscribers
        ]
    )
    if not confirmed:
        for subscriber in subscribers:
            _send_later(subscriber, "confirm")
    return subscribers
