"""A registry served as production serves it, for the multi-process tests of Trust.

`LiveRegistry` creates a fresh PostgreSQL database (named trust_*), migrated, and
runs gunicorn on a free loopback port (8030–8039) as `make serve` does: DEBUG
off, several sync workers, persistent connections with health checks, the access
log without query strings, static files collected into whitenoise's compressed and
hashed storage. Requests come from other processes over real sockets, so locks,
transactions and reconnection behave as in production.

Migrate once, copy many: a run has one template database migrated from scratch (and
loads the demo registry into a copy of it, for those that ask), and every database
made after is `CREATE DATABASE … TEMPLATE` of it, a copy in under a second where a
migration takes 30–60 s on the 2-core CI machine. The template is a copy of the test
database pytest-django has just migrated, where the run has one (tests/conftest.py's
`django_db_setup`), so a whole run migrates once; otherwise `manage.py migrate` makes
it. The templates are dropped when the run ends (`pytest_sessionfinish`; this module
is a plugin of tests/conftest.py). `collectstatic` runs once for each state of the
static files and is kept between runs outside the clone (STATIC_CACHE): whitenoise
compresses every file, minutes of CPU there.

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


def keep_test_database_as_template(config, items) -> None:
    """The test database pytest-django has just made is what `migrate` makes (it runs
    `migrate` as `manage.py migrate` does), so where the run has live registries, a
    copy of it taken before any test is this run's "migrated" template, and the run
    migrates once instead of twice. Not with --reuse-db (a kept test database may be a
    previous run's) or --no-migrations (tables made without the migrations' data)."""
    from django.db import connection, connections

    wanted = (LiveRegistry, migrated_database, template_database)
    if (
        postgres_url() is None
        or "migrated" in _templates
        or config.getvalue("reuse_db")
        or config.getvalue("nomigrations")
        or not any(
            vars(item.module).get(f.__name__) is f
            for item in items
            if getattr(item, "module", None) is not None
            for f in wanted
        )
    ):
        return
    test_database = connection.settings_dict["NAME"]
    connections.close_all()  # a template takes no other connection while it is copied
    name = f"trust_template_migrated_{os.getpid()}"
    create_database(name, template=test_database)
    _templates["migrated"] = name


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


# Collected static files are kept between runs, outside the clone, one folder for each
# state of what `collectstatic` reads: whitenoise compresses every file (gzip and
# Brotli), which takes a minute or more of CPU on the 2-core CI machine, for output that
# only changes when the files, the settings or the packages doing it change.
STATIC_CACHE = (
    Path(
        os.environ.get("REGISTRY_TEST_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "registry-tests"
    )
    / "static"
)
STATIC_CACHE_KEPT = 3  # the folders of the last states used, kept however old
_static_root: Path | None = None


def static_key() -> str:
    """A digest of everything `collectstatic` reads and writes with: each file the finders
    list (name and content, with collectstatic's default ignore patterns), the settings
    and the finder module, and the versions of the packages that hash and compress."""
    import hashlib
    from importlib.metadata import version

    from django.contrib.staticfiles import finders

    digest = hashlib.sha256()
    for package in ("django", "whitenoise", "brotli"):
        digest.update(f"{package}={version(package)}\n".encode())
    for module in ("registry/settings.py", "registry/staticfiles.py"):
        digest.update(module.encode() + b"\0" + (ROOT / module).read_bytes())
    listed = {}
    for finder in finders.get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            prefix = getattr(storage, "prefix", None)
            listed.setdefault(f"{prefix}/{path}" if prefix else path, storage.path(path))
    for name in sorted(listed):
        digest.update(name.encode() + b"\0" + Path(listed[name]).read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _last_used(folder: Path) -> float:
    try:
        return folder.stat().st_mtime
    except OSError:  # renamed or removed by another run meanwhile
        return time.time()


def collect_static(database: str) -> Path:
    """The folder of collected static files every live registry serves: `collectstatic`
    run into STATIC_CACHE the first time this state of the files is asked for (into a
    folder of its own, renamed into place when complete, so a run never serves half a
    collection), and the same folder after."""
    global _static_root
    if _static_root is None:
        collected = STATIC_CACHE / static_key()
        if not collected.is_dir():
            STATIC_CACHE.mkdir(parents=True, exist_ok=True)
            building = STATIC_CACHE / f"{collected.name}.{os.getpid()}.partial"
            shutil.rmtree(building, ignore_errors=True)
            manage(database, "collectstatic", "--noinput", "-v0", STATIC_ROOT=str(building))
            try:
                building.rename(collected)
            except OSError:  # another run collected the same files first: serve theirs
                shutil.rmtree(building, ignore_errors=True)
        os.utime(collected)  # last used: what the pruning below keeps
        folders = sorted(
            (f for f in STATIC_CACHE.iterdir() if f.is_dir() and "." not in f.name),
            key=_last_used,
        )
        # Older states go once no run has used them for a day (another clone's run on
        # this machine may be serving one now); so do folders left by killed runs.
        for old in [*folders[:-STATIC_CACHE_KEPT], *STATIC_CACHE.glob("*.partial")]:
            if old != collected and time.time() - _last_used(old) > 24 * 3600:
                shutil.rmtree(old, ignore_errors=True)
        _static_root = collected
    return _static_root


def pytest_sessionfinish(session):
    """The run's template databases go when it ends (collected static files stay in
    STATIC_CACHE for the next run)."""
    for name in _templates.values():
        drop_database(name)
    _templates.clear()


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
    )
    if _static_root is not None:
        environment["STATIC_ROOT"] = str(_static_root)
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
