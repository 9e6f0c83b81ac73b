from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config import views
from lib import webhooks
from subscriptions.account_forms import EmailAdminLoginForm

# The admin is the editors' home: name it after the site, not the framework.
admin.site.site_header = f"{settings.SITE_NAME} editors"
admin.site.site_title = f"{settings.SITE_NAME} admin"
admin.site.index_title = "Papers, subscribers and digests"
admin.site.login_form = EmailAdminLoginForm

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # Anymail's views, answering unreadable payloads with 400 (or 200 for mail) not 500.
    path("anymail/", include(webhooks.guarded_urls())),
    path("", include("subscriptions.urls")),
    path("", include("digests.urls")),
    path("", include("papers.urls")),
]
