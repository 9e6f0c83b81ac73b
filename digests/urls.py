from django.urls import path

from digests import feedback_views, feeds, reader_feed_views, views

app_name = "digests"

urlpatterns = [
    path("digests/", views.archive, name="archive"),
    path("digests/feed/", feeds.EditionFeed(), name="feed"),
    path(
        "digests/feedback/<str:token>/<int:paper_id>/<str:action>/",
        feedback_views.feedback,
        name="feedback",
    ),
    path(
        "digests/me/<str:token>/atom/", reader_feed_views.reader_feed_atom, name="reader-feed-atom"
    ),
    path(
        "digests/me/<str:token>/feed.json",
        reader_feed_views.reader_feed_json,
        name="reader-feed-json",
    ),
    path(
        "digests/me/<str:token>/read/<int:paper_id>/",
        reader_feed_views.reader_feed_read,
        name="reader-feed-read",
    ),
    path(
        "digests/feed-settings/<str:token>/",
        reader_feed_views.reader_feed_settings,
        name="reader-feed-settings",
    ),
    path("digests/mine/<str:token>/", views.my_digest, name="mine"),
    path("digests/<str:kind>/<str:day>/", views.edition_detail, name="edition"),
]
