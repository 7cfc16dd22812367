"""The endpoints of the OGC service under `/ogc/`.

They are DRF views for the REST API's keys, throttles and staff sessions, but answer
with the OGC media types, not through DRF's negotiation (GIS clients send long, varied
Accept lists), and errors in the OGC exception shape (`{"code", "description"}`, with
the bad parameters named).

Each resource also answers as a page, as OGC API - Features' HTML class asks: with
`f=html`, or to a browser (an Accept header preferring text/html to JSON, `query.
answers_html`). The page is the JSON document itself, built by the same function from
the same read, shown by a template (`templates/ogc/`); nothing is read twice.

The JSON answers of the items and of one feature are kept in the shared cache as the REST
API's reads are (`kernel.api.caching.cached_read`: per address, visibility and language,
until the next write), with an ETag; pages are not kept.
"""

import hashlib

from django.http import HttpResponse, HttpResponseNotModified, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from deposits.ogc import documents
from deposits.ogc.crs import Crs, requested_crs
from deposits.ogc.documents import GEOJSON, JSON, OPENAPI, SCHEMA, Links
from deposits.ogc.openapi import openapi_document, operations
from deposits.ogc.paging import read_page
from deposits.ogc.query import (
    COMMON_PARAMETERS,
    ITEM_PARAMETERS,
    SORTABLES,
    answers_html,
    check_parameters,
    items_query,
)
from deposits.pages.common import map_config
from deposits.querysets import deposit_rows
from deposits.shares import recorded_on
from kernel import access
from kernel.api.authentication import ApiKeyAuthentication
from kernel.api.caching import cached_read
from kernel.parameters import as_of
from kernel.visibility import Caller


class HeaderOrQueryKeyAuthentication(ApiKeyAuthentication):
    """The REST API's key rules, for a key in the Authorization header or, for GIS tools
    that cannot send headers, in `api_key` (the header wins when both are given)."""

    def authenticate_query_key(self, request):
        result = self.authenticate_credentials(request.query_params[self.query_parameter])
        request.api_key_in_query = True  # links must carry it (see documents.Links)
        return result


OGC_ERROR_CODES = {
    400: "InvalidParameterValue",
    401: "InvalidApiKey",
    404: "NotFound",
    405: "MethodNotAllowed",
    429: "TooManyRequests",
}


class OgcView(APIView):
    authentication_classes = [HeaderOrQueryKeyAuthentication, SessionAuthentication]
    permission_classes = [AllowAny]
    http_method_names = ["get", "head", "options"]
    parameters = COMMON_PARAMETERS
    json_type = JSON  # the resource's JSON media type, weighed against text/html
    html = False  # whether this request is answered as a page (set in `initial`)

    def perform_content_negotiation(self, request, force=False):
        # JSON or a page, decided by `answers_html`; `f` is checked with the other parameters.
        return (JSONRenderer(), JSONRenderer.media_type)

    def initial(self, request, *args, **kwargs):
        # Decided first, so that even a bad key's 401 comes as a page to a browser.
        self.html = answers_html(request, self.json_type)
        super().initial(request, *args, **kwargs)  # the key first: a bad key is a 401
        if self.parameters is not None:
            check_parameters(request.query_params, self.parameters)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ["Accept"])  # one address, JSON or a page
        return response

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        data = response.data
        if isinstance(data, dict) and set(data) == {"detail"}:
            error = {"description": str(data["detail"])}
        else:  # a ValidationError: {parameter: [messages]}
            parameters = {name: [str(m) for m in messages] for name, messages in data.items()}
            error = {
                "description": "; ".join(
                    f"{name}: {' '.join(messages)}" for name, messages in parameters.items()
                ),
                "parameters": parameters,
            }
        code = OGC_ERROR_CODES.get(response.status_code, "Error")
        response.data = {"code": code, **error}
        if not self.html:
            return response
        page = render(
            self.request._request,
            "ogc/error.html",
            {"error": response.data, "status": response.status_code},
            status=response.status_code,
        )
        for header in ("WWW-Authenticate", "Retry-After"):
            if header in response:
                page[header] = response[header]
        return page

    def as_json(self) -> str:
        """This request's address asking for JSON (the page's "as JSON" link)."""
        params = self.request._request.GET.copy()
        params["f"] = "json"
        return self.request.build_absolute_uri(f"{self.request.path}?{params.urlencode()}")

    def links(self) -> Links:
        return Links(self.request, html=self.html)

    @staticmethod
    def marked(response: HttpResponse, returned: access.Returned) -> HttpResponse:
        """The response, marked with what it carries for the access record."""
        access.mark(response, returned)
        return response

    @staticmethod
    def in_crs(response: HttpResponse, crs: Crs) -> HttpResponse:
        """The response, saying the CRS of the coordinates it carries (Part 2)."""
        response["Content-Crs"] = crs.header()
        return response

    @property
    def caller(self) -> Caller:
        return Caller.of(self.request)

    def collection(self, collection_id: str) -> documents.Collection:
        collection = documents.find_collection(collection_id)
        if collection is None:
            raise exceptions.NotFound(_("No collection %r.") % collection_id)
        return collection

    def respond(self, document: dict, template: str, **context) -> HttpResponse:
        """The document as JSON in the resource's media type, or as the page `template`
        shows it (with `context`, what the page adds: a map, rows with their links)."""
        if not self.html:
            content = documents.json_text(document).encode()
            etag = f'"{hashlib.sha256(content).hexdigest()[:40]}"'
            if etag in parse_etags(self.request.headers.get("If-None-Match", "")):
                response = HttpResponseNotModified()
            else:
                response = HttpResponse(content, content_type=self.json_type)
            response["ETag"] = etag
            return response
        context = {
            "document": document,
            "json_url": self.as_json(),
            "json_type": self.json_type,
            **context,
        }
        return render(self.request._request, f"ogc/{template}.html", context)


def feature_map(features: list[dict], collection_id: str) -> dict:
    """The settings of a page's map of these features, as the rows map.js draws
    (`deposits.pages.common.map_points`), each marker leading to its feature's page;
    features without coordinates are left off the map, not off the table."""
    marker = "feature-id"
    head, tail = reverse("ogc-item", args=[collection_id, marker]).split(marker)
    located = [f for f in features if f["geometry"] is not None]
    rows = [
        [f["id"], f["properties"].get("name", f["id"]), *reversed(f["geometry"]["coordinates"])]
        for f in located
    ]
    return map_config(
        points={"url": [head, f"{tail}?f=html"], "deposits": rows, "truncated": False}
    )


class LandingPage(OgcView):
    def get(self, request):
        service_url = request.build_absolute_uri(reverse("ogc-landing"))
        return self.respond(
            documents.landing_page(self.links()), "landing", service_url=service_url
        )


class Conformance(OgcView):
    def get(self, request):
        return self.respond(documents.conformance(self.links()), "conformance")


class ServiceDescription(OgcView):
    """The OpenAPI document; as a page, its operations and parameters, read from it."""

    json_type = OPENAPI

    def get(self, request):
        document = openapi_document(request)
        if not self.html:
            return self.respond(document, "api")
        every, each = operations(document)
        return self.respond(document, "api", common_parameters=every, operations=each)


def service_doc(request):
    """The address of the service's page before it answered `/ogc/api?f=html`."""
    return HttpResponsePermanentRedirect(f"{reverse('ogc-openapi')}?f=html")


class Collections(OgcView):
    def get(self, request):
        return self.respond(
            documents.collections_document(self.caller, self.links()), "collections"
        )


class Collection(OgcView):
    def get(self, request, collection_id):
        collection = self.collection(collection_id)
        extent = documents.collection_extent(collection, self.caller)
        document = documents.collection_document(collection, extent, self.links())
        return self.respond(document, "collection")


class Queryables(OgcView):
    json_type = SCHEMA

    def get(self, request, collection_id):
        collection = self.collection(collection_id)
        return self.respond(documents.queryables(collection, self.links()), "queryables")


class Sortables(OgcView):
    json_type = SCHEMA

    def get(self, request, collection_id):
        collection = self.collection(collection_id)
        document = documents.sortables(collection, self.links(), SORTABLES)
        return self.respond(document, "queryables", sorting=True)


class Items(OgcView):
    parameters = None  # checked by items_query, with the paging and the queryables
    json_type = GEOJSON

    @cached_read
    def get(self, request, collection_id):
        collection = self.collection(collection_id)
        query = items_query(request.query_params, collection.deposits(self.caller), request)
        matched = query.deposits().count()
        links = self.links()
        # Past the end the page is empty (by offset or cursor).
        page = read_page(query, matched, self.caller, recorded_on(query.as_of))
        features = [
            documents.feature(d, collection, links, query.as_of, query.properties)
            for d in page.rows
        ]
        page_links = documents.page_links(links, collection, query, page)
        # Served in the CRS asked for; the page's map stays on the CRS84 features.
        served = [query.crs.feature(feature) for feature in features]
        document = documents.feature_collection(served, page_links, matched)
        returned = access.Returned(count=len(features))
        if not self.html:
            return self.marked(self.in_crs(self.respond(document, "items"), query.crs), returned)
        rows = [
            (feature, links.href("ogc-item", collection.id, feature["id"], query=[("f", "html")]))
            for feature in served
        ]
        shown = self.respond(
            document,
            "items",
            collection=collection,
            rows=rows,
            # Where the page lies in the whole, when it was asked by offset.
            first=None if page.start is None else page.start + 1,
            last=None if page.start is None else page.start + len(features),
            crs=query.crs,
            map_config=feature_map(features, collection.id),
        )
        return self.marked(self.in_crs(shown, query.crs), returned)


class Item(OgcView):
    parameters = ITEM_PARAMETERS
    json_type = GEOJSON

    @cached_read
    def get(self, request, collection_id, feature_id):
        collection = self.collection(collection_id)
        day = as_of(request.query_params)
        crs = requested_crs(request.query_params, "crs")
        deposits = collection.deposits(self.caller).filter(public_id=feature_id)
        rows = deposit_rows(deposits, self.caller, on=recorded_on(day), streamed=False)
        deposit = next(rows, None)
        if deposit is None:
            raise exceptions.NotFound(_("No feature %r in this collection.") % feature_id)
        document = documents.feature_document(deposit, collection, self.links(), day)
        returned = access.Returned(count=1, identifiers=(feature_id,))
        served = crs.feature(document)  # in the CRS asked for; the map stays on CRS84
        if not self.html:
            return self.marked(self.in_crs(self.respond(served, "item"), crs), returned)
        page = self.respond(
            served,
            "item",
            collection=collection,
            crs=crs,
            map_config=feature_map([document], collection.id),
        )
        return self.marked(self.in_crs(page, crs), returned)


class NotFound(OgcView):
    """Every other path under /ogc/ answers 404 in the OGC exception shape."""

    parameters = None

    def get(self, request, rest=""):
        raise exceptions.NotFound(_("No such resource; start at the landing page, /ogc/."))
