"""Fail cleanly while the database is away: 503 with Retry-After, never a traceback."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def database_unavailable() -> JsonResponse:
    response = JsonResponse(
        {"detail": "The registry's database is unavailable; retry shortly."}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Turns a lost database connection into 503; Django reconnects on the next request
    (CONN_HEALTH_CHECKS), so the app recovers without a restart."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            logger.warning("database unavailable during %s %s", request.method, request.path)
            return database_unavailable()
        return None
