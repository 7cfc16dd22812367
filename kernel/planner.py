"""The query planner's statistics, refreshed after a bulk load.

A bulk path (a restore, synthetic data) fills tables faster than the database notices:
until autovacuum analyses them, PostgreSQL plans as if they were empty and can pick
nested loops over what are now large tables (docs/reliability.md has the figures).
Each bulk path ends with `analyse(models)`, one statement for the tables it filled.
"""

from django.db import connection


def tables_of(models) -> list[str]:
    """The models' tables and their many-to-many tables, each once, in a stable order."""
    tables = []
    for model in models:
        tables.append(model._meta.db_table)
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if through._meta.auto_created:
                tables.append(through._meta.db_table)
    return sorted(set(tables))


def analyse(models) -> None:
    """ANALYZE the models' tables, one statement a table (as SQLite requires), the same on
    both engines."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tables_of(models):
            cursor.execute(f"ANALYZE {quote(table)}")
