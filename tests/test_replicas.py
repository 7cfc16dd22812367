"""With DATABASE_REPLICA_URLS set, reads go to a replica and writes to the primary."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from registry.routers import ReplicaRouter

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
from django.db import transaction
from deposits.models import Deposit, Region
region = Region.objects.create(code="TJ-XX", name="Probe")
print("write", region._state.db)
print("read", Deposit.objects.all().db)
print("read sees the write", Region.objects.filter(code="TJ-XX").exists())
with transaction.atomic():
    print("read in transaction", Deposit.objects.all().db)
region.delete()
"""


def test_without_replicas_everything_uses_the_primary():
    router = ReplicaRouter()
    assert router.db_for_read(None) == "default"
    assert router.db_for_write(None) == "default"


@pytest.mark.django_db  # creates this run's test database, which the probe connects to
def test_two_connections_reads_on_the_replica_writes_on_the_primary(tmp_path):
    """A real second connection: the replica URL points at the same database as the primary."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"  # the test database is in memory
    else:  # the (migrated) test database of this run
        url = (
            f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
            f"{database['PORT']}/{database['NAME']}"
        )
    env = {**os.environ, "DATABASE_URL": url, "DATABASE_REPLICA_URLS": url, "SECRET_KEY": "x"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert "write default" in lines
    assert "read replica1" in lines
    assert "read sees the write True" in lines
    assert "read in transaction default" in lines
