"""The registry's own backup format: every record and its history, as portable JSON.

Built on Django's serialization (dumpdata/loaddata) with natural keys for users,
groups and permissions, so a dump taken from SQLite restores into PostgreSQL and
the other way round. Sessions, content types and permissions are rebuilt by
migrations and are not part of it.
"""

from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings

from deposits.shares import refresh_kept
from kernel.models import IdentifierSequence
from kernel.planner import analyse

# What a dump holds: the registry's own apps (records, history, identifier counters,
# API keys), the staff accounts and groups that history and keys point to, and the
# webhook subscriptions of the keys (with their secrets, so partners' receivers keep
# verifying deliveries after a restore).
DUMPED = ["auth.group", "auth.user", "registry", "deposits", "cooperation"]
DUMPED += ["reports.WebhookSubscription"]
# Bookkeeping, not records: the API cache's generation starts afresh (from the clock) in
# a restored database, so no answer kept before the restore is served after it. The
# webhooks' deliveries, their outbox and the task queue are not carried either: a
# restored registry pushes the changes made after the restore, and a subscriber reads
# what it missed meanwhile from the change feed (docs/api.md, "Webhooks").
NOT_DUMPED = ["registry.RegistryGeneration"]


def registry_models():
    return [
        *(
            model
            for label in ("registry", "deposits", "cooperation")
            for model in apps.get_app_config(label).get_models()
            if model._meta.label not in NOT_DUMPED
        ),
        apps.get_model("reports", "WebhookSubscription"),
    ]


def _records(model):
    queryset = model._default_manager.all()
    if model is IdentifierSequence:
        # A freshly migrated database holds a counter that handed out nothing yet
        # (deposits 0004 numbers existing reserve estimates): not a record.
        queryset = queryset.exclude(last_value=0)
    return queryset


def is_empty() -> bool:
    return not any(_records(model).exists() for model in registry_models())


def dump(path: str) -> None:
    """Write the whole registry to `path` (`.json`, or compressed `.json.gz`, `.json.xz`)."""
    call_command(
        "dumpdata",
        *DUMPED,
        exclude=NOT_DUMPED,
        output=path,
        format="exactjson",
        natural_foreign=True,
        natural_primary=True,
        indent=None,
        verbosity=0,
    )


def restore(path: str) -> None:
    """Load a dump into an empty registry, in one transaction.

    History is switched off while loading: the dump carries the history rows, and
    relations set during the load must not add rows of their own.
    """
    with transaction.atomic(), override_settings(SIMPLE_HISTORY_ENABLED=False):
        # Unused counters of a fresh migration make way for the dump's own.
        IdentifierSequence.objects.filter(last_value=0).delete()
        call_command("loaddata", path, verbosity=0)
        # Statistics for the planner at once, not whenever autovacuum gets to the new
        # rows: before the kept sums are refreshed (see reports.synthetic), and after.
        loaded = [
            *registry_models(),
            apps.get_model("auth", "User"),
            apps.get_model("auth", "Group"),
        ]
        analyse(loaded)
        refresh_kept()  # derived; loaddata bypasses the signals that keep it
    analyse(loaded)
