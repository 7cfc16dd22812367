"""Monitors read /healthz; a lost database answers 503 with Retry-After, not a traceback."""

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from registry.middleware import DatabaseUnavailableMiddleware

pytestmark = pytest.mark.django_db


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_a_lost_database_connection_answers_503_with_retry_after():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    request = RequestFactory().get("/api/v1/deposits/")
    error = OperationalError("server closed the connection unexpectedly")
    response = middleware.process_exception(request, error)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"unavailable" in response.content


def test_other_errors_are_not_disguised():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
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
