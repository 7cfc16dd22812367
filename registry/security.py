"""Trust: the pieces of the registry's hardening that are code, not settings.

- `client_ip`: the caller's address as the API throttles see it (API_NUM_PROXIES),
  so the admin's lockout (django-axes) and the throttles agree behind a proxy.
- `RequestSizeLimitMiddleware`: an oversized body or upload is refused before it
  is read, with a clear message (JSON for machines, a page for people).
- `registry.logfilters.RedactKeys` (a module of its own: logging is configured before
  the apps load) blanks anything shaped like an API key in a log message.
- `api_docs`: Swagger UI under the Content-Security-Policy (its script served as a
  file, and the one relaxation it needs).

The settings are at the end of registry/settings.py ("# Trust"); what each promise
means and how it is tested: docs/reliability.md.
"""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.html import escape
from django.utils.translation import gettext as _
from drf_spectacular.views import SpectacularSwaggerSplitView

MACHINE_PATHS = ("/api/", "/ogc", "/healthz")


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or behind N proxies (API_NUM_PROXIES) the N-th
    address from the right of X-Forwarded-For, the one the nearest trusted proxy saw.
    The same rule as DRF's throttles; with 0 proxies X-Forwarded-For is ignored (it
    could be forged)."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote_addr
    addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
    if not addresses:
        return remote_addr
    return addresses[-min(proxies, len(addresses))]


def too_large(request, limit: int) -> HttpResponse:
    message = _(
        "The request is too large: at most %(limit)s may be sent here. Nothing was saved."
    ) % {"limit": filesizeformat(limit)}
    if request.path.startswith(MACHINE_PATHS):
        return JsonResponse({"detail": message}, status=413)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Request too large</title></head><body><h1>Request too large</h1>"
        f"<p>{escape(message)}</p><p>{escape(_('Go back and send a smaller file.'))}</p>"
        "</body></html>"
    )
    return HttpResponse(page, status=413)


def body_limit(request) -> int:
    """Multipart forms carry files (signed memoranda, spreadsheets): REQUEST_MAX_UPLOAD_BYTES.
    Any other body (JSON to the API, plain forms): DATA_UPLOAD_MAX_MEMORY_SIZE."""
    if request.content_type == "multipart/form-data":
        return settings.REQUEST_MAX_UPLOAD_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class RequestSizeLimitMiddleware:
    """Refuses, with 413 and a clear message, a body larger than the registry accepts,
    from its Content-Length and before anything reads it. The per-file limits of the
    forms (kernel/spreadsheets.py, cooperation.models) stay below this limit, so a
    file that is merely too large for its field gets that field's error instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_limit(request)
        if length > limit:
            return too_large(request, limit)
        return self.get_response(request)

    def process_exception(self, request, exception):
        # A body without Content-Length (chunked) that grows past the limit as it is read.
        if isinstance(exception, RequestDataTooBig):
            return too_large(request, body_limit(request))
        return None


# Swagger UI's page keeps a small <style> block in drf-spectacular's template; its
# script is served as a file by the split view, so scripts stay 'self' only.
api_docs = csp_update({"style-src": [UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)
