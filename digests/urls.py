from django.urls import path

from digests import feeds, views

app_name = "digests"

urlpatterns = [
    path("digests/", views.archive, name="archive"),
    path("digests/feed/", feeds.EditionFeed(), name="feed"),
    path("digests/mine/<str:token>/", views.my_digest, name="mine"),
    path("digests/<str:kind>/<str:day>/", views.edition_detail, name="edition"),
]
