"""Views of the service as a whole: its health, its 404 page and its icon."""

from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found
from django_redis.cache import RedisCache

from registry.middleware import CACHE_UNAVAILABLE, unavailable


def not_found(request, exception):
    """Machines reading /api/ and /ogc get a JSON 404, people the page."""
    if request.path.startswith(("/api/", "/ogc")):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def favicon(request):
    """Browsers ask for /favicon.ico by themselves on pages that name no icon (Swagger
    UI): they get the registry's, which the pages and the admin name."""
    return redirect(static("registry/favicon.svg"))


def cache_state() -> str:
    """The shared cache's state: "ok" when it takes a write (the API's throttles write on
    every request), "unavailable" when it does not answer or refuses writes,
    "per-process" without one (REDIS_URL unset)."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return "per-process"
    try:
        backend.client.get_client(write=True).set("registry:healthz", 1, ex=60)
    except CACHE_UNAVAILABLE:
        return "unavailable"
    return "ok"


@never_cache
def healthz(request):
    """For load balancers and monitors: 200 when the database answers, else 503. The
    shared cache's state is reported, not judged: every node shares it, so a balancer
    could not route around it, and while it is away the pages still serve (the API
    answers 503)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return unavailable("database")
    return JsonResponse({"status": "ok", "database": "ok", "cache": cache_state()})
