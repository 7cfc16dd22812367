"""Backups restore on a genuinely fresh PostgreSQL database: every record, relation and history row.

A source database gets the demo registry, an edit by a clerk and a deletion (so
history has create, change and delete rows). Then two restore paths, each into a
database made with CREATE DATABASE for the purpose:

- `pg_dump -Fc` → `pg_restore`: every table of the database (Django's own included)
  has the same rows, compared by count and by a digest of its full contents;
- the registry's own `dump_registry` → a database migrated from scratch by
  `manage.py migrate` (a copy of the run's, tests/live_registry.py) →
  `restore_registry`: every table the dump covers (records,
  relations, history, identifier counters, keys, users and groups) has the same
  rows; user ids may differ (users travel by natural key), so columns pointing at
  users are compared through the user's name.

After each restore the registry keeps working: a new deposit gets the next
identifier and the next primary key, and the planner has statistics for the tables
the restore filled (ANALYZE ran). PostgreSQL only (pg_dump, createdb): runs in
the PostgreSQL pass of .ci/run; tests/test_backup.py covers the round trip on both.
"""

import os
import shutil
import subprocess

import pytest

from tests.live_registry import (
    connect,
    create_database,
    drop_database,
    manage,
    migrated_database,
    needs_postgres,
)

CLIENT_TOOLS = ("pg_dump", "pg_restore")

HISTORY_EVENTS = """
from django.contrib.auth.models import Group, User
from deposits.models import Deposit
clerk = User.objects.create_user("clerk", is_staff=True)
clerk.groups.add(Group.objects.get(name="Registry editors"))
deposit = Deposit.objects.get(name="Jilau")
deposit.description = "Edited by a clerk before the backup."
deposit._history_user = clerk
deposit.save()
Deposit.objects.get(name="Ziddy").delete()
"""

NEW_DEPOSIT = """
from deposits.models import Deposit, Region
deposit = Deposit.objects.create(name="After the restore", region=Region.objects.first())
print(deposit.public_id, deposit.pk)
"""


def require_client_tools() -> None:
    missing = [tool for tool in CLIENT_TOOLS if shutil.which(tool) is None]
    if missing:
        reason = f"{', '.join(missing)} missing: install postgresql-client"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def tables(connection) -> list[str]:
    return [
        row[0]
        for row in connection.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    ]


def columns(connection, table: str) -> list[tuple[str, str | None]]:
    """(column, referenced table) for each column of `table`."""
    return list(
        connection.execute(
            """
            SELECT c.column_name, ccu.table_name
            FROM information_schema.columns c
            LEFT JOIN information_schema.key_column_usage kcu
              ON kcu.table_name = c.table_name AND kcu.column_name = c.column_name
             AND kcu.table_schema = c.table_schema
            LEFT JOIN information_schema.referential_constraints rc
              ON rc.constraint_name = kcu.constraint_name
            LEFT JOIN information_schema.constraint_column_usage ccu
              ON ccu.constraint_name = rc.unique_constraint_name
            WHERE c.table_schema = 'public' AND c.table_name = %s
            ORDER BY c.ordinal_position
            """,
            [table],
        )
    )


def fingerprint(connection, table: str, *, users_by_name: bool) -> tuple[int, str]:
    """(rows, digest of every row). With `users_by_name`, a column pointing at auth_user
    is replaced by the user's name, and auth_user's own id is left out."""
    expressions = []
    joins = []
    for number, (column, referenced) in enumerate(columns(connection, table)):
        if users_by_name and table == "auth_user" and column == "id":
            continue
        if users_by_name and referenced == "auth_user":
            alias = f"u{number}"
            joins.append(f'LEFT JOIN auth_user {alias} ON {alias}.id = t."{column}"')
            expressions.append(f"{alias}.username")
        else:
            expressions.append(f't."{column}"::text')
    row = " || '\u241f' || ".join(f"coalesce({e}, '\u2400')" for e in expressions)
    query = (
        f"SELECT count(*), coalesce(md5(string_agg({row}, '\u241e' ORDER BY {row})), '')"
        f' FROM "{table}" t {" ".join(joins)}'
    )
    count, digest = connection.execute(query).fetchone()
    return count, digest


def snapshot(database: str, only=None, *, users_by_name=False) -> dict[str, tuple[int, str]]:
    with connect(database) as connection:
        names = [t for t in tables(connection) if only is None or only(t)]
        return {t: fingerprint(connection, t, users_by_name=users_by_name) for t in names}


def in_registry_dump(table: str) -> bool:
    """The tables `dump_registry` carries (reports/backup.py: DUMPED less NOT_DUMPED: a
    restored database starts a new registry generation of its own)."""
    if table == "registry_registrygeneration":
        return False
    return table.startswith(("registry_", "deposits_", "cooperation_")) or table in (
        "auth_group",
        "auth_user",
        "auth_user_groups",
    )


@pytest.mark.django_db
def test_a_freshly_migrated_database_counts_as_empty_for_a_restore():
    """Migrations leave an identifier counter that handed out nothing; a restore replaces it
    (on both databases; found restoring into a fresh PostgreSQL database)."""
    from kernel.models import IdentifierSequence
    from reports import backup

    IdentifierSequence.objects.update_or_create(prefix="RES", defaults={"last_value": 0})
    assert backup.is_empty()
    IdentifierSequence.objects.filter(prefix="RES").update(last_value=1)
    assert not backup.is_empty()


@pytest.fixture(scope="module")
def source():
    name = f"trust_backup_source_{os.getpid()}"
    migrated_database(name, demo=True)
    manage(name, "shell", "-v0", "-c", HISTORY_EVENTS)
    yield name
    drop_database(name)


@pytest.fixture
def fresh():
    """A database made for the restore, dropped afterwards."""
    name = f"trust_backup_restored_{os.getpid()}"
    create_database(name)
    yield name
    drop_database(name)


def assert_keeps_working(source: str, restored: str) -> None:
    """A new deposit after the restore gets the identifier and key after the source's last."""
    source_id, source_pk = manage(source, "shell", "-v0", "-c", NEW_DEPOSIT).split()
    restored_id, restored_pk = manage(restored, "shell", "-v0", "-c", NEW_DEPOSIT).split()
    assert (restored_id, restored_pk) == (source_id, source_pk)


@needs_postgres
def test_pg_dump_restores_every_table_into_a_fresh_database(source, fresh, tmp_path):
    require_client_tools()
    from tests.live_registry import database_url

    archive = tmp_path / "registry.pgdump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={archive}", database_url(source)], check=True
    )
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={database_url(fresh)}", archive],
        check=True,
    )
    before, after = snapshot(source), snapshot(fresh)
    assert after == before
    assert before["deposits_deposit"][0] > 40
    assert before["deposits_historicaldeposit"][0] > before["deposits_deposit"][0]
    assert before["cooperation_memorandum"][0] > 0
    assert_keeps_working(source, fresh)


@needs_postgres
def test_registry_dump_restores_into_a_database_migrated_from_scratch(source, fresh, tmp_path):
    dump = tmp_path / "registry.json.gz"
    manage(source, "dump_registry", str(dump))
    migrated_database(fresh)
    manage(fresh, "restore_registry", str(dump))

    before = snapshot(source, in_registry_dump, users_by_name=True)
    after = snapshot(fresh, in_registry_dump, users_by_name=True)
    assert after.keys() == before.keys()
    differing = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
    assert differing == {}
    with connect(fresh) as connection:
        kinds = dict(
            connection.execute(
                "SELECT history_type, count(*) FROM deposits_historicaldeposit GROUP BY 1"
            ).fetchall()
        )
        clerk = connection.execute(
            "SELECT count(*) FROM deposits_historicaldeposit h JOIN auth_user u"
            " ON u.id = h.history_user_id WHERE u.username = 'clerk'"
        ).fetchone()[0]
    assert set(kinds) == {"+", "~", "-"}
    assert clerk == 1
    assert_planned_as_filled(fresh)
    assert_keeps_working(source, fresh)


def assert_planned_as_filled(database: str) -> None:
    """The restore analysed what it filled (reports/backup.py → kernel/planner.py): the
    planner's row estimates are the rows there, and ANALYZE (not autovacuum) ran."""
    with connect(database) as connection:
        planned = dict(
            connection.execute(
                "SELECT c.relname, c.reltuples FROM pg_class c"
                " JOIN pg_stat_user_tables s ON s.relid = c.oid"
                " WHERE s.last_analyze IS NOT NULL"
            ).fetchall()
        )
        for table in ("deposits_deposit", "deposits_historicaldeposit", "cooperation_memorandum"):
            rows = connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            assert planned.get(table) == rows, table
