from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """What reads across both apps: the data-quality report, backups, the change feed and
    the webhooks that push it, the demo registry."""

    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from reports import webhooks

        webhooks.connect()
