"""Answers to API reads kept in the shared cache until the registry next changes.

Partners pull the same lists and records again and again; between two edits the
answer to a GET is the same bytes. A read is cached under its full URL, the
caller's visibility and the language, together with the *generation* of
the registry it was read at: a number every committed write of a registry record
moves on (signals connected in `KernelConfig.ready`; bulk paths call
`registry_changed` themselves). An entry of an older generation is never served;
the generation and the entry come back in one round trip to the cache, with Redis
the same one that counts the request for the throttle (kernel/api/throttling.py).

Only with a cache all server processes share (REDIS_URL): a process-local
cache would keep serving a record another process has changed. The setting
`API_CACHE_SECONDS` (0 turns it off) bounds how long an entry lives anyway.
"""

import hashlib
import time
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags
from django.utils.translation import get_language
from rest_framework.renderers import JSONRenderer

GENERATION_KEY = "registry:generation"
KEPT_HEADERS = ("Content-Type", "ETag", "Vary", "Allow")


def registry_generation() -> int:
    # A lost counter restarts from the clock, never from a number already used.
    return cache.get_or_set(GENERATION_KEY, time.time_ns, timeout=None)


def registry_changed(using=None, **kwargs) -> None:
    """Move the generation on once the current transaction commits (at once outside one),
    so a read never caches data of a write that is not yet visible to it.

    Once per transaction, however many records it writes (an import writes thousands):
    a callback already pending is enough. A savepoint rolled back takes its callbacks
    with it, so the next write registers again.
    """
    connection = transaction.get_connection(using)
    # Django keeps (savepoint ids, callback, robust) for each pending on-commit callback.
    if any(pending[1] is _next_generation for pending in connection.run_on_commit):
        return
    transaction.on_commit(_next_generation, using=using)


def _next_generation() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no counter yet (or evicted): any new value will do
        cache.set(GENERATION_KEY, time.time_ns(), timeout=None)


def _cache_key(view, request) -> str:
    caller = view.caller.cache_identity
    identity = f"{request.build_absolute_uri()}\n{caller}\n{get_language()}"
    return "api:" + hashlib.sha256(identity.encode()).hexdigest()


def _not_modified(request, etag: str | None) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    return bool(etag and if_none_match) and (
        etag in parse_etags(if_none_match) or if_none_match == "*"
    )


class CacheLookup:
    """The keys a read's answer is looked up under and, once read, what the cache held."""

    def __init__(self, key: str):
        self.key = key
        self.keys = [GENERATION_KEY, key]
        self.found: dict | None = None

    def read(self) -> tuple[int, object]:
        """The registry's generation and the entry kept for the read (None if none)."""
        found = self.found if self.found is not None else cache.get_many(self.keys)
        return found.get(GENERATION_KEY) or registry_generation(), found.get(self.key)


def cached_read(lookup: CacheLookup, handler, request, *args, **kwargs):
    """`handler`'s answer to a JSON GET, from the cache when the registry has not changed."""
    generation, hit = lookup.read()
    if hit is not None and hit[0] == generation:
        _, content, headers = hit
        if _not_modified(request, headers.get("ETag")):
            response = HttpResponseNotModified()
            headers = {name: headers[name] for name in ("ETag", "Vary") if name in headers}
        else:
            response = HttpResponse(content)
        for name, value in headers.items():
            response[name] = value
        return response

    def keep(rendered):
        if rendered.status_code == 200:
            headers = {name: rendered[name] for name in KEPT_HEADERS if rendered.has_header(name)}
            entry = (generation, rendered.content, headers)
            cache.set(lookup.key, entry, settings.API_CACHE_SECONDS)

    response = handler(request, *args, **kwargs)
    if response.status_code == 200:
        response.add_post_render_callback(keep)
    return response


class CachedReadsMixin:
    """Viewsets' `list` and `retrieve` answered through `cached_read`, however a viewset
    defines them: DRF looks the handler up after `initial` (content negotiation,
    authentication, throttles), and `initial` hands it the handler wrapped.

    The cache key is known once the caller is authenticated, before the throttles
    count the request: `cache_lookup` is set then, so a throttle counting in Redis
    reads the answer in the same round trip."""

    cached_actions = ("list", "retrieve")
    cache_lookup: CacheLookup | None = None

    def check_throttles(self, request):
        if (
            settings.API_CACHE_SECONDS
            and request.method == "GET"
            and self.action in self.cached_actions
            and isinstance(request.accepted_renderer, JSONRenderer)
        ):
            self.cache_lookup = CacheLookup(_cache_key(self, request))
        super().check_throttles(request)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.cache_lookup is not None:
            self.get = partial(cached_read, self.cache_lookup, self.get)
