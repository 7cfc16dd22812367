"""Fail cleanly while the database or the shared cache is away: 503 with Retry-After,
never a traceback."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from redis import exceptions as redis_errors

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5

# Redis not answering, or answering that it takes no writes now (full with no eviction,
# or a replica during a failover): the API cannot count its throttles.
CACHE_UNAVAILABLE = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.OutOfMemoryError,
    redis_errors.ReadOnlyError,
)


def unavailable(service: str) -> JsonResponse:
    response = JsonResponse(
        {"detail": f"The registry's {service} is unavailable; retry shortly."}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class ServiceUnavailableMiddleware:
    """Turns a lost database connection, or a shared cache (Redis) that does not answer
    or takes no writes, into 503. Both are reconnected on a later request (the database by
    CONN_HEALTH_CHECKS, Redis by its client), so the app recovers without a restart."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            service = "database"
        elif isinstance(exception, CACHE_UNAVAILABLE):
            service = "cache"
        else:
            return None
        logger.warning("%s unavailable during %s %s", service, request.method, request.path)
        return unavailable(service)
