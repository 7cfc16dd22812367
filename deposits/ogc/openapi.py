"""The OpenAPI 3.0 description of the OGC service (its `service-desc`).

Built in code rather than generated: the OGC endpoints are not DRF viewsets, and the
document names the parameters exactly as `deposits.ogc.query` checks them.
"""

from django.urls import reverse

from deposits.models import Deposit
from deposits.ogc import cql2
from deposits.ogc.crs import CRS84, URIS
from deposits.ogc.documents import GEOJSON, HTML, JSON, OPENAPI, SCHEMA
from deposits.ogc.query import FILTER_PARAMETERS, LIMIT_DEFAULT, LIMIT_MAX, SORTABLES


def _parameter(name: str, description: str, schema: dict, **extra) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        **extra,
    }


def _path_parameter(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _ok(description: str, media_type: str) -> dict:
    """A 200 answer: the JSON document, or the same as a page (`f=html`, or a browser)."""
    return {
        "description": description,
        "content": {
            media_type: {"schema": {"type": "object"}},
            HTML: {"schema": {"type": "string"}},
        },
    }


def _error(description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": _ref_schema("exception")}}}


def _ref_schema(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "429": {"$ref": "#/components/responses/TooManyRequests"},
}


def _get(operation_id: str, summary: str, parameters: list, responses: dict) -> dict:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["OGC API - Features"],
            "parameters": [_ref("f"), _ref("api_key"), *parameters],
            "responses": {**responses, **ERRORS},
        }
    }


def openapi_document(request) -> dict:
    base = request.build_absolute_uri(reverse("ogc-landing")).rstrip("/")
    collection = _ref("collectionId")
    not_found = {"404": {"$ref": "#/components/responses/NotFound"}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Tajikistan Mineral Deposit Registry - OGC API - Features",
            "version": "1.0.0",
            "description": (
                "The registry's deposits for GIS tools (QGIS, ArcGIS, GDAL). Coordinates in "
                "CRS84 (longitude, latitude) unless `crs` names EPSG:4326 or UTM zone 42N or "
                "43N. Public deposits without a key; a partner key "
                "(`Authorization: Token <key>`, or `api_key=<key>` for tools that cannot send "
                "headers) also shows partner records."
            ),
        },
        "externalDocs": {
            "description": "The guide to the service",
            "url": request.build_absolute_uri(reverse("guide", args=["ogc"])),
        },
        "servers": [{"url": base}],
        "tags": [{"name": "OGC API - Features"}],
        "paths": {
            "/": _get("getLandingPage", "Landing page", [], {"200": _ok("Links", JSON)}),
            "/conformance": _get(
                "getConformance",
                "The conformance classes met",
                [],
                {"200": _ok("conformsTo", JSON)},
            ),
            "/api": _get(
                "getServiceDescription", "This document", [], {"200": _ok("OpenAPI", OPENAPI)}
            ),
            "/collections": _get(
                "getCollections",
                "All deposits, and the deposits of each mineral",
                [],
                {"200": _ok("Collections", JSON)},
            ),
            "/collections/{collectionId}": _get(
                "describeCollection",
                "One collection with its extent",
                [collection],
                {"200": _ok("Collection", JSON), **not_found},
            ),
            "/collections/{collectionId}/queryables": _get(
                "getQueryables",
                "The properties the items can be filtered by",
                [collection],
                {"200": _ok("JSON Schema", SCHEMA), **not_found},
            ),
            "/collections/{collectionId}/sortables": _get(
                "getSortables",
                "The properties the items can be sorted by (sortby)",
                [collection],
                {"200": _ok("JSON Schema", SCHEMA), **not_found},
            ),
            "/collections/{collectionId}/items": _get(
                "getFeatures",
                "The deposits as a GeoJSON FeatureCollection, a page at a time",
                [
                    collection,
                    _ref("limit"),
                    _ref("offset"),
                    _ref("cursor"),
                    _ref("bbox"),
                    _ref("bbox-crs"),
                    _ref("crs"),
                    _ref("datetime"),
                    _ref("as_of"),
                    _ref("mineral"),
                    _ref("region"),
                    _ref("status"),
                    _ref("critical"),
                    *(_ref(name) for name in FILTER_PARAMETERS),
                    _ref("filter"),
                    _ref("filter-lang"),
                    _ref("filter-crs"),
                    _ref("sortby"),
                    _ref("properties"),
                ],
                {"200": _ok("FeatureCollection", GEOJSON), **not_found},
            ),
            "/collections/{collectionId}/items/{featureId}": _get(
                "getFeature",
                "One deposit as a GeoJSON Feature",
                [collection, _ref("featureId"), _ref("crs"), _ref("as_of")],
                {"200": _ok("Feature", GEOJSON), **not_found},
            ),
        },
        "components": {
            "parameters": {
                "collectionId": _path_parameter(
                    "collectionId", "`deposits`, or `deposits-<mineral code>`."
                ),
                "featureId": _path_parameter(
                    "featureId", "The deposit's stable identifier, e.g. TJD-000017."
                ),
                "f": _parameter(
                    "f",
                    "The encoding: JSON (GeoJSON for features), or html for a page. Without "
                    "it, an Accept header preferring text/html to JSON (a browser's) gets the "
                    "page, any other the JSON.",
                    _enum("json", "geojson", "html"),
                ),
                "api_key": _parameter(
                    "api_key",
                    "A partner key, for tools that cannot send `Authorization: Token <key>`. "
                    "Prefer the header: web servers log query strings.",
                    {"type": "string"},
                ),
                "limit": _parameter(
                    "limit",
                    f"Features per page: {LIMIT_DEFAULT} by default; larger values than "
                    f"{LIMIT_MAX} are clamped to {LIMIT_MAX}.",
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": LIMIT_MAX,
                        "default": LIMIT_DEFAULT,
                    },
                ),
                "offset": _parameter(
                    "offset",
                    "Features to skip; follow the `next` link rather than counting.",
                    {"type": "integer", "minimum": 0, "default": 0},
                ),
                "cursor": _parameter(
                    "cursor",
                    "Where the page starts, as the `next` and `prev` links give it (opaque); "
                    "empty for the first page. Not with `offset`.",
                    {"type": "string"},
                ),
                "bbox": _parameter(
                    "bbox",
                    "minLon,minLat,maxLon,maxLat in CRS84 (longitude first), or in the CRS "
                    "named by `bbox-crs`, in that CRS's axis order; deposits without "
                    "coordinates never match.",
                    {
                        "type": "array",
                        "minItems": 4,
                        "maxItems": 6,
                        "items": {"type": "number"},
                    },
                    style="form",
                    explode=False,
                ),
                "bbox-crs": _crs_parameter(
                    "bbox-crs",
                    "The CRS of `bbox` (CRS84 by default). EPSG:4326 is latitude first; the UTM "
                    "zones are easting,northing in metres, and select the deposits inside the "
                    "projected box.",
                ),
                "crs": _crs_parameter(
                    "crs",
                    "The CRS of the coordinates served (CRS84 by default), in its axis order: "
                    "EPSG:4326 latitude first, the UTM zones 42N and 43N easting,northing in "
                    "metres to the centimetre. The answer's Content-Crs header names it.",
                ),
                "datetime": _parameter(
                    "datetime",
                    "The record's last change: an instant (2025-01-31T12:00:00Z), a date (its "
                    "whole UTC day) or an interval start/end with `..` for an open end.",
                    {"type": "string"},
                ),
                "as_of": _parameter(
                    "as_of",
                    "The day the shares are as of (YYYY-MM-DD, from 1900-01-01 to today; "
                    "today by default), from the reserve estimates in force on it; each "
                    "feature states it in its `as_of` property.",
                    {"type": "string", "format": "date"},
                ),
                "mineral": _list_parameter("mineral", "Mineral code(s), main or associated."),
                "region": _list_parameter("region", "ISO 3166-2 region code(s), e.g. TJ-SU."),
                "status": _list_parameter("status", "Status(es).", _enum(*Deposit.Status.values)),
                "critical": _parameter(
                    "critical",
                    "Has a critical mineral (true) or none (false).",
                    {"type": "boolean"},
                ),
                **{
                    name: _parameter(
                        name,
                        f"The features whose {name} equals this value (the filter "
                        f"`{name} = '<value>'`; a time: a date for its whole UTC day, or an "
                        "instant with its time zone).",
                        {"type": "string"},
                    )
                    for name in FILTER_PARAMETERS
                },
                "filter": _parameter(
                    "filter",
                    "A CQL2 condition on the queryables (`/collections/{collectionId}/"
                    "queryables`), in `filter-lang`: comparisons, LIKE, IN, BETWEEN, IS NULL, "
                    "AND/OR/NOT, CASEI, S_INTERSECTS/S_WITHIN with a BBOX, POINT or POLYGON "
                    "in `filter-crs`; e.g. `region = 'TJ-SU' AND mineral IN ('gold', 'silver')`. "
                    f"At most {cql2.MAX_LENGTH} characters.",
                    {"type": "string", "maxLength": cql2.MAX_LENGTH},
                ),
                "filter-lang": _parameter(
                    "filter-lang",
                    "The language of `filter`: cql2-text (the default) or cql2-json.",
                    {**_enum(*cql2.LANGUAGES), "default": cql2.TEXT_LANGUAGE},
                ),
                "filter-crs": _crs_parameter(
                    "filter-crs",
                    "The CRS of the coordinates in `filter` (CRS84 by default), in its axis "
                    "order: EPSG:4326 latitude first, the UTM zones easting,northing in metres. "
                    "A geometry in another CRS than CRS84 selects the deposits whose "
                    "coordinates as served in that CRS lie in it.",
                ),
                "sortby": _parameter(
                    "sortby",
                    "The features' order: properties separated by commas, each ascending "
                    "(or with `+`) or descending with `-`, e.g. `region,-updated_at`; ties "
                    "are ordered by a fixed key, so pages never overlap.",
                    {
                        "type": "array",
                        "items": {"type": "string", "pattern": _sortby_pattern()},
                    },
                    style="form",
                    explode=False,
                ),
                "properties": _parameter(
                    "properties",
                    "The properties each feature carries, separated by commas (the id and "
                    "the geometry always come); all without it.",
                    {"type": "array", "items": {"type": "string"}},
                    style="form",
                    explode=False,
                ),
            },
            "schemas": {
                "exception": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {
                        "code": {"type": "string"},
                        "description": {"type": "string"},
                        "parameters": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                }
            },
            "responses": {
                "BadRequest": _error("An unknown parameter or a bad value (named)."),
                "Unauthorized": _error("An invalid, revoked or expired key."),
                "NotFound": _error("No such collection or feature, or one hidden from the caller."),
                "TooManyRequests": _error("Too many requests for this key or address."),
            },
        },
    }


def _sortby_pattern() -> str:
    return f"^[+-]?({'|'.join(SORTABLES)})$"


def _enum(*values: str) -> dict:
    return {"type": "string", "enum": list(values)}


def _crs_parameter(name: str, description: str) -> dict:
    """`crs`, `bbox-crs` or `filter-crs`: one of the CRSs the service supports (CRS84 by
    default)."""
    return _parameter(
        name,
        description,
        {**_enum(*URIS), "format": "uri", "default": CRS84},
        style="form",
        explode=False,
    )


def _list_parameter(name: str, description: str, items: dict | None = None) -> dict:
    return _parameter(
        name,
        f"{description} Several, separated by commas or repeated, mean any of them.",
        {"type": "array", "items": items or {"type": "string"}},
        style="form",
        explode=False,
    )


def operations(document: dict) -> tuple[list[dict], list[dict]]:
    """The operations of an OpenAPI document for its page: the parameters every operation
    takes, then each operation with the others (`path`, `url` when it has no path
    parameter, `summary`, `parameters`), references resolved."""
    components = document["components"]["parameters"]

    def resolved(parameter: dict) -> dict:
        if "$ref" in parameter:
            return components[parameter["$ref"].rsplit("/", 1)[1]]
        return parameter

    gets = {path: item["get"] for path, item in document["paths"].items()}
    every = [
        p
        for p in next(iter(gets.values()))["parameters"]
        if all(p in get["parameters"] for get in gets.values())
    ]
    server = document["servers"][0]["url"]
    return [resolved(p) for p in every], [
        {
            "path": path,
            "url": None if "{" in path else server + path,
            "summary": get["summary"],
            "parameters": [resolved(p) for p in get["parameters"] if p not in every],
        }
        for path, get in gets.items()
    ]
