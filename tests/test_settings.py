"""Settings come from the environment, and production values pass the deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    # the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for their live server; production never does
    unset = ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


PRODUCTION = {
    "SECRET_KEY": "a-production-grade-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "registry.example.tj",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
}


def test_deploy_check_is_clean_with_production_values():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_warns_without_a_shared_cache():
    result = run_manage("check", "--deploy", **{**PRODUCTION, "REDIS_URL": ""})
    assert result.returncode == 0, result.stdout + result.stderr  # a warning, not an error
    assert "(registry.W001) The cache is not shared" in result.stderr
    assert "Set REDIS_URL" in result.stderr
    assert "1 issue" in result.stderr


def test_secret_key_is_required_when_debug_is_off():
    result = run_manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_malformed_boolean_is_refused():
    result = run_manage("check", DEBUG="perhaps")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_malformed_webhook_seconds_are_refused_naming_the_setting():
    for name, value in [
        ("WEBHOOK_SWEEP_SECONDS", "a minute"),
        ("WEBHOOK_IN_FLIGHT_SECONDS", "-5"),
        ("WEBHOOK_RETRY_SECONDS", "10,1h,300"),
        ("WEBHOOK_SWEEP_SECONDS", "nan"),
    ]:
        result = run_manage("check", DEBUG="true", **{name: value})
        assert result.returncode != 0, name
        assert f"{name} must be a number of seconds" in result.stderr, result.stderr[-500:]
        assert "ValueError" not in result.stderr
    assert run_manage("check", DEBUG="true", WEBHOOK_RETRY_SECONDS="0.5, 30").returncode == 0


def test_redis_url_gives_a_cache_shared_between_processes():
    """Throttle counts and cached aggregates must be shared by all app servers."""
    url = "redis://127.0.0.1:6379/15"
    write = "from django.core.cache import cache; cache.set('registry-probe', 'shared', 30)"
    read = (
        "from django.core.cache import cache; from django.conf import settings; "
        "print(settings.CACHES['default']['BACKEND'], cache.get('registry-probe'))"
    )
    assert run_manage("shell", "-c", write, REDIS_URL=url, DEBUG="1").returncode == 0
    result = run_manage("shell", "-v0", "-c", read, REDIS_URL=url, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django_redis.cache.RedisCache", "shared"]


def test_the_wsgi_application_freezes_what_it_loaded():
    """Production workers keep the loaded application out of the garbage collector's
    passes (registry/wsgi.py), its views and serializers with it: they are loaded before
    the freeze, not by the first request after it."""
    probe = (
        "import gc, sys, registry.wsgi; "
        "print(gc.get_freeze_count(), 'deposits.api.serializers' in sys.modules)"
    )
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**environment, "DEBUG": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    frozen, views_loaded = result.stdout.split()
    assert int(frozen) > 10_000
    assert views_loaded == "True"


def test_postgresql_connections_run_without_jit():
    """The JIT costs the share rule's statements more than it saves (docs/performance.md),
    on the primary and on every replica; an `options` of the URL is kept beside it."""
    url = "postgres://postgres@127.0.0.1:5432/registry?options=-c%20work_mem%3D8MB"
    read = (
        "from django.conf import settings; "
        "print(*(d['OPTIONS']['options'] for d in settings.DATABASES.values()), sep='|')"
    )
    result = run_manage(
        "shell", "-v0", "-c", read, DATABASE_URL=url, DATABASE_REPLICA_URLS=url, DEBUG="1"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == ["-c work_mem=8MB -c jit=off"] * 2
