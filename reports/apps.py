from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """What reads across both apps: the data-quality report, backups, the change feed,
    the demo registry."""

    name = "reports"
    verbose_name = _("Reports")
