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
