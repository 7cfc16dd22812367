"""Answers to API reads kept in the shared cache until the registry next changes.

Partners pull the same lists and records again and again; between two edits the
answer to a GET is the same bytes. `cached_read` wraps a viewset's `list` or
`retrieve` (`CachedReadsMixin` does it for the registry's viewsets): by then DRF has
authenticated the caller, counted the request for the throttle and chosen the
renderer, each in its own place (the OGC service's items and features,
`deposits.ogc.views`, are kept through the same function). A JSON GET is answered with
the bytes and headers kept under its full URL, the caller's visibility and the
language, if they were kept at the registry's current *generation*; otherwise the
action runs and its rendered answer is kept.

The generation is a number every committed write of a registry record moves on
(signals connected in `KernelConfig.ready`; bulk paths call `registry_changed`
themselves). The database holds it (`RegistryGeneration`), moved as soon as the write
commits. The cache holds a copy stamped with the time it was read from the database,
fetched with the entry in one round trip, and trusted for
`API_CACHE_GENERATION_SECONDS`: a write forgets the copy once it has moved the
generation, and if that fails (Redis stalled or away: the write still succeeds),
readers go back to the database once the copy is that old. So a stale answer (or API
key) outlives a write by a few seconds at most, whatever Redis does. The stamp, not a
Redis expiry, decides: a Redis paused for writes expires nothing. A process that dies
between a commit and the move leaves the move undone: answers kept before it then live
until API_CACHE_SECONDS.

Only with a cache all server processes share (REDIS_URL): a process-local
cache would keep serving a record another process has changed. The setting
`API_CACHE_SECONDS` (0 turns it off) bounds how long an entry lives anyway.
"""

import functools
import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.http import HttpResponse, HttpResponseNotModified
from django.template.response import SimpleTemplateResponse
from django.utils.http import parse_etags
from django.utils.translation import get_language
from rest_framework.renderers import JSONRenderer

from kernel import access
from kernel.models import RegistryGeneration

logger = logging.getLogger(__name__)

# The copy: (generation, when it was read from the database).
GENERATION_KEY = "registry:generation-copy"
KEPT_HEADERS = ("Content-Type", "ETag", "Vary", "Allow", "Content-Crs")

# The clock a copy of the generation is stamped and aged on (tests move it).
clock = time.time


def registry_changed(using=None, **kwargs) -> None:
    """Move the generation on once the current transaction commits (at once outside one),
    so a read never keeps an answer under a generation that already covers a write it
    could not see (a signal receiver, or called by a bulk path).

    Once per transaction, however many records it writes (an import writes thousands):
    a move already pending is enough. A savepoint rolled back takes its pending move
    with it, so the next write registers again."""
    connection = transaction.get_connection(using)
    # Django keeps (savepoint ids, callback, robust) for each pending on-commit callback.
    if any(getattr(pending[1], "func", None) is _moved_on for pending in connection.run_on_commit):
        return
    transaction.on_commit(functools.partial(_moved_on, using), using=using)


def _moved_on(using) -> None:
    """After the commit: the database's generation one step on, then the cache's copy
    forgotten. Neither may fail the write, which has committed: a copy left behind is
    trusted for API_CACHE_GENERATION_SECONDS at most. The move is a statement of its own
    rather than part of the write's transaction, so writers never queue on its row."""
    try:
        RegistryGeneration.move_on(using)
    except DatabaseError:
        logger.error("A committed write could not move the registry generation on", exc_info=True)
    try:
        cache.delete(GENERATION_KEY)
    except Exception:
        logger.warning(
            "A write could not forget the cache's copy of the registry generation; "
            "it is trusted for API_CACHE_GENERATION_SECONDS at most",
            exc_info=True,
        )


def registry_generation() -> int:
    """The generation a read takes now: the cache's copy while it is trusted."""
    return _trusted(cache.get(GENERATION_KEY))


def kept(key: str) -> tuple[int, object]:
    """The registry's generation and what `keep` kept under `key` at that generation
    (None if nothing), in one round trip to the cache while its copy is trusted."""
    found = cache.get_many([GENERATION_KEY, key])
    generation = _trusted(found.get(GENERATION_KEY))
    entry = found.get(key)
    if entry is not None and entry[0] == generation:
        return generation, entry[1]
    return generation, None


def keep(key: str, generation: int, value) -> None:
    """Keep `value`, read at `generation` (taken before the read), until it moves on."""
    cache.set(key, (generation, value), settings.API_CACHE_SECONDS)


def _trusted(copy: tuple[int, float] | None) -> int:
    """The copy's generation while it is young enough; else the database's, copied again.

    A copy made while a write commits may hold the generation before it (the write's
    forgetting came first): it is trusted no longer than any other copy."""
    now = clock()
    # Aged either way: the server that stamped it may run a little ahead.
    if copy is not None and abs(now - copy[1]) < settings.API_CACHE_GENERATION_SECONDS:
        return copy[0]
    generation = RegistryGeneration.current()
    cache.set(GENERATION_KEY, (generation, now), timeout=None)
    return generation


def _cache_key(view, request) -> str:
    caller = view.caller.cache_identity
    identity = f"{request.build_absolute_uri()}\n{caller}\n{get_language()}"
    return "api:" + hashlib.sha256(identity.encode()).hexdigest()


def _cacheable(view, request) -> bool:
    # A view that answers this request as a page (the OGC service's `html`) is not kept:
    # a page carries its reader's session (the sign-in and language forms).
    return bool(
        settings.API_CACHE_SECONDS
        and request.method == "GET"
        and isinstance(request.accepted_renderer, JSONRenderer)
        and not getattr(view, "html", False)
    )


def _replayed(request, content: bytes, headers: dict, returned=None) -> HttpResponse:
    etag = headers.get("ETag")
    if_none_match = request.headers.get("If-None-Match")
    if etag and if_none_match and (etag in parse_etags(if_none_match) or if_none_match == "*"):
        response = HttpResponseNotModified()
        headers = {name: headers[name] for name in ("ETag", "Vary") if name in headers}
    else:
        response = HttpResponse(content)
    for name, value in headers.items():
        response[name] = value
    # What the answer carried, for the access record: a replayed read is a read too.
    access.mark(response, access.Returned.from_kept(returned))
    return response


def _keep_rendered(key: str, generation: int, rendered) -> None:
    headers = {name: rendered[name] for name in KEPT_HEADERS if rendered.has_header(name)}
    returned = access.marked(rendered)
    kept = None if returned is None else returned.as_kept()
    keep(key, generation, (rendered.content, headers, kept))


def cached_read(action):
    """A viewset's `list` or `retrieve` (or an OGC view's `get`), answering a JSON GET
    from the cache while the registry has not changed since the answer was kept."""

    @functools.wraps(action)
    def read(view, request, *args, **kwargs):
        if not _cacheable(view, request):
            return action(view, request, *args, **kwargs)
        key = _cache_key(view, request)
        generation, answer = kept(key)
        if answer is not None:
            return _replayed(request, *answer)
        response = action(view, request, *args, **kwargs)
        if response.status_code == 200:
            keeping = functools.partial(_keep_rendered, key, generation)
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.add_post_render_callback(keeping)
            else:  # already bytes (the OGC service writes its JSON itself)
                keeping(response)
        return response

    return read


class CachedReadsMixin:
    """`list` and `retrieve` through `cached_read`. A viewset that writes its own calls
    these through `super()` or decorates its own with `cached_read`."""

    @cached_read
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @cached_read
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)
