"""Indexes for `q=` search on PostgreSQL: trigrams on the folded names and aliases, and
the upper-cased identifier.

`Deposit.objects.search` asks `search_text LIKE '%…%' OR UPPER(public_id) = UPPER(…)`.
pg_trgm's GIN index answers the LIKE from the index; the expression index answers
the identifier, so the two combine in one bitmap scan instead of reading the whole
table. SQLite has neither and keeps its table scan: the same query, portable.
"""

from django.db import migrations

INDEXES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS deposits_deposit_search_trgm "
    "ON deposits_deposit USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS deposits_deposit_public_id_upper "
    "ON deposits_deposit (UPPER(public_id::text))",
]
DROP = [
    "DROP INDEX IF EXISTS deposits_deposit_public_id_upper",
    "DROP INDEX IF EXISTS deposits_deposit_search_trgm",
]


def on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("deposits", "0005_record_version")]

    operations = [migrations.RunPython(on_postgresql(INDEXES), on_postgresql(DROP), elidable=False)]
