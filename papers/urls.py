from django.urls import path

from papers import feeds, views

app_name = "papers"

urlpatterns = [
    path("", views.home, name="home"),
    path("latest/", views.latest, name="latest"),
    path("search/", views.search, name="search"),
    path("papers/<slug:slug>/", views.paper_detail, name="detail"),
    path("topics/", views.topic_list, name="topics"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic"),
    path("feed/", feeds.trending_rss, name="feed"),
    path("feed/atom/", feeds.trending_atom, name="feed-atom"),
    path("topics/<slug:slug>/feed/", feeds.trending_rss, name="topic-feed"),
    path("topics/<slug:slug>/feed/atom/", feeds.trending_atom, name="topic-feed-atom"),
]
