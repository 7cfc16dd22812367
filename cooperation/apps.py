from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CooperationConfig(AppConfig):
    name = "cooperation"
    verbose_name = _("International cooperation")

    def ready(self):
        # Data-sharing clauses open records to partner keys through the one visibility
        # rule (kernel.visibility), which may not import this app: registered here.
        from cooperation import grants

        grants.register()
        grants.connect()
