from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, format_html_join

from digests import rendering
from digests.models import Edition


class EditionFeed(Feed):
    feed_type = Atom1Feed
    title = "Paperboy digests"
    subtitle = "Every daily and weekly digest of trending papers."

    def link(self):
        return reverse("digests:archive")

    def items(self):
        return Edition.objects.published()[:30]

    def item_title(self, item):
        return item.subject or str(item)

    def item_description(self, item):
        # Feed readers show the summary as HTML (type="html"): a list, each paper linked,
        # with its reason, instead of numbered lines that run together.
        entries = list(rendering.edition_entries(item).values())[:30]
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a>{}</li>',
            (
                (entry.url, entry.title, format_html(" · {}", entry.reason) if entry.reason else "")
                for entry in entries
            ),
        )
        return format_html("<ol>{}</ol>", rows)

    def item_pubdate(self, item):
        return item.sent_at or item.created_at

    def item_updateddate(self, item):
        return item.sent_at or item.created_at
