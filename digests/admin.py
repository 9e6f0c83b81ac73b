"""Editions with their counts, deliveries with status and ESP id, a preview of the next
edition and a rate-limited "send a test copy to me"."""

import datetime as dt

from csp.decorators import csp_update
from django.contrib import admin, messages
from django.core.cache import cache
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html

from digests import rendering, sending, services
from digests.models import Delivery, Edition, EditionPaper, Kind

TEST_SENDS_PER_HOUR = 10


class EditionPaperInline(admin.TabularInline):
    model = EditionPaper
    fields = ["position", "paper", "reason", "score"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    list_display = [
        "date",
        "kind",
        "status",
        "sent_count",
        "skipped_count",
        "failed_count",
        "bounced_count",
        "complained_count",
        "opened_count",
        "clicked_count",
        "deliveries_link",
    ]
    list_filter = ["kind", "status"]
    date_hierarchy = "date"
    readonly_fields = [
        "date",
        "kind",
        "status",
        "subject",
        "error",
        "created_at",
        "sent_at",
        "sent_count",
        "skipped_count",
        "failed_count",
        "delivered_count",
        "bounced_count",
        "complained_count",
        "opened_count",
        "clicked_count",
    ]
    inlines = [EditionPaperInline]
    change_list_template = "admin/digests/edition/change_list.html"

    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        refused = sending.bulk_refused()
        if refused:
            self.message_user(
                request,
                f"Postmark refused the Bulk API ({refused['error']}) at {refused['at']}: "
                f"digests go through /email/batch, {sending.POSTMARK_BATCH_LIMIT} readers a "
                "call, and the Bulk API is tried again a day later. Ask Postmark support to "
                "enable it for this account.",
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    @admin.display(description="Deliveries")
    def deliveries_link(self, obj):
        url = reverse("admin:digests_delivery_changelist") + f"?edition__id__exact={obj.pk}"
        return format_html('<a href="{}">show</a>', url)

    def get_urls(self):
        return [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="digests_edition_preview",
            ),
            *super().get_urls(),
        ]

    # The e-mail's own HTML, in a sandboxed srcdoc frame that inherits this page's policy,
    # keeps its <style> and style attributes: allow inline style here, and only here.
    @method_decorator(csp_update({"style-src": ["'unsafe-inline'"]}))
    def preview_view(self, request):
        kind = request.GET.get("kind") or request.POST.get("kind") or Kind.DAILY
        if kind not in Kind.values:
            kind = Kind.DAILY
        day = _next_date(kind)
        if request.method == "POST":
            return self._send_test(request, day=day, kind=kind)
        edition, entries = services.edition_preview(day=day, kind=kind)
        rendered = rendering.render_digest(
            edition, entries[:10], html=True, links=sending.placeholders()
        )
        subject, text, html = sending.merged(rendered, sending.sample_links())
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview: {edition}",
            "edition": edition,
            "kind": kind,
            "kinds": Kind.choices,
            "subject": subject,
            "html": html,
            "text": text,
            "size_kb": round(sending.html_size(rendered) / 1024, 1),
            "opts": self.model._meta,
        }
        return render(request, "admin/digests/edition/preview.html", context)

    def _send_test(self, request, *, day, kind):
        back = reverse("admin:digests_edition_preview") + f"?kind={kind}"
        to = (request.user.email or "").strip()
        if not to:
            self.message_user(request, "Your account has no e-mail address.", messages.ERROR)
            return HttpResponseRedirect(back)
        key = f"digests:test-send:{request.user.pk}"
        cache.add(key, 0, 3600)
        if cache.incr(key) > TEST_SENDS_PER_HOUR:
            self.message_user(request, "Too many test copies this hour.", messages.ERROR)
            return HttpResponseRedirect(back)
        try:
            services.digest_send_test(day=day, kind=kind, to=to)
        except Exception as exc:  # the ESP's reason is shown to the editor
            self.message_user(request, f"The test copy was not sent: {exc}", messages.ERROR)
        else:
            self.message_user(request, f"A test copy is on its way to {to}.")
        return HttpResponseRedirect(back)


def _next_date(kind: str) -> dt.date:
    """The date of the next edition of `kind` not sent yet (today's, if it is not out)."""
    today = timezone.localdate()
    if not Edition.objects.filter(date=today, kind=kind).exists():
        return today
    return today + dt.timedelta(days=1)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "edition",
        "subscriber",
        "status",
        "skip_reason",
        "esp_message_id",
        "sent_at",
        "delivered_at",
        "opened_at",
        "clicked_at",
        "bounced_at",
        "complained_at",
    ]
    list_filter = ["status", "skip_reason", "edition__kind"]
    list_select_related = ["edition", "subscriber"]
    search_fields = ["esp_message_id", "subscriber__email"]
    raw_id_fields = ["edition", "subscriber"]
    show_full_result_count = False  # counting 100,000 rows per page view is not free

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
