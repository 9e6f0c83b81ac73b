import csv

from django.contrib import admin, messages
from django.http import StreamingHttpResponse
from django.utils import timezone

from subscriptions import services
from subscriptions.models import ConsentRecord, OutboundEmail, Subscriber

CSV_COLUMNS = [
    "email",
    "status",
    "frequency",
    "weekday",
    "paused_until",
    "papers_per_email",
    "delivery_hour",
    "timezone",
    "email_format",
    "only_with_code",
    "keywords_include",
    "keywords_exclude",
    "confirmed_at",
    "unsubscribed_at",
    "created_at",
]


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection):
# `=HYPERLINK(...)` typed into a sign-up form would run on an editor's machine.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    if isinstance(value, list):
        value = "; ".join(value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value  # shown as text, the way spreadsheets themselves escape it
    return value


class _Echo:
    def write(self, value):
        return value


class ConsentInline(admin.TabularInline):
    model = ConsentRecord
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "source", "ip_address", "user_agent"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        # Consent records are evidence: written by the flows that obtain consent, never by hand.
        return False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "status", "frequency", "user", "confirmed_at", "created_at"]
    list_filter = ["status", "frequency", "email_format", "only_with_code", "topics"]
    search_fields = ["email", "user__email"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_per_page = 50
    show_full_result_count = False  # counting millions of rows on every page load is slow
    raw_id_fields = ["user"]
    filter_horizontal = ["topics"]
    readonly_fields = ["status", "confirmed_at", "unsubscribed_at", "created_at", "updated_at"]
    inlines = [ConsentInline]
    actions = ["export_csv", "suppress_bounced", "suppress_complained", "reinstate"]
    fieldsets = [
        (None, {"fields": ["email", "user", "status"]}),
        (
            "Preferences",
            {
                "fields": [
                    "frequency",
                    "weekday",
                    "paused_until",
                    "topics",
                    "keywords_include",
                    "keywords_exclude",
                    "only_with_code",
                    "papers_per_email",
                    "delivery_hour",
                    "timezone",
                    "email_format",
                ]
            },
        ),
        ("History", {"fields": ["confirmed_at", "unsubscribed_at", "created_at", "updated_at"]}),
    ]

    @admin.action(description="Export selected subscribers as CSV")
    def export_csv(self, request, queryset):
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(CSV_COLUMNS)
            for values in queryset.order_by("pk").values_list(*CSV_COLUMNS).iterator(2000):
                yield writer.writerow([_cell(value) for value in values])

        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="subscribers-{stamp}.csv"'
        return response

    def _suppress(self, request, queryset, status):
        changed = sum(
            services.subscriber_suppress(subscriber=subscriber, status=status)
            for subscriber in queryset.iterator()
        )
        self.message_user(request, f"Suppressed {changed} subscriber(s) as {status}.")

    @admin.action(description="Suppress: stop all mail (hard bounce)")
    def suppress_bounced(self, request, queryset):
        self._suppress(request, queryset, Subscriber.Status.BOUNCED)

    @admin.action(description="Suppress: stop all mail (spam complaint)")
    def suppress_complained(self, request, queryset):
        self._suppress(request, queryset, Subscriber.Status.COMPLAINED)

    @admin.action(description="Reinstate suppressed (bounced/complained) subscribers")
    def reinstate(self, request, queryset):
        by = f"admin: {request.user.get_username()}"
        changed = sum(
            services.subscriber_reinstate(subscriber=subscriber, by=by)
            for subscriber in queryset.iterator()
        )
        skipped = queryset.count() - changed
        self.message_user(request, f"Reinstated {changed} subscriber(s).")
        if skipped:
            self.message_user(
                request,
                f"{skipped} were not bounced or complained and were left alone "
                "(unsubscribed people can only resubscribe themselves).",
                messages.WARNING,
            )


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ["created_at", "subscriber", "kind", "source", "ip_address"]
    list_filter = ["kind"]
    search_fields = ["subscriber__email", "source", "ip_address"]
    date_hierarchy = "created_at"
    list_select_related = ["subscriber"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """Confirmations and account e-mails: what went out, what waits for the ESP, and why."""

    list_display = ["created_at", "kind", "to", "status", "attempts", "next_attempt_at", "error"]
    list_filter = ["status", "kind"]
    search_fields = ["to"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    # The bodies hold login codes and reset links: never shown.
    fields = [
        "kind", "to", "status", "attempts", "created_at", "next_attempt_at", "expires_at",
        "claimed_at", "sent_at", "esp_message_id", "error",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
