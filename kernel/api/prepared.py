"""Statements PostgreSQL prepares once per connection, for the read paths whose JSON the
database builds (the deposits API's documents, the OGC items): planning such a
statement costs as much as running it.

Parameters are bound by the server (psycopg's own cursor, not Django's client-side
binding), so a statement's text is the same whatever its values and is prepared once.
psycopg prepares only when the connection has a `prepare_threshold`
(registry.settings, `DB_PREPARED_STATEMENTS`).
"""

import psycopg
from django.db import connections


class PreparedCursor(psycopg.Cursor):
    """Every statement prepared (the first time this connection runs it)."""

    def execute(self, query, params=None, **kwargs):
        return super().execute(query, params, **{**kwargs, "prepare": True})


def built_by_database(queryset) -> bool:
    """Whether `queryset`'s database is PostgreSQL: there the read paths run prepared
    statements and the database builds the API's documents; elsewhere the ORM reads."""
    return connections[queryset.db].vendor == "postgresql"


def prepared_rows(sql: str, params: list, using: str) -> list[tuple]:
    """The rows of `sql` (with `%s` placeholders) run as a prepared statement."""
    connection = connections[using]
    # As Django's own cursor() does: a connection the server dropped since the last
    # request is replaced now (CONN_HEALTH_CHECKS), not found broken by this query.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = PreparedCursor(connection.connection)
    # Wrapped as Django wraps its own cursors: errors translated, queries logged (and
    # counted by the tests' query counts).
    logged = connection.queries_logged
    cursor = connection.make_debug_cursor(raw) if logged else connection.make_cursor(raw)
    with cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
