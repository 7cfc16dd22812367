"""The query planner's statistics, refreshed after a bulk load.

A bulk path (a restore, synthetic data) fills tables faster than the database notices:
until autovacuum analyses them, PostgreSQL plans as if they were empty and can pick
nested loops over what are now large tables (docs/reliability.md has the figures).
Each bulk path ends with `analyse(models)`, one statement for the tables it filled.
A read that walks whole tables (an export of everything) first calls
`ensure_statistics(models)`, so a table a bulk path filled some other way (a restore
by `psql`, a cluster whose autovacuum is off) is analysed before its plan is made:
without statistics PostgreSQL took a sequential scan of every deposit mineral for each
chunk of an export, 30 s instead of 4.5 s at 100,000 deposits (docs/reliability.md).
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


def ensure_statistics(models) -> None:
    """Analyse those of the models' tables the planner has never seen analysed.

    PostgreSQL marks a table never vacuumed nor analysed with `reltuples = -1`; one
    catalogue query finds them. SQLite plans these reads by their indexes alone, so
    there is nothing to check there."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND reltuples < 0",
            [tables_of(models)],
        )
        blind = {name for (name,) in cursor.fetchall()}
    if blind:
        analyse([model for model in models if model._meta.db_table in blind])
