"""Editions (one digest per date and kind) and deliveries (one per edition and subscriber).

The unique constraints are the exactly-once guarantee: a second beat, a retried task or a
rerun of `send_digest` can only find the existing rows, never add a second one.
"""

from django.db import models
from django.db.models import Q
from django.urls import reverse


class Kind(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class EditionQuerySet(models.QuerySet):
    def published(self):
        """Editions on the public archive: every one that began sending."""
        return self.filter(status__in=[Edition.Status.SENDING, Edition.Status.SENT]).order_by(
            "-date", "kind"
        )


class Edition(models.Model):
    class Status(models.TextChoices):
        COMPOSING = "composing", "Composing"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    date = models.DateField()
    kind = models.CharField(max_length=6, choices=Kind, default=Kind.DAILY)
    status = models.CharField(max_length=9, choices=Status, default=Status.COMPOSING)
    papers = models.ManyToManyField(
        "papers.Paper", through="EditionPaper", related_name="editions", blank=True
    )
    subject = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    # Denormalised counters, moved with F() by the senders and the ESP webhook, so the admin
    # lists editions without counting a hundred thousand deliveries per row.
    sent_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    delivered_count = models.PositiveIntegerField(default=0)
    bounced_count = models.PositiveIntegerField(default=0)
    complained_count = models.PositiveIntegerField(default=0)
    opened_count = models.PositiveIntegerField(default=0, help_text="Unique opens.")
    clicked_count = models.PositiveIntegerField(default=0, help_text="Unique clicks.")
    # For the dashboard: skips by reason, More/Less feedback, and unsubscribes traced to
    # this edition (the last one sent to the reader before they left).
    skipped_no_match = models.PositiveIntegerField(default=0, db_default=0)
    skipped_all_seen = models.PositiveIntegerField(default=0, db_default=0)
    skipped_inactive = models.PositiveIntegerField(default=0, db_default=0)
    more_count = models.PositiveIntegerField("More signals", default=0, db_default=0)
    less_count = models.PositiveIntegerField("Less signals", default=0, db_default=0)
    unsubscribed_count = models.PositiveIntegerField(default=0, db_default=0)

    objects = EditionQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["date", "kind"], name="edition_date_kind_unique"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} digest of {self.date:%d %b %Y}"

    def get_absolute_url(self):
        return reverse("digests:edition", kwargs={"kind": self.kind, "day": self.date.isoformat()})


class EditionPaper(models.Model):
    """A paper in an edition, with the "why trending" line as it stood when composed."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="entries")
    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    score = models.FloatField(default=0)

    class Meta:
        ordering = ["edition", "position"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "paper"], name="editionpaper_unique"),
            models.UniqueConstraint(
                fields=["edition", "position"], name="editionpaper_position_unique"
            ),
        ]

    def __str__(self):
        return f"#{self.position} in {self.edition_id}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Claimed, being sent"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    class SkipReason(models.TextChoices):
        NO_MATCH = "no_match", "No paper matched the preferences"
        ALL_SEEN = "all_seen", "Every matching paper was sent before"
        INACTIVE = "inactive", "Subscriber no longer active"

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="deliveries")
    # SET_NULL: deleting an account keeps the anonymous counts of what was sent.
    subscriber = models.ForeignKey(
        "subscriptions.Subscriber",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    status = models.CharField(max_length=7, choices=Status, default=Status.PENDING)
    skip_reason = models.CharField(max_length=8, choices=SkipReason, blank=True)
    paper_ids = models.JSONField(default=list, blank=True, help_text="Papers sent, in order.")
    esp_message_id = models.CharField("ESP message id", max_length=200, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    delivered_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True, help_text="First open.")
    clicked_at = models.DateTimeField(null=True, blank=True, help_text="First click.")
    open_count = models.PositiveIntegerField(default=0)
    click_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["edition", "subscriber"], name="delivery_edition_subscriber_unique"
            ),
            models.CheckConstraint(
                condition=~Q(status="skipped") | ~Q(skip_reason=""),
                name="delivery_skip_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["edition", "status"], name="delivery_edition_status"),
            models.Index(fields=["subscriber", "status"], name="delivery_subscriber_status"),
            models.Index(fields=["esp_message_id"], name="delivery_esp_message_id"),
            # The dashboard's "oldest pending delivery": a tiny index over the queue only.
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending"),
                name="delivery_pending_created",
            ),
        ]

    def __str__(self):
        return f"{self.edition} to #{self.subscriber_id}: {self.status}"


class JobRun(models.Model):
    """The last success and the last error of one beat job, written by Celery's task
    signals (digests.dashboard.jobs), so no task body records itself."""

    task = models.CharField(max_length=200, unique=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="", db_default="")
    successes = models.PositiveIntegerField(default=0, db_default=0)
    failures = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["task"]

    def __str__(self):
        return self.task
