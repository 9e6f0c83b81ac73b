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
    skipped_feed = models.PositiveIntegerField("skipped: feed only", default=0, db_default=0)
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
        # Chosen and recorded for the reader's own feed; no e-mail by their choice.
        FEED_ONLY = "feed", "Feed only: in the reader's feed, not e-mailed"

    # No index of their own: delivery_edition_status and delivery_subscriber_status lead
    # with these columns. Every claim and mark rewrites each index of the row (status is
    # indexed, so no update is HOT): two fewer make the send's writes about a quarter cheaper.
    edition = models.ForeignKey(
        Edition, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    # SET_NULL: deleting an account keeps the anonymous counts of what was sent.
    subscriber = models.ForeignKey(
        "subscriptions.Subscriber",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        db_index=False,
    )
    status = models.CharField(max_length=7, choices=Status, default=Status.PENDING)
    skip_reason = models.CharField(max_length=8, choices=SkipReason, blank=True)
    paper_ids = models.JSONField(default=list, blank=True, help_text="Papers sent, in order.")
    # Aligned with paper_ids: the reader's own "why" for each paper ("" = trending alone),
    # so the reader's feed shows the same reasons as their e-mail.
    reasons = models.JSONField(default=list, blank=True)
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


class ReaderSignal(models.Model):
    """ "More like this" or "Less like this" on a paper, from the digest's links.

    One row per reader and paper: a later opposite signal replaces the earlier one.
    """

    class Kind(models.TextChoices):
        MORE = "more", "More like this"
        LESS = "less", "Less like this"
        # A click-through from the reader's feed: a weak "more", never over a real one.
        READ = "read", "Read from the feed"

    subscriber = models.ForeignKey(
        "subscriptions.Subscriber", on_delete=models.CASCADE, related_name="signals"
    )
    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=4, choices=Kind)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "paper"], name="readersignal_unique"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: paper {self.paper_id}"


class TopicMute(models.Model):
    """A topic the reader never wants in their digest again ("Mute this topic")."""

    subscriber = models.ForeignKey(
        "subscriptions.Subscriber", on_delete=models.CASCADE, related_name="topic_mutes"
    )
    topic = models.ForeignKey("papers.Topic", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "topic"], name="topicmute_unique"),
        ]

    def __str__(self):
        return f"muted topic {self.topic_id}"


class ReaderModel(models.Model):
    """A reader's learned ranking (digests.relevance.ReaderProfile as JSON).

    Derived data: rebuilt from the signals, the library and the chosen topics by
    digests.tasks.train_reader_models, so it is neither exported nor kept on deletion.
    """

    subscriber = models.OneToOneField(
        "subscriptions.Subscriber", on_delete=models.CASCADE, related_name="reader_model"
    )
    profile = models.JSONField(default=dict)
    signals = models.PositiveIntegerField(default=0)
    trained_at = models.DateTimeField()
    stale = models.BooleanField(default=True, help_text="A signal arrived since training.")

    def __str__(self):
        return f"model of subscriber {self.subscriber_id}"


class RelevanceVocabulary(models.Model):
    """Inverse document frequencies of recent papers: the relevance model's features."""

    built_at = models.DateTimeField()
    documents = models.PositiveIntegerField()
    idf = models.JSONField(default=dict)

    class Meta:
        get_latest_by = "built_at"
        verbose_name_plural = "relevance vocabularies"

    def __str__(self):
        return f"vocabulary of {self.documents} papers ({self.built_at:%Y-%m-%d})"


class ReaderFeed(models.Model):
    """A reader's private feed of their own digests (Atom and JSON Feed).

    Its URL is signed over `key`: a new key (the preference centre's "new address")
    revokes every old URL at once. `feed_only` readers get no e-mail: their digest is still
    chosen and recorded each day, for the feed.
    """

    subscriber = models.OneToOneField(
        "subscriptions.Subscriber", on_delete=models.CASCADE, related_name="reader_feed"
    )
    key = models.CharField(max_length=32)
    feed_only = models.BooleanField("feed only, no e-mail", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"feed of subscriber {self.subscriber_id}"


class PaperUpdate(models.Model):
    """Something new about a paper readers keep: its code arrived, it trends again, or a
    new arXiv version appeared. Listed once in each interested reader's next digest."""

    class Kind(models.TextChoices):
        CODE = "code", "Code arrived"
        TRENDING = "trending", "Trending again"
        VERSION = "version", "New arXiv version"

    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind)
    detail = models.CharField(max_length=300, blank=True)
    happened_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["paper", "-id"], name="paperupdate_paper")]

    def __str__(self):
        return f"{self.get_kind_display()}: paper {self.paper_id}"


class WatchedPaper(models.Model):
    """The last seen state of a paper some reader keeps (saved or More like this), so the
    hourly detection can tell what changed. Only watched papers are tracked."""

    paper = models.OneToOneField("papers.Paper", on_delete=models.CASCADE, related_name="+")
    had_code = models.BooleanField(default=False)
    in_top = models.BooleanField(default=False)
    updated_on = models.DateField(null=True, blank=True)
    checked_at = models.DateTimeField()

    def __str__(self):
        return f"watching paper {self.paper_id}"


class ReaderUpdates(models.Model):
    """Per reader: how far updates were listed (each is listed once), and whether they
    also want each update by e-mail as it happens (by default, the digest only)."""

    subscriber = models.OneToOneField(
        "subscriptions.Subscriber", on_delete=models.CASCADE, related_name="reader_updates"
    )
    listed_until = models.PositiveBigIntegerField(default=0, help_text="Last PaperUpdate id.")
    by_email = models.BooleanField("also e-mail me each update", default=False)

    def __str__(self):
        return f"updates of subscriber {self.subscriber_id}"
