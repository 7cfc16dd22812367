"""A registry served as production serves it, for the multi-process tests of Trust.

`LiveRegistry` creates a fresh PostgreSQL database (named trust_*), migrated, and
runs gunicorn on a free loopback port (8030–8039) as `make serve` does: DEBUG
off, several sync workers, persistent connections with health checks, the access
log without query strings, static files collected into whitenoise's compressed and
hashed storage. Requests come from other processes over real sockets, so locks,
transactions and reconnection behave as in production.

Migrate once, copy many: a run migrates one template database from scratch (and
loads the demo registry into a copy of it, for those that ask), and every database
made after is `CREATE DATABASE … TEMPLATE` of it, a copy in under a second where a
migration takes 30–60 s on the 2-core CI machine. `collectstatic` likewise runs once
per run (minutes there: whitenoise compresses every file). Both are dropped when the
run ends (`pytest_sessionfinish`; this module is a plugin of tests/conftest.py).

Used by tests/test_concurrency_api.py, tests/test_reliability.py and
tests/test_backup_postgres.py; they need PostgreSQL and run in the PostgreSQL pass of
.ci/run (`needs_postgres`).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import dj_database_url
import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PORTS = range(8030, 8040)
MAKEFILE_ACCESS_LOG = re.compile(r"--access-logformat '([^']+)'")


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


needs_postgres = pytest.mark.skipif(
    postgres_url() is None,
    reason=(
        "PostgreSQL only: runs in the PostgreSQL pass of .ci/run, where DATABASE_URL names "
        "PostgreSQL; this is the SQLite pass"
    ),
)


def admin_connection():
    """An autocommit psycopg connection to the cluster's `postgres` database."""
    import psycopg

    config = dj_database_url.parse(postgres_url())
    return psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def database_url(name: str) -> str:
    config = dj_database_url.parse(postgres_url())
    credentials = config["USER"] or "postgres"
    if config["PASSWORD"]:
        credentials += f":{config['PASSWORD']}"
    host, port = config["HOST"] or "127.0.0.1", config["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{name}"


def connect(name: str):
    import psycopg

    return psycopg.connect(database_url(name), autocommit=True)


def create_database(name: str, *, template: str | None = None) -> None:
    """An empty database, or a copy of `template` (on which no connection may be open:
    the databases here are left by `manage.py` processes that have ended)."""
    assert name.startswith("trust_"), "the Trust tests only create databases named trust_*"
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"{copy}')


# The run's template databases, made on first use: "migrated" (`migrate` from scratch)
# and "demo" (a copy of it with `load_demo`). Named by the process, so two runs on one
# cluster (the engineers', CI's) never share one.
_templates: dict[str, str] = {}


def template_database(*, demo: bool = False) -> str:
    """The name of this run's database migrated from scratch (with the demo registry if
    `demo`), made the first time it is asked for; copy it with `create_database`."""
    kind = "demo" if demo else "migrated"
    if kind not in _templates:
        name = f"trust_template_{kind}_{os.getpid()}"
        if demo:
            create_database(name, template=template_database())
            manage(name, "load_demo")
        else:
            create_database(name)
            manage(name, "migrate", "--noinput", "-v0")
        _templates[kind] = name
    return _templates[kind]


def migrated_database(name: str, *, demo: bool = False) -> None:
    """`name` created as a database `manage.py migrate` made (and `load_demo` filled, if
    `demo`): a copy of the run's template."""
    create_database(name, template=template_database(demo=demo))


def drop_database(name: str) -> None:
    assert name.startswith("trust_")
    for _ in range(10):
        try:
            with admin_connection() as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except Exception:  # the cluster may be restarting: try again
            time.sleep(1)


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8030-8039")


STATIC_ROOT = Path(os.environ.get("TMPDIR", "/tmp")) / f"trust-static-{os.getpid()}"
_static_collected = False


def collect_static(database: str) -> None:
    """`collectstatic` into STATIC_ROOT, once a run: every live registry serves the same
    files, and what they are does not depend on the database."""
    global _static_collected
    if not _static_collected:
        manage(database, "collectstatic", "--noinput", "-v0")
        _static_collected = True


def pytest_sessionfinish(session):
    """The run's templates and collected static files go when it ends."""
    for name in _templates.values():
        drop_database(name)
    _templates.clear()
    shutil.rmtree(STATIC_ROOT, ignore_errors=True)


def app_environment(database: str, **extra) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG", "PYTEST_CURRENT_TEST")
    }
    environment.update(
        DATABASE_URL=database_url(database),
        SECRET_KEY="trust-live-registry-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        API_THROTTLE_ANON="1000000/minute",
        API_THROTTLE_KEY="1000000/minute",
        DB_CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
        STATIC_ROOT=str(STATIC_ROOT),
    )
    environment.update(extra)
    return environment


def manage(database: str, *args: str, **extra) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=app_environment(database, **extra),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


# Creates a staff editor with an API key and prints {"key": ...}.
ISSUE_STAFF_KEY = """
import json
from django.contrib.auth.models import Group, User
from kernel.models import ApiKey
user, _ = User.objects.get_or_create(username="trust-editor", defaults={"is_staff": True})
user.groups.add(*Group.objects.filter(name__in=["Registry editors", "Cooperation editors"]))
print(json.dumps({"key": ApiKey.issue(user=user)[1]}))
"""


class LiveRegistry:
    """`with LiveRegistry("trust_x") as registry:` — a migrated database and gunicorn on it."""

    def __init__(self, database: str, *, workers: int = 3, demo: bool = False, log_dir=None):
        self.database = database
        self.workers = workers
        self.demo = demo
        self.log_dir = Path(log_dir) if log_dir else None
        self.process = None
        self.port = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        migrated_database(self.database, demo=self.demo)
        collect_static(self.database)
        issued = manage(self.database, "shell", "-v0", "-c", ISSUE_STAFF_KEY)
        self.staff_key = json.loads(issued)["key"]
        self.start()
        return self

    def start(self) -> None:
        self.port = free_port()
        access_format = MAKEFILE_ACCESS_LOG.search((ROOT / "Makefile").read_text()).group(1)
        log_dir = self.log_dir or Path(os.environ.get("TMPDIR", "/tmp"))
        log_dir.mkdir(parents=True, exist_ok=True)
        self.access_log = log_dir / f"{self.database}-access.log"
        self.error_log = log_dir / f"{self.database}-error.log"
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "registry.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--graceful-timeout",
                "5",
                "--timeout",
                "30",
                "--access-logfile",
                str(self.access_log),
                "--access-logformat",
                access_format,
                "--error-logfile",
                str(self.error_log),
            ],
            cwd=ROOT,
            env=app_environment(self.database),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.error_log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /healthz within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None

    def __exit__(self, *exc_info):
        self.stop()
        drop_database(self.database)


def have_gunicorn() -> bool:
    return shutil.which("gunicorn", path=str(BIN)) is not None
