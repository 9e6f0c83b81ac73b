from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "digests"
    verbose_name = "Digests"

    def ready(self):
        from digests import checks, signals  # noqa: F401 - registers receivers and checks
        from digests.dashboard import jobs  # noqa: F401 - records beat jobs' runs
