"""The subscription lifecycle: sign up, confirm, preferences, pause, leave, suppress."""

import datetime
import enum
import re
import secrets
from collections.abc import Iterable
from functools import cache
from zoneinfo import available_timezones

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from lib import addresses, ratelimit
from subscriptions.models import ConsentRecord, Subscriber
from subscriptions.services import stats

# Statuses that end sending for good unless an editor reinstates the address.
SUPPRESSED = {Subscriber.Status.BOUNCED, Subscriber.Status.COMPLAINED}
# Statuses in which the subscriber gets (or will get, after a pause) the digest.
ACTIVE = {Subscriber.Status.CONFIRMED, Subscriber.Status.PAUSED}


class RateLimited(Exception):
    """Too many sign-up attempts from this address or client; nothing was sent."""


class LimitsUnavailable(Exception):
    """The rate-limit counters cannot be read (the cache is down); nothing was sent."""


class SubscribeOutcome(enum.Enum):
    # The caller must answer all three the same way, or it tells strangers who subscribes.
    CONFIRMATION_SENT = "confirmation_sent"
    ALREADY_SUBSCRIBED = "already_subscribed"
    SUPPRESSED = "suppressed"


class ConfirmOutcome(enum.Enum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"
    STALE = "stale"  # used, superseded by a newer link, or the address is suppressed


def normalise_email(email: str) -> str:
    """The one spelling of `email` that every comparison, limit and suppression uses
    (lib.addresses). Raises addresses.InvalidAddress for a domain no mail can reach."""
    return addresses.normalise(email)


def valid_timezone(name: str | None) -> str:
    """`name` if it is an IANA zone, else UTC (a browser may send anything)."""
    return name if name and name in timezone_names() else "UTC"


@cache
def timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _consent(subscriber, kind, *, source="", ip_address=None, user_agent=""):
    stats.list_day_count_consent(kind=kind, source=source)
    return ConsentRecord.objects.create(
        subscriber=subscriber,
        kind=kind,
        source=(source or "")[:200],
        ip_address=ip_address or None,
        user_agent=(user_agent or "")[:400],
    )


def _send_later(subscriber: Subscriber, kind: str) -> None:
    # Recorded in this transaction, sent once it commits (subscriptions.services.outbox).
    from subscriptions.services.outbox import outbound_email_queue_for_subscriber

    outbound_email_queue_for_subscriber(subscriber=subscriber, kind=kind)


def subscriber_subscribe(
    *,
    email: str,
    source: str,
    ip_address: str | None = None,
    user_agent: str = "",
    tz: str = "UTC",
) -> SubscribeOutcome:
    """Start a double opt-in for `email`, or remind an existing subscriber of their link.

    Raises RateLimited before touching anything when the client IP or the address has
    had too many attempts in the window, and LimitsUnavailable when the counters cannot
    be read (a cache outage fails closed: nothing is sent). Attempts count the same
    whatever the address's state, so the limit reveals nothing either. Bounced and
    complained addresses are never mailed.
    """
    email = normalise_email(email)
    window = settings.SUBSCRIBE_LIMIT_WINDOW
    try:
        if ip_address and not ratelimit.hit(
            "subscribe-ip", ip_address, limit=settings.SUBSCRIBE_LIMIT_PER_IP, window=window
        ):
            raise RateLimited()
        # Counted on the normalised address, so no spelling of it gets a fresh allowance.
        if not ratelimit.hit(
            "subscribe-email", email, limit=settings.SUBSCRIBE_LIMIT_PER_ADDRESS, window=window
        ):
            raise RateLimited()
    except ratelimit.Unavailable:
        raise LimitsUnavailable() from None

    with transaction.atomic():
        subscriber, _ = Subscriber.objects.get_or_create(
            email=email, defaults={"timezone": valid_timezone(tz)}
        )
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.status in SUPPRESSED:
            return SubscribeOutcome.SUPPRESSED
        if subscriber.status in ACTIVE:
            _send_later(subscriber, "already-subscribed")
            return SubscribeOutcome.ALREADY_SUBSCRIBED
        # Pending or unsubscribed: a new opt-in, confirmed only by the newest link.
        subscriber.confirm_nonce = secrets.token_hex(8)
        subscriber.save(update_fields=["confirm_nonce", "updated_at"])
        _consent(
            subscriber,
            ConsentRecord.Kind.OPT_IN,
            source=source,
            ip_address=ip_address,
            user_agent=user_agent,
        )
        _send_later(subscriber, "confirm")
    return SubscribeOutcome.CONFIRMATION_SENT


@transaction.atomic
def subscriber_confirm(
    *,
    subscriber: Subscriber,
    nonce: str,
    source: str = "confirmation link",
    ip_address: str | None = None,
    user_agent: str = "",
) -> ConfirmOutcome:
    """Confirm a pending (or returning) subscriber with the nonce of their newest link.

    A replayed, superseded or suppressed link changes nothing.
    """
    locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if locked.status in ACTIVE:
        return ConfirmOutcome.ALREADY_CONFIRMED
    if locked.status in SUPPRESSED or not (
        locked.confirm_nonce and constant_time_compare(nonce, locked.confirm_nonce)
    ):
        return ConfirmOutcome.STALE
    _activate(locked, ConsentRecord.Kind.CONFIRM, source, ip_address, user_agent)
    subscriber.refresh_from_db()
    return ConfirmOutcome.CONFIRMED


def _activate(subscriber, kind, source, ip_address=None, user_agent=""):
    now = timezone.now()
    subscriber.status = Subscriber.Status.CONFIRMED
    subscriber.confirmed_at = now
    subscriber.unsubscribed_at = None
    subscriber.confirm_nonce = ""
    subscriber.save(
        update_fields=["status", "confirmed_at", "unsubscribed_at", "confirm_nonce", "updated_at"]
    )
    _consent(subscriber, kind, source=source, ip_address=ip_address, user_agent=user_agent)


@transaction.atomic
def subscriber_unsubscribe(
    *, subscriber: Subscriber, source: str, ip_address: str | None = None, user_agent: str = ""
) -> bool:
    """Stop all mail to `subscriber`. Idempotent: returns False if nothing changed.

    A bounced or complained address already gets nothing, and stays so: turning it into
    "unsubscribed" would let the goodbye page's resubscribe button undo a complaint.
    """
    updated = (
        Subscriber.objects.filter(pk=subscriber.pk)
        .exclude(status__in=[Subscriber.Status.UNSUBSCRIBED, *SUPPRESSED])
        .update(
            status=Subscriber.Status.UNSUBSCRIBED,
            unsubscribed_at=timezone.now(),
            # A confirmation link sent before the unsubscribe must not undo it.
            confirm_nonce="",
            updated_at=timezone.now(),
        )
    )
    if updated:
        _consent(
            subscriber,
            ConsentRecord.Kind.UNSUBSCRIBE,
            source=source,
            ip_address=ip_address,
            user_agent=user_agent,
        )
        subscriber.refresh_from_db(fields=["status", "unsubscribed_at", "updated_at"])
        _trace_unsubscribe(subscriber)
    return bool(updated)


def _trace_unsubscribe(subscriber) -> None:
    # The dashboard shows unsubscribes per edition: the digest that made them leave.
    from digests.services.stats import edition_count_unsubscribe

    edition_count_unsubscribe(subscriber_id=subscriber.pk)


@transaction.atomic
def subscriber_resubscribe(
    *, subscriber: Subscriber, source: str, ip_address: str | None = None, user_agent: str = ""
) -> bool:
    """Undo an unsubscribe from the goodbye page (the link proved the mailbox is theirs).

    Only from "unsubscribed": bounced and complained addresses need an editor.
    """
    locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if locked.status != Subscriber.Status.UNSUBSCRIBED:
        return False
    _activate(locked, ConsentRecord.Kind.RESUBSCRIBE, source, ip_address, user_agent)
    subscriber.refresh_from_db()
    return True


_MAILTO_TOKEN = re.compile(r"\bunsubscribe\s+(\S+)", re.IGNORECASE)


def subscriber_unsubscribe_by_mail(*, recipients: Iterable[str], subject: str) -> bool:
    """Act on a mail sent to the List-Unsubscribe mailto (reaching us through the ESP's
    inbound webhook). The signed token in the subject says who; a mail without a valid
    token, or to another address, changes nothing. Returns whether someone left."""
    from subscriptions import tokens

    if settings.UNSUBSCRIBE_MAILTO.lower() not in {r.lower() for r in recipients}:
        return False
    match = _MAILTO_TOKEN.search(subject or "")
    if match is None:
        return False
    try:
        subscriber = tokens.subscriber_for_token(match.group(1), tokens.UNSUBSCRIBE)
    except tokens.BadToken:
        return False
    return subscriber_unsubscribe(subscriber=subscriber, source="mailto")


def subscriber_suppress(*, subscriber: Subscriber, status: str) -> bool:
    """Mark a hard bounce or spam complaint; mail stops at once. Idempotent."""
    if status not in SUPPRESSED:
        raise ValueError(f"not a suppression status: {status!r}")
    updated = (
        Subscriber.objects.filter(pk=subscriber.pk)
        .exclude(status=status)
        .update(status=status, updated_at=timezone.now())
    )
    if updated:
        subscriber.status = status
        stats.list_day_count_suppression(status=status)
    return bool(updated)


@transaction.atomic
def subscriber_reinstate(*, subscriber: Subscriber, by: str) -> bool:
    """An editor lifts a bounce or complaint suppression. Addresses that never confirmed
    go back to pending, never straight to receiving mail."""
    locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if locked.status not in SUPPRESSED:
        return False
    locked.status = (
        Subscriber.Status.CONFIRMED if locked.confirmed_at else Subscriber.Status.PENDING
    )
    locked.save(update_fields=["status", "updated_at"])
    _consent(locked, ConsentRecord.Kind.REINSTATE, source=by)
    subscriber.refresh_from_db()
    return True


@transaction.atomic
def subscriber_update_preferences(
    *,
    subscriber: Subscriber,
    frequency: str,
    weekday: int,
    paused_until: datetime.date | None,
    topics: Iterable,
    keywords_include: list[str],
    keywords_exclude: list[str],
    only_with_code: bool,
    papers_per_email: int,
    delivery_hour: int,
    timezone_name: str,
    email_format: str,
    ranking: str | None = None,
) -> Subscriber:
    """Save the preference centre's choices; the next digest uses them.

    A `paused_until` date pauses a receiving subscriber until the end of that day; no
    date resumes a paused one. Preferences of unsubscribed addresses are kept but do not
    resubscribe them.
    """
    locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    locked.frequency = frequency
    locked.weekday = weekday
    locked.paused_until = paused_until
    locked.keywords_include = _clean_keywords(keywords_include)
    locked.keywords_exclude = _clean_keywords(keywords_exclude)
    locked.only_with_code = only_with_code
    locked.papers_per_email = min(max(int(papers_per_email), 5), 30)
    locked.delivery_hour = min(max(int(delivery_hour), 0), 23)
    locked.timezone = valid_timezone(timezone_name)
    locked.email_format = email_format
    if ranking is not None:
        locked.ranking = ranking
    if paused_until and locked.status == Subscriber.Status.CONFIRMED:
        locked.status = Subscriber.Status.PAUSED
    elif not paused_until and locked.status == Subscriber.Status.PAUSED:
        locked.status = Subscriber.Status.CONFIRMED
    locked.clean_fields(exclude=["email", "user"])
    locked.save()
    locked.topics.set(topics)
    subscriber.refresh_from_db()
    return locked


def _clean_keywords(words: Iterable[str]) -> list[str]:
    seen, result = set(), []
    for word in words:
        word = " ".join(str(word).split())[:80]
        if word and word.lower() not in seen:
            seen.add(word.lower())
            result.append(word)
    return result[:50]


def subscribers_resume_paused(*, today: datetime.date) -> int:
    """Flip pauses that ended before `today` back to confirmed; returns how many."""
    return Subscriber.objects.filter(
        status=Subscriber.Status.PAUSED, paused_until__lt=today
    ).update(status=Subscriber.Status.CONFIRMED, paused_until=None, updated_at=timezone.now())


def subscribers_purge_unconfirmed(*, now: datetime.datetime) -> int:
    """Delete sign-ups never confirmed within SUBSCRIPTION_PENDING_DAYS; returns how many.

    An address someone typed into the banner but never confirmed is personal data we have
    no consent to keep. Anyone ever confirmed, or with an account, is kept.
    """
    cutoff = now - datetime.timedelta(days=settings.SUBSCRIPTION_PENDING_DAYS)
    doomed = Subscriber.objects.filter(
        status=Subscriber.Status.PENDING,
        confirmed_at__isnull=True,
        user__isnull=True,
        created_at__lt=cutoff,
    )
    _, by_model = doomed.delete()
    return by_model.get(Subscriber._meta.label, 0)
