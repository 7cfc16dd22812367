from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KernelConfig(AppConfig):
    """The shared kernel: public records, visibility, API keys and the API's plumbing.

    Its label stays `registry`, the label its tables, migrations and permissions were
    made under."""

    name = "kernel"
    label = "registry"
    verbose_name = _("Registry")

    # The apps whose records the API shows; any write to them moves the registry
    # generation on (kernel/api/caching.py), and with it every cached answer.
    RECORD_APPS = ("deposits", "cooperation")

    def ready(self):
        from django.apps import apps
        from django.db.models import signals

        from kernel import checks  # noqa: F401 (registers them)
        from kernel.api.caching import registry_changed

        models = [
            model
            for label in self.RECORD_APPS
            for model in apps.get_app_config(label).get_models(include_auto_created=True)
        ]
        # So does a write of an API key: authentication reads keys from that cache too.
        models.append(apps.get_model("registry", "ApiKey"))
        for model in models:
            for signal in (signals.post_save, signals.post_delete, signals.m2m_changed):
                signal.connect(registry_changed, sender=model, dispatch_uid="api-cache")
