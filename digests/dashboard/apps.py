from django.contrib.admin.apps import AdminConfig


class DashboardAdminConfig(AdminConfig):
    """django.contrib.admin, with admin.site being the dashboard site (in INSTALLED_APPS).

    Imports nothing else: it is loaded before any model exists."""

    default_site = "digests.dashboard.views.PaperboyAdminSite"
