"""The endpoints of the OGC service under `/ogc/`.

They are DRF views for the REST API's keys, throttles and staff sessions, but answer
with the OGC media types whatever the client's Accept header says (GIS clients send
long, varied Accept lists), and errors in the OGC exception shape
(`{"code", "description"}`, with the bad parameters named).
"""

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from deposits.ogc import documents
from deposits.ogc.documents import GEOJSON, JSON, OPENAPI, SCHEMA, Links
from deposits.ogc.openapi import openapi_document
from deposits.ogc.query import COMMON_PARAMETERS, ITEM_PARAMETERS, check_parameters, items_query
from deposits.querysets import deposit_rows
from deposits.shares import recorded_on
from kernel.api.authentication import ApiKeyAuthentication
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

    def perform_content_negotiation(self, request, force=False):
        # One encoding per resource; `f` is checked with the other parameters.
        return (JSONRenderer(), JSONRenderer.media_type)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # the key first: a bad key is a 401
        if self.parameters is not None:
            check_parameters(request.query_params, self.parameters)

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
        return response

    @property
    def caller(self) -> Caller:
        return Caller.of(self.request)

    def collection(self, collection_id: str) -> documents.Collection:
        collection = documents.find_collection(collection_id)
        if collection is None:
            raise exceptions.NotFound(_("No collection %r.") % collection_id)
        return collection

    @staticmethod
    def respond(document: dict, content_type: str = JSON) -> HttpResponse:
        return HttpResponse(documents.json_text(document), content_type=content_type)


class LandingPage(OgcView):
    def get(self, request):
        return self.respond(documents.landing_page(Links(request)))


class Conformance(OgcView):
    def get(self, request):
        return self.respond(documents.conformance())


class ServiceDescription(OgcView):
    def get(self, request):
        return self.respond(openapi_document(request), OPENAPI)


class ServiceDoc(OgcView):
    """A page for people: what the service offers and how to add it in QGIS."""

    def get(self, request):
        def url(name, *args):  # never with the caller's api_key: a page gets copied around
            return request.build_absolute_uri(reverse(name, args=args))

        context = {
            "landing": url("ogc-landing"),
            "service_desc": url("ogc-openapi"),
            "collections": url("ogc-collections"),
            "items": url("ogc-items", documents.ALL_DEPOSITS),
        }
        return render(request._request, "ogc/service_doc.html", context)


class Collections(OgcView):
    def get(self, request):
        return self.respond(documents.collections_document(self.caller, Links(request)))


class Collection(OgcView):
    def get(self, request, collection_id):
        collection = self.collection(collection_id)
        extent = documents.collection_extent(collection, self.caller)
        return self.respond(documents.collection_document(collection, extent, Links(request)))


class Queryables(OgcView):
    def get(self, request, collection_id):
        collection = self.collection(collection_id)
        return self.respond(documents.queryables(collection, Links(request)), SCHEMA)


class Items(OgcView):
    parameters = None  # checked by items_query, with the paging and the queryables

    def get(self, request, collection_id):
        collection = self.collection(collection_id)
        query = items_query(request.query_params, collection.deposits(self.caller), request)
        matching = query.deposits().order_by("name", "pk")
        matched = matching.count()
        links = Links(request)
        # Past the end the page is empty; an offset beyond SQL's integers never reaches SQL.
        start = min(query.offset, matched)
        on = recorded_on(query.as_of)
        page = deposit_rows(matching[start : start + query.limit], self.caller, on=on)
        features = [documents.feature(d, collection, links, query.as_of) for d in page]
        page_links = documents.page_links(links, collection, query, matched, len(features))
        return self.respond(documents.feature_collection(features, page_links, matched), GEOJSON)


class Item(OgcView):
    parameters = ITEM_PARAMETERS

    def get(self, request, collection_id, feature_id):
        collection = self.collection(collection_id)
        day = as_of(request.query_params)
        deposits = collection.deposits(self.caller).filter(public_id=feature_id)
        deposit = next(deposit_rows(deposits, self.caller, on=recorded_on(day)), None)
        if deposit is None:
            raise exceptions.NotFound(_("No feature %r in this collection.") % feature_id)
        return self.respond(
            documents.feature_document(deposit, collection, Links(request), day), GEOJSON
        )


class NotFound(OgcView):
    """Every other path under /ogc/ answers 404 in the OGC exception shape."""

    parameters = None

    def get(self, request, rest=""):
        raise exceptions.NotFound(_("No such resource; start at the landing page, /ogc/."))
