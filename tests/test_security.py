"""Trust: keys, admin lockout, security headers, request sizes and formula-safe exports.

The visibility of records on every surface is tests/test_visibility_matrix.py; the
Content-Security-Policy in a real browser is tests/test_security_browser.py.
"""

import csv
import hashlib
import io
import logging
import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from kernel.models import ApiKey
from tests.factories import DepositFactory, RegionFactory, UserFactory, issue_api_key

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/admin/login/"
HTTPS = {"HTTP_X_FORWARDED_PROTO": "https"}


# --- API keys: hashed, a prefix shown, expiry and revocation, never logged ---------


def test_a_key_is_stored_as_its_hash_with_a_prefix_only(partner_org):
    api_key, key = ApiKey.issue(organisation=partner_org, note="KIGAM sync")
    row = ApiKey.objects.filter(pk=api_key.pk).values().get()
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert row["prefix"] == key[:12] and len(key) > 40
    assert all(key not in str(value) for value in row.values())
    assert key[:12] in str(api_key) and key not in str(api_key)


def test_the_admin_shows_the_prefix_never_the_key_or_its_hash(client, partner_org):
    api_key, key = ApiKey.issue(organisation=partner_org)
    client.force_login(UserFactory(username="root", is_superuser=True))
    for url in (
        reverse("admin:registry_apikey_changelist"),
        reverse("admin:registry_apikey_change", args=[api_key.pk]),
    ):
        page = client.get(url).content.decode()
        assert api_key.prefix in page
        assert key not in page and api_key.key_hash not in page


@pytest.mark.parametrize(
    "state",
    [
        {"expires_at": timezone.now() - timedelta(minutes=1)},
        {"revoked_at": timezone.now()},
    ],
    ids=["expired", "revoked"],
)
def test_expired_and_revoked_keys_answer_401_everywhere(api_client, partner_org, state):
    key = issue_api_key(organisation=partner_org)
    ApiKey.objects.update(**state)
    response = api_client.get("/api/v1/deposits/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    response = api_client.get("/ogc/collections/deposits/items", {"api_key": key})
    assert response.status_code == 401


MAKEFILE_ACCESS_LOG = re.compile(r"--access-logformat '([^']+)'")


def test_gunicorn_access_log_of_make_serve_leaves_keys_out():
    """`make serve` logs the path without the query string and no request headers."""
    from gunicorn.glogging import Logger

    access_format = MAKEFILE_ACCESS_LOG.search((ROOT / "Makefile").read_text()).group(1)
    key = "tjr_secret-key-in-the-address"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/ogc/collections/deposits/items?api_key={key}",
        "PATH_INFO": "/ogc/collections/deposits/items",
        "QUERY_STRING": f"api_key={key}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Token {key}",
    }
    request = SimpleNamespace(
        headers=[("AUTHORIZATION", f"Token {key}")],
        uri=environ["RAW_URI"],
        path=environ["PATH_INFO"],
        query=environ["QUERY_STRING"],
        method="GET",
        version=(1, 1),
    )
    response = SimpleNamespace(status="200 OK", sent=10, headers=[], response_length=10)
    logger = Logger(
        SimpleNamespace(
            access_log_format=access_format,
            errorlog="-",
            loglevel="info",
            syslog=False,
            logconfig=None,
            logconfig_dict={},
            logconfig_json=None,
            capture_output=False,
            accesslog=None,
            disable_redirect_access_to_syslog=True,
            user=0,
            group=0,
            umask=0,
            syslog_addr=None,
            syslog_prefix=None,
            syslog_facility="user",
            statsd_host=None,
            dogstatsd_tags="",
            statsd_prefix="",
        )
    )
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=12))
    line = access_format % atoms
    assert "/ogc/collections/deposits/items" in line
    assert key not in line


@pytest.fixture
def log_output():
    """What the registry's configured log handlers (settings.LOGGING) write, as text."""
    stream = io.StringIO()
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)]
    handlers = [h for h in handlers if type(h) is logging.StreamHandler]
    assert handlers, "settings.LOGGING's console handler is not on the root logger"
    previous = [h.setStream(stream) for h in handlers]
    levels = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    yield stream
    logging.getLogger().setLevel(levels)
    for handler, old in zip(handlers, previous, strict=True):
        handler.setStream(old)


def test_keys_are_never_written_to_the_logs(caplog, log_output, api_client, partner_org, editor):
    """Every logger at DEBUG while keys travel in the header and in `api_key=`, on answers
    200, 401, 404, 413, 503 (database lost) and 500: no log message holds a key."""
    good = issue_api_key(organisation=partner_org)
    staff = issue_api_key(user=editor)
    revoked = issue_api_key(organisation=partner_org)
    ApiKey.objects.filter(prefix=revoked[:12]).update(revoked_at=timezone.now())
    keys = [good, staff, revoked, "tjr_unknown-key-0123456789"]
    caplog.set_level(logging.DEBUG)
    for key in keys:
        header = {"HTTP_AUTHORIZATION": f"Token {key}"}
        api_client.get("/api/v1/deposits/", **header)
        api_client.get("/api/v1/deposits/TJD-999999/", **header)
        api_client.get("/api/v1/no-such-thing/", {"api_key": key}, **header)
        api_client.get("/ogc/collections/deposits/items", {"api_key": key})
        api_client.get("/ogc/collections/deposits/items/TJD-999999", {"api_key": key})
        api_client.get("/deposits/", {"api_key": key})
        api_client.post(
            "/api/v1/deposits/",
            data="{}",
            content_type="application/json",
            CONTENT_LENGTH=str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
            **header,
        )
        with mock.patch(
            "deposits.api.views.DepositViewSet.filter_queryset",
            side_effect=OperationalError("server closed the connection unexpectedly"),
        ):
            response = api_client.get("/api/v1/deposits/", {"api_key": key}, **header)
            assert response.status_code in (401, 503)
    api_client.raise_request_exception = False
    with mock.patch("deposits.api.views.DepositViewSet.filter_queryset", side_effect=ValueError):
        # In the header: the REST API refuses a key in `api_key` (401) before the view runs.
        response = api_client.get("/api/v1/deposits/", HTTP_AUTHORIZATION=f"Token {good}", **HTTPS)
        assert response.status_code == 500
    assert len(caplog.records) > 10, "too little was logged: the test would prove nothing"
    messages = "\n".join(f"{r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records)
    written = log_output.getvalue()
    assert "Internal Server Error: /api/v1/deposits/" in written
    for key in keys:
        assert key not in messages and key[12:] not in messages
        assert key not in written and key[12:] not in written


def test_a_key_logged_by_mistake_is_redacted_by_the_handler(log_output):
    """Defence in depth: the console handler's filter blanks anything shaped like a key."""
    key = "tjr_" + "A1b2C3d4" * 5
    logging.getLogger("registry.anything").warning("odd request /ogc/items?api_key=%s", key)
    written = log_output.getvalue()
    assert "odd request /ogc/items?api_key=tjr_[redacted]" in written
    assert key not in written


# --- Admin login: lockout after repeated failures (django-axes) --------------------


def login(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_admin_login_locks_out_after_repeated_failures(client):
    UserFactory(username="clerk")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "clerk", "wrong").status_code == 200
    response = login(client, "clerk", "wrong")
    assert response.status_code == 429
    assert "too many login attempts" in response.content.decode().lower()
    # Locked out: even the right password is refused until the cool-off passes.
    assert login(client, "clerk", "correct horse battery").status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME * 2)
    assert login(client, "clerk", "correct horse battery").status_code == 302


def test_a_lockout_stops_guessing_other_names_from_the_same_address(client):
    UserFactory(username="other")
    for number in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"guess{number}", "wrong")
    assert login(client, "other", "correct horse battery").status_code == 429


def test_behind_a_proxy_the_lockout_is_per_client_not_per_proxy(client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    UserFactory(username="honest")
    attacker = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    colleague = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    for number in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"guess{number}", "wrong", **attacker)
    assert login(client, "guess0", "wrong", **attacker).status_code == 429
    assert login(client, "honest", "correct horse battery", **colleague).status_code == 302


def test_without_a_proxy_a_forged_forwarded_for_does_not_escape(client):
    UserFactory(username="clerk")
    for number in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"guess{number}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")
    response = login(client, "clerk", "correct horse battery", HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert response.status_code == 429


def test_api_keys_are_not_passwords_bad_keys_never_lock_anyone_out(api_client, partner_org):
    for number in range(settings.AXES_FAILURE_LIMIT * 2):
        response = api_client.get(
            "/api/v1/deposits/", HTTP_AUTHORIZATION=f"Token tjr_guess{number}"
        )
        assert response.status_code == 401
    assert not AccessAttempt.objects.exists()
    key = issue_api_key(organisation=partner_org)
    response = api_client.get("/api/v1/deposits/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200


# --- Security headers and cookies ---------------------------------------------------


def test_production_settings_harden_transport_and_cookies():
    assert not settings.DEBUG
    assert settings.SECURE_HSTS_SECONDS >= 31_536_000
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS and settings.SECURE_HSTS_PRELOAD
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.parametrize(
    "path", ["/", "/deposits/", "/cooperation/", "/api/v1/deposits/", "/ogc/", LOGIN]
)
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path, **HTTPS)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in response["Strict-Transport-Security"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    policy = csp_of(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["style-src"]


def test_session_and_csrf_cookies_are_secure(client):
    UserFactory(username="clerk")
    page = client.get(LOGIN, **HTTPS)
    assert page.cookies["csrftoken"]["secure"]
    response = client.post(
        LOGIN, {"username": "clerk", "password": "correct horse battery"}, **HTTPS
    )
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] == "Lax"


def test_plain_http_is_redirected_to_https_in_production(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    from django.middleware.security import SecurityMiddleware

    response = SecurityMiddleware(lambda request: None).process_request(
        SimpleNamespace(
            is_secure=lambda: False,
            path="/deposits/",
            get_host=lambda: "registry.example.tj",
            get_full_path=lambda: "/deposits/",
        )
    )
    assert response.status_code == 301
    assert response.url == "https://registry.example.tj/deposits/"


SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_templates_hold_no_inline_script():
    """Every <script> of the pages has a src (or is JSON data); no onclick= handlers."""
    templates = list((ROOT / "templates").rglob("*.html"))
    templates += list((ROOT / "deposits").rglob("templates/**/*.html"))
    templates += list((ROOT / "cooperation").rglob("templates/**/*.html"))
    assert templates
    for template in templates:
        text = template.read_text()
        for attributes in SCRIPT_TAG.findall(text):
            assert "src=" in attributes or "application/json" in attributes, template
        assert not EVENT_HANDLER.search(text), template


def test_api_docs_load_under_the_policy(client):
    response = client.get("/api/docs/", **HTTPS)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>" not in page
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', page).group(1)
    policy = csp_of(response)
    assert policy["script-src"] == ["'self'"]
    script = client.get(script_url.replace("&amp;", "&"), **HTTPS)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content
    assert "/api/schema/" in script.content.decode()


# --- Oversized bodies and uploads ---------------------------------------------------


def test_an_oversized_api_body_is_refused_with_413_json(staff_api_client):
    body = '{"name": "' + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + '"}'
    response = staff_api_client.post(
        "/api/v1/deposits/", data=body, content_type="application/json"
    )
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert "2.5" in response.json()["detail"]


def test_an_oversized_upload_in_the_admin_is_refused_with_a_page(client, settings):
    settings.REQUEST_MAX_UPLOAD_BYTES = 1024 * 1024
    client.force_login(UserFactory(username="root", is_superuser=True))
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("memorandum.pdf", b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024))
    response = client.post(
        reverse("admin:cooperation_memorandum_add"), {"title": "Big", "document": upload}
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "Request too large" in page and "1.0\xa0MB" in page
    assert "Nothing was saved" in page


def test_a_request_within_the_limits_is_untouched(staff_api_client):
    response = staff_api_client.post("/api/v1/deposits/", data={}, format="json")
    assert response.status_code == 400  # the fields' own errors, not a size refusal


# --- Exports: spreadsheet formulas are made inert -----------------------------------

FORMULAS = ['=HYPERLINK("http://evil")', "+1+2", "-2+3", "@SUM(A1)"]


@pytest.fixture
def formula_deposits(db):
    region = RegionFactory()
    return [DepositFactory(name=text, region=region) for text in FORMULAS]


def csv_names(content: bytes) -> set[str]:
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    return {row["Name"] for row in rows}


def test_api_csv_escapes_formulas(api_client, formula_deposits):
    response = api_client.get("/api/v1/deposits/", {"format": "csv"})
    names = csv_names(b"".join(response.streaming_content))
    assert names == {"'" + text for text in FORMULAS}


def test_page_csv_export_escapes_formulas(client, formula_deposits):
    response = client.get(reverse("deposit-export-csv"))
    content = b"".join(response.streaming_content)
    assert csv_names(content) == {"'" + text for text in FORMULAS}


def test_page_xlsx_export_writes_text_never_formulas(client, formula_deposits):
    response = client.get(reverse("deposit-export-xlsx"))
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = [cell for row in workbook.active.iter_rows(min_row=2) for cell in row]
    assert not any(cell.data_type == "f" for cell in cells)
    texts = {cell.value for cell in cells if cell.data_type == "s"}
    assert set(FORMULAS) <= texts  # string cells: shown as typed, never evaluated


def test_admin_spreadsheet_export_escapes_formulas(client, formula_deposits):
    client.force_login(UserFactory(username="root", is_superuser=True))
    response = client.post(
        reverse("admin:deposits_deposit_export"),
        {"format": "0", **{f"depositresource_{f}": "on" for f in ("name", "public_id")}},
    )
    assert response.status_code == 200, response.content[:500]
    text = response.content.decode("utf-8-sig")
    for formula in FORMULAS:
        assert "'" + formula.replace('"', '""') in text or "'" + formula in text
