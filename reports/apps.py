from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """What reads across both apps: the data-quality report, backups, the change feed,
    the demo registry."""

    name = "reports"
    verbose_name = "Reports"
