import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from lib import addresses


class SubscriberQuerySet(models.QuerySet):
    def by_email(self, email: str):
        """The subscriber for any spelling of `email` (see lib.addresses.normalise).

        Compared as lower(email), the expression the unique index is built on, so the
        lookup is an index probe even on millions of rows."""
        try:
            email = addresses.normalise(email)
        except addresses.InvalidAddress:
            return self.none()
        return self.alias(email_lower=Lower("email")).filter(email_lower=email)

    def receiving(self, *, on: datetime.date):
        """Subscribers who get mail on date `on` (their local date): the one rule used by
        the hourly beat, `send_digest` and the re-check at send time.

        Confirmed or paused, and any pause over: a pause ends the day after
        `paused_until`, whether or not the nightly subscriptions.tasks.resume_paused has
        flipped the status back yet (that flip is cosmetic).
        """
        pause_over = Q(paused_until__isnull=True) | Q(paused_until__lt=on)
        return self.filter(
            (Q(status=Subscriber.Status.CONFIRMED) & pause_over)
            | Q(status=Subscriber.Status.PAUSED, paused_until__lt=on)
        )


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending confirmation"
        CONFIRMED = "confirmed", "Confirmed"
        PAUSED = "paused", "Paused"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Complained"

    class Frequency(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    class Ranking(models.TextChoices):
        # The weight of personal relevance against trending: digests.relevance.MODES.
        TRENDING = "trending", "Trending first"
        BALANCED = "balanced", "Balanced"
        INTERESTS = "interests", "My interests first"

    class Format(models.TextChoices):
        HTML = "html", "HTML"
        TEXT = "text", "Plain text"

    email = models.EmailField(max_length=254)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subscriber",
    )
    status = models.CharField(max_length=12, choices=Status, default=Status.PENDING)

    # Preferences; an empty topic set means "all topics".
    frequency = models.CharField(max_length=6, choices=Frequency, default=Frequency.DAILY)
    weekday = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(6)], help_text="Weekly digests: 0 = Monday."
    )
    paused_until = models.DateField(null=True, blank=True)
    topics = models.ManyToManyField("papers.Topic", blank=True, related_name="subscribers")
    keywords_include = models.JSONField(default=list, blank=True)
    keywords_exclude = models.JSONField(default=list, blank=True)
    only_with_code = models.BooleanField(default=False)
    papers_per_email = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(5), MaxValueValidator(30)]
    )
    delivery_hour = models.PositiveSmallIntegerField(default=7, validators=[MaxValueValidator(23)])
    timezone = models.CharField(max_length=64, default="UTC")
    email_format = models.CharField(max_length=4, choices=Format, default=Format.HTML)
    ranking = models.CharField(
        "order of my digest", max_length=9, choices=Ranking, default=Ranking.BALANCED
    )

    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Changes at each opt-in and is cleared by the confirmation, so a confirmation link
    # works once, and only the newest one sent does.
    confirm_nonce = models.CharField(max_length=32, blank=True, editable=False)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="subscriber_email_ci_unique"),
        ]
        indexes = [models.Index(fields=["status", "frequency"], name="subscriber_status_freq")]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        try:
            self.email = addresses.normalise(self.email)
        except addresses.InvalidAddress:
            self.email = self.email.strip().lower()  # the form that let it in reports it
        super().save(*args, **kwargs)


class ConsentRecord(models.Model):
    """Proof of each opt-in, confirmation and withdrawal: when, where, from whom."""

    class Kind(models.TextChoices):
        OPT_IN = "opt_in", "Opt-in"
        CONFIRM = "confirm", "Confirmation"
        IMPORT = "import", "Imported"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribe"
        RESUBSCRIBE = "resubscribe", "Resubscribe"
        REINSTATE = "reinstate", "Reinstated by an editor"
        SUPPRESS = "suppress", "Suppressed"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=12, choices=Kind)
    source = models.CharField(max_length=200, blank=True, help_text="Page path or import name.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d})"


class OutboundEmail(models.Model):
    """One transactional e-mail (sign-up confirmation, login code, password reset...),
    recorded before it is sent.

    A worker claims the row (pending → sending, one conditional UPDATE) before the ESP call
    and marks it after, so a redelivered task never sends it twice. An ESP error puts it
    back to pending with a later `next_attempt_at`; the minutely sweep sends what is due
    until `expires_at`, so mail queued during an outage goes out once the ESP is back.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Claimed, being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "No longer wanted"

    kind = models.CharField(max_length=100, help_text="Template name, e.g. confirm.")
    to = models.EmailField(max_length=254)
    # Sign-up e-mails are built when sent, from the subscriber as they are then (the newest
    # confirmation link, the current address); account e-mails are stored as rendered.
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.CASCADE, related_name="emails"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbound_emails",
    )
    from_email = models.CharField(max_length=400, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    status = models.CharField(max_length=9, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    esp_message_id = models.CharField("ESP message id", max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "outbound e-mail"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outboundemail_due"),
        ]

    def __str__(self):
        return f"{self.kind} to {self.to}: {self.status}"


class SubscriberDay(models.Model):
    """One day of the list, for the dashboard: what happened (written by the services as
    it happens) and how many addresses stood in each status (a snapshot, written by the
    hourly `subscriptions.tasks.record_list_size`)."""

    day = models.DateField(unique=True)
    signups = models.PositiveIntegerField(default=0, db_default=0)
    confirmations = models.PositiveIntegerField(default=0, db_default=0)
    unsubscribes = models.PositiveIntegerField(default=0, db_default=0)
    bounces = models.PositiveIntegerField(default=0, db_default=0)
    complaints = models.PositiveIntegerField(default=0, db_default=0)
    # Status totals at `counted_at`; null until the day's first snapshot.
    pending = models.PositiveIntegerField(null=True, blank=True)
    confirmed = models.PositiveIntegerField(null=True, blank=True)
    paused = models.PositiveIntegerField(null=True, blank=True)
    unsubscribed = models.PositiveIntegerField(null=True, blank=True)
    bounced = models.PositiveIntegerField(null=True, blank=True)
    complained = models.PositiveIntegerField(null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["day"]

    def __str__(self):
        return f"list on {self.day}"


class SignupSourceDay(models.Model):
    """Sign-ups per day and per source (the page the form was on, or an import)."""

    day = models.DateField()
    source = models.CharField(max_length=200)
    signups = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "source"], name="signupsourceday_unique"),
        ]

    def __str__(self):
        return f"{self.signups} from {self.source} on {self.day}"
