from django.urls import path

from papers import feeds, library_views, views

app_name = "papers"

urlpatterns = [
    path("", views.home, name="home"),
    path("latest/", views.latest, name="latest"),
    path("search/", views.search, name="search"),
    # Before papers/<slug>/, which would otherwise take "date", "week" and "month".
    path("papers/date/", views.latest_day, name="days"),
    path("papers/date/<str:day>/", views.day_detail, name="day"),
    path("papers/week/<str:week>/", views.week_detail, name="week"),
    path("papers/month/<str:month>/", views.month_detail, name="month"),
    path("papers/<slug:slug>/", views.paper_detail, name="detail"),
    path("authors/<slug:slug>/", views.author_detail, name="author"),
    # Thumbnails in the default (filesystem) storage; MEDIA_URL is /media/.
    path("media/thumbnails/<str:name>", views.thumbnail, name="thumbnail"),
    path("topics/", views.topic_list, name="topics"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic"),
    path("library/", library_views.library_page, name="library"),
    path("library/export.bib", library_views.library_export, name="library-export"),
    path("library/save/<int:paper_id>/", library_views.library_save, name="library-save"),
    path("library/remove/<int:paper_id>/", library_views.library_remove, name="library-remove"),
    path("feed/", feeds.trending_rss, name="feed"),
    path("feed/atom/", feeds.trending_atom, name="feed-atom"),
    path("topics/<slug:slug>/feed/", feeds.trending_rss, name="topic-feed"),
    path("topics/<slug:slug>/feed/atom/", feeds.trending_atom, name="topic-feed-atom"),
]
