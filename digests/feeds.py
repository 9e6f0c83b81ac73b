from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

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
        entries = list(rendering.edition_entries(item).values())
        return "\n".join(f"{i}. {e.title}" for i, e in enumerate(entries[:30], start=1))

    def item_pubdate(self, item):
        return item.sent_at or item.created_at

    def item_updateddate(self, item):
        return item.sent_at or item.created_at
