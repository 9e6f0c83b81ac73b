from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Installed only for its system checks (config.checks); it has no models."""

    name = "config"
    verbose_name = "Configuration"

    def ready(self):
        from config import checks  # noqa: F401 - registers the checks
