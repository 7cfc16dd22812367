"""Send reads to PostgreSQL streaming replicas when DATABASE_REPLICA_URLS names any.

Writes, migrations and every query inside a transaction stay on the primary, so a
request reads its own writes; replication lag affects only plain reads.
"""

import random

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        replicas = replica_aliases()
        if not replicas or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return random.choice(replicas)

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # replicas hold the same data as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
