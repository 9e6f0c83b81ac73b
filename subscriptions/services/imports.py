"""Importing subscriber lists (Mailchimp, listmonk, plain CSV) with a report."""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from subscriptions.models import ConsentRecord, Subscriber
from subscriptions.services.lifecycle import _consent, _send_later, normalise_email


@dataclass
class ImportReport:
    imported: int = 0
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    bad_rows: list[tuple[int, str]] = field(default_factory=list)


def subscribers_import(
    *,
    rows: Iterable[tuple[int, str]],
    confirmed: bool,
    source: str,
    report: ImportReport | None = None,
) -> ImportReport:
    """Add (line number, address) rows as subscribers, one consent record per address.

    Bad addresses and duplicates (within the file, or already known in any status: an
    import never resubscribes anyone) are skipped and listed in the report. Unconfirmed
    imports get the double opt-in e-mail; `confirmed` ones are trusted as already opted in
    where `source` says.
    """
    report = report or ImportReport()
    seen = set()
    for line, raw in rows:
        email = normalise_email(raw or "")
        try:
            validate_email(email)
        except ValidationError:
            report.bad_rows.append((line, f"not an e-mail address: {raw!r}"))
            continue
        if email in seen or Subscriber.objects.by_email(email).exists():
            report.duplicates.append((line, email))
            continue
        seen.add(email)
        with transaction.atomic():
            subscriber = Subscriber.objects.create(
                email=email,
                status=Subscriber.Status.CONFIRMED if confirmed else Subscriber.Status.PENDING,
                confirmed_at=timezone.now() if confirmed else None,
                confirm_nonce="" if confirmed else secrets.token_hex(8),
            )
            _consent(subscriber, ConsentRecord.Kind.IMPORT, source=source)
            if not confirmed:
                _send_later(subscriber, "confirm")
        report.imported += 1
    return report
