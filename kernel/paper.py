"""Paper: a page's template rendered as a PDF (WeasyPrint), for the deposit passport and
the printable reports.

A PDF is laid out from HTML and CSS like a page, so a document is a template like any
other, reading the same context as the screen. Nothing it needs is fetched over the
network: its stylesheet and any other static file come from disk (`_read_static`), and
every other URL is refused. A server asking itself for its own stylesheet would tie up
a worker, and ministry networks are often closed.

WeasyPrint draws text with Pango: the Debian packages it needs are installed by
`.ci/run` (docs/deployment.md). It takes ~0.7 s to import, so it is imported by the
first PDF a process renders, not by every process that serves the registry.
"""

import mimetypes
from functools import cache
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone


def render_pdf(request, template_name: str, context: dict) -> bytes:
    """The template rendered for `request` (its language, its caller), as PDF bytes, with
    `printed_at`, the moment it was printed.

    Links are made absolute against the request's site, so they work from the paper's
    file as they do on the page."""
    from weasyprint import HTML

    context = {"printed_at": timezone.now(), **context}
    html = render_to_string(template_name, context, request=request)
    document = HTML(
        string=html,
        base_url=request.build_absolute_uri("/"),
        url_fetcher=_static_files()(fail_on_errors=True),
    )
    return document.write_pdf()


def pdf_response(request, template_name: str, context: dict, filename: str) -> HttpResponse:
    """`render_pdf` as a response the browser opens (and saves under `filename`.pdf)."""
    response = HttpResponse(
        render_pdf(request, template_name, context), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
    return response


@cache
def _static_files() -> type:
    """WeasyPrint's URL fetcher that serves the app's static files from disk and refuses
    any other URL."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFiles(URLFetcher):
        def fetch(self, url, headers=None):
            path = unquote(urlsplit(url).path)
            prefix = urlsplit(settings.STATIC_URL).path
            prefix = prefix if prefix.startswith("/") else f"/{prefix}"
            if not path.startswith(prefix):
                raise ValueError(f"a PDF loads static files only, not {url}")
            name = path.removeprefix(prefix)
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, _read_static(name), {"Content-Type": content_type})

    return StaticFiles


def _read_static(name: str) -> bytes:
    """A static file by its name in a URL: from the apps' static folders (a local run,
    the tests), else collected (the hashed names `make serve` writes)."""
    found = finders.find(name)
    if found:
        with open(found, "rb") as file:
            return file.read()
    if staticfiles_storage.exists(name):
        with staticfiles_storage.open(name) as file:
            return file.read()
    raise ValueError(f"no static file {name}")
