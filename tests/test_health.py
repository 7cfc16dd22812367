"""Monitors read /healthz; a lost database or shared cache answers 503 with Retry-After,
not a traceback; a write the shared cache misses is neither refused nor outlived."""

import shutil
import socket
import subprocess
import time

import psycopg
import pytest
import redis
from django.db import OperationalError, close_old_connections, connection
from django.test import RequestFactory

from kernel.api import caching
from kernel.models import ApiKey
from registry.middleware import ServiceUnavailableMiddleware
from registry.settings import redis_cache
from tests.factories import DepositFactory, PartnerOrganisationFactory, UserFactory
from tests.live_registry import needs_postgres

pytestmark = pytest.mark.django_db


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "per-process"}
    assert "no-cache" in response["Cache-Control"]


def test_a_lost_database_connection_answers_503_with_retry_after():
    middleware = ServiceUnavailableMiddleware(lambda request: None)
    request = RequestFactory().get("/api/v1/deposits/")
    error = OperationalError("server closed the connection unexpectedly")
    response = middleware.process_exception(request, error)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"unavailable" in response.content


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_connection_the_server_dropped_is_replaced_before_the_next_read(client):
    """Health checks (CONN_HEALTH_CHECKS): after a database restart, a worker's next
    read reconnects instead of answering 503."""
    url = "/api/v1/regions/"  # a read, and no write the transactional test must undo
    assert client.get(url).status_code == 200
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    close_old_connections()  # what each request starts with (the test client leaves it out)
    response = client.get(url)
    assert response.status_code == 200
    assert "results" in response.json()


@pytest.mark.parametrize("export", ["csv", "geojson"])
def test_an_export_the_database_fails_answers_503_not_a_200_cut_short(client, monkeypatch, export):
    """The first chunk is read before the answer's status is sent (kernel/exports.py), so
    a database that is away fails the request cleanly (the restart test meets it live)."""
    from deposits import exports

    def database_away(queryset, caller, **options):
        raise OperationalError("server closed the connection unexpectedly")
        yield  # a generator, as the real one is

    monkeypatch.setattr(exports, "deposit_rows", database_away)
    response = client.get("/api/v1/deposits/", {"format": export})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


def test_other_errors_are_not_disguised():
    middleware = ServiceUnavailableMiddleware(lambda request: None)
    request = RequestFactory().get("/")
    assert middleware.process_exception(request, ValueError("bug")) is None


def test_unknown_api_paths_answer_json_404(client):
    response = client.get("/api/v1/no-such-resource/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    response = client.get("/ogc/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


def test_unknown_pages_answer_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_the_icon_browsers_ask_for_is_the_one_the_pages_name(client, pages_settings):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/registry/favicon.svg"
    assert finders.find("registry/favicon.svg")
    for path in ("/", "/admin/login/"):
        assert b'<link rel="icon" href="/static/registry/favicon.svg"' in client.get(path).content


class RedisServer:
    """A Redis server of the test's own, on a free loopback port, that the test stops
    and starts again: a real outage, as the registry's client meets it."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = None

    def start(self):
        options = [
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), *options], stdout=subprocess.DEVNULL
        )
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def own_redis(settings):
    """The registry's cache on a Redis server of the test's own, set as production sets it."""
    server = RedisServer()
    server.start()
    settings.CACHES = {"default": redis_cache(f"redis://127.0.0.1:{server.port}/0")}
    yield server
    if server.process.poll() is None:
        server.stop()


def test_a_cache_outage_answers_503_on_the_api_and_recovers(own_redis, settings, client):
    settings.API_CACHE_SECONDS = 300
    deposit = DepositFactory()
    record = f"/api/v1/deposits/{deposit.public_id}/"
    assert client.get(record).status_code == 200
    assert client.get("/healthz").json()["cache"] == "ok"

    own_redis.stop()
    for url in (record, "/api/v1/deposits/?format=csv", "/ogc/collections/deposits/items"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert response["Retry-After"] == "5"
        assert response.json() == {"detail": "The registry's cache is unavailable; retry shortly."}
    assert client.get("/deposits/").status_code == 200  # the pages do not need it
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok", "cache": "unavailable"}

    own_redis.start()  # empty, as a restarted Redis that keeps nothing on disk is
    assert client.get(record).status_code == 200
    assert client.get("/healthz").json()["cache"] == "ok"


def test_a_full_cache_answers_503_on_the_api_until_it_has_room(own_redis, client):
    """Redis at its memory limit with no eviction refuses the throttle's count (a write)."""
    server = redis.Redis(port=own_redis.port)
    server.set("ballast", b"x" * 2_000_000)
    server.config_set("maxmemory-policy", "noeviction")
    server.config_set("maxmemory", "1mb")
    record = f"/api/v1/deposits/{DepositFactory().public_id}/"
    response = client.get(record)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert client.get("/healthz").json()["cache"] == "unavailable"
    server.config_set("maxmemory", "0")
    assert client.get(record).status_code == 200
    assert client.get("/healthz").json()["cache"] == "ok"


# Writes below commit for real, as in production, so that what runs once they commit
# runs inside the request.
def committing(test):
    database = pytest.mark.django_db(transaction=True, serialized_rollback=True)
    return pytest.mark.usefixtures("sequences_in_step")(database(test))


@committing
def test_writes_a_paused_cache_misses_stop_being_served_within_seconds(
    own_redis, settings, client, monkeypatch
):
    """Redis paused for writes (`CLIENT PAUSE … WRITE`, as a stalled server or a failover
    pauses them, expiring nothing meanwhile): a deposit made internal and a partner's key
    revoked commit, and the cache's copy of the registry generation is not forgotten.
    Once that copy is API_CACHE_GENERATION_SECONDS old, reads take the database's
    generation: the stale answers are not served beyond it."""
    settings.API_CACHE_SECONDS = 300
    start = time.time()
    monkeypatch.setattr(caching, "clock", lambda: start)
    deposit = DepositFactory()
    api_key, key = ApiKey.issue(organisation=PartnerOrganisationFactory())
    record = f"/api/v1/deposits/{deposit.public_id}/"
    partner = {"HTTP_AUTHORIZATION": f"Token {key}"}
    assert client.get(record).status_code == 200
    assert client.get(record, **partner).status_code == 200

    server = redis.Redis(port=own_redis.port)
    server.execute_command("CLIENT", "PAUSE", "20000", "WRITE")
    deposit.visibility = "internal"
    deposit.save()  # commits; forgetting the copy waits out the socket timeout, logged
    api_key.revoke()
    assert client.get(record).status_code == 503  # the throttle cannot count
    server.execute_command("CLIENT", "UNPAUSE")
    assert client.get(record).status_code == 200  # the copy is trusted a few seconds more
    later = start + settings.API_CACHE_GENERATION_SECONDS
    monkeypatch.setattr(caching, "clock", lambda: later)
    assert client.get(record).status_code == 404
    assert client.get(record, **partner).status_code == 401


@committing
def test_a_write_is_answered_by_what_it_did_while_the_cache_is_away(own_redis, settings, client):
    """An admin write commits and answers as it would with Redis there; an API write is
    counted by the throttle first, so it answers 503 and writes nothing."""
    settings.API_CACHE_SECONDS = 300
    api_key, _key = ApiKey.issue(organisation=PartnerOrganisationFactory())
    deposit = DepositFactory(status="explored")
    _staff_key, staff_key = ApiKey.issue(user=UserFactory(groups=["Registry editors"]))
    client.force_login(UserFactory(username="root", is_superuser=True))

    own_redis.stop()
    revoke = {"action": "revoke", "_selected_action": [api_key.pk]}
    assert client.post("/admin/registry/apikey/", revoke, secure=True).status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    response = client.patch(
        f"/api/v1/deposits/{deposit.public_id}/",
        {"status": "producing"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {staff_key}",
    )
    assert response.status_code == 503
    deposit.refresh_from_db()
    assert deposit.status == "explored"
