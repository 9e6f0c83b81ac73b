"""Writes for digests: compose editions, fan out, claim and send, record ESP events.

Exactly once, by the database: an edition is unique per (date, kind) and a delivery per
(edition, subscriber). A chunk claims its pending deliveries (SELECT ... FOR UPDATE SKIP
LOCKED, then status "sending") before the ESP is called, and marks them after. A rerun,
a retried task or a second worker only ever finds rows that are no longer pending.
"""

from digests.services.compose import (
    EditionEmpty,
    Pick,
    edition_get_or_compose,
    edition_pick_papers,
    edition_preview,
)
from digests.services.deliveries import (
    ChunkResult,
    backoff_seconds,
    delivery_fail_chunk,
    delivery_fail_stale,
    delivery_send_chunk,
    digest_fan_out,
    edition_finish_if_done,
)
from digests.services.feedback import delivery_record_event
from digests.services.runs import (
    SendSummary,
    digest_dry_run,
    digest_send_date,
    digest_send_due,
    digest_send_test,
)

__all__ = [
    "ChunkResult",
    "EditionEmpty",
    "Pick",
    "SendSummary",
    "backoff_seconds",
    "delivery_fail_chunk",
    "delivery_fail_stale",
    "delivery_record_event",
    "delivery_send_chunk",
    "digest_dry_run",
    "digest_fan_out",
    "digest_send_date",
    "digest_send_due",
    "digest_send_test",
    "edition_finish_if_done",
    "edition_get_or_compose",
    "edition_pick_papers",
    "edition_preview",
]
