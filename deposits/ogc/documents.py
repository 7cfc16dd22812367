"""The documents of the OGC service: landing page, conformance, collections, features, queryables.

Features carry flat properties (text, numbers, booleans; no nested lists) because a
GIS attribute table shows one column per property: a deposit's minerals and reserve
shares are joined into text columns, and its main mineral's share is a number a map
can be styled by.
"""

import datetime
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Max, Min
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from deposits.models import (
    LATITUDE_RANGE,
    LONGITUDE_RANGE,
    Deposit,
    DepositCommodity,
    Mineral,
    Region,
)
from deposits.ogc.crs import CONFORMANCE_CRS, CRS84, URIS
from deposits.shares import share_text
from kernel.exports import point
from kernel.links import url_maker

GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
REL_SORTABLES = "http://www.opengis.net/def/rel/ogc/1.0/sortables"

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"
HTML = "text/html"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    CONFORMANCE_CRS,
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    # `filter` in CQL2 (deposits.ogc.cql2)
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    # `sortby` (deposits.ogc.query.SORTABLES)
    "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting",
]

ALL_DEPOSITS = "deposits"
MINERAL_PREFIX = "deposits-"


class Links:
    """Absolute links for one request, in the encoding it is answered in.

    They carry `api_key` only when the caller authenticated with it (GDAL and QGIS
    follow `next` links as given, and must stay authenticated); a key sent in the
    Authorization header never appears in a document.

    A document answered as HTML (`html`) is the same document: its links to the service's
    other resources are typed `text/html` and carry `f=html`, so a reader who asked with
    `f=html` stays on pages; links to JSON name `f=json`. Every document links itself in
    the other encoding as `alternate`.
    """

    def __init__(self, request, html: bool = False):
        self.request = request
        self.html = html
        self.carried = []
        if getattr(request, "api_key_in_query", False):
            self.carried = [("api_key", request.query_params["api_key"])]
        self._deposit_path = url_maker("deposit-detail")

    def typed(self, media_type: str) -> str:
        """The media type of a link to another resource of the service, as this answer's
        reader will get it."""
        return HTML if self.html else media_type

    def page(self, public_id: str) -> str:
        """The deposit's page (for people, so no key is carried)."""
        return self.request.build_absolute_uri(self._deposit_path(public_id))

    def href(self, name: str, *args, query=()) -> str:
        url = self.request.build_absolute_uri(reverse(name, args=args))
        params = [*query, *self.carried]
        return f"{url}?{urlencode(params)}" if params else url

    def link(self, rel: str, name: str, *args, type: str, title: str, query=()) -> dict:
        if self.html and not any(key == "f" for key, _value in query):
            query = [*query, ("f", "html" if type == HTML else "json")]
        return {
            "rel": rel,
            "type": type,
            "title": title,
            "href": self.href(name, *args, query=query),
        }

    def encodings(self, name: str, *args, type: str, title: str, query=()) -> list[dict]:
        """`self` in the encoding answered and `alternate` in the other (`type` is the JSON
        one); `query` is the request's own parameters, kept in both but for `f`."""
        others = [(key, value) for key, value in query if key != "f"]
        if self.html:
            own = self.link("self", name, *args, type=HTML, title=title, query=query)
            other_type, other_title, other_f = type, _("This document as JSON"), "json"
        else:
            own = self.link("self", name, *args, type=type, title=title, query=query)
            other_type, other_title, other_f = HTML, _("This document as HTML"), "html"
        alternate = self.link(
            "alternate",
            name,
            *args,
            type=other_type,
            title=other_title,
            query=[*others, ("f", other_f)],
        )
        return [own, alternate]


def landing_page(links: Links) -> dict:
    return {
        "title": _("Tajikistan Mineral Deposit Registry"),
        "description": _(
            "The national registry of Tajikistan's mineral deposits as an OGC API - "
            "Features service."
        ),
        "links": [
            *links.encodings("ogc-landing", type=JSON, title=_("This document")),
            links.link("service-desc", "ogc-openapi", type=OPENAPI, title=_("OpenAPI 3.0")),
            links.link(
                "service-doc",
                "ogc-openapi",
                type=HTML,
                title=_("The service's operations and parameters"),
                query=[("f", "html")],
            ),
            {
                "rel": "service-doc",
                "type": HTML,
                "title": _("Guide to the service"),
                "href": links.request.build_absolute_uri(reverse("guide", args=["ogc"])),
            },
            links.link(
                "conformance", "ogc-conformance", type=links.typed(JSON), title=_("Conformance")
            ),
            links.link("data", "ogc-collections", type=links.typed(JSON), title=_("Collections")),
        ],
    }


def conformance(links: Links) -> dict:
    return {
        "links": links.encodings("ogc-conformance", type=JSON, title=_("This document")),
        "conformsTo": CONFORMANCE,
    }


@dataclass(frozen=True)
class Collection:
    """All deposits, or the deposits of one mineral (main or associated)."""

    id: str
    title: str
    description: str
    mineral: Mineral | None = None

    def deposits(self, caller):
        deposits = Deposit.objects.visible_to(caller)
        if self.mineral is not None:
            with_mineral = DepositCommodity.objects.filter(mineral=self.mineral)
            deposits = deposits.filter(pk__in=with_mineral.values("deposit_id"))
        return deposits


def all_deposits() -> Collection:
    return Collection(
        id=ALL_DEPOSITS,
        title=_("Mineral deposits of Tajikistan"),
        description=_(
            "Deposits and occurrences with their minerals, region, status and share of "
            "the national reserves. Deposits without coordinates have a null geometry."
        ),
    )


def mineral_collection(mineral: Mineral) -> Collection:
    return Collection(
        id=f"{MINERAL_PREFIX}{mineral.code}",
        title=_("%(mineral)s deposits of Tajikistan") % {"mineral": mineral.name},
        description=_(
            "Deposits with %(mineral)s as a main or associated mineral; share_pct is their "
            "share of the national %(mineral)s reserves."
        )
        % {"mineral": mineral.name},
        mineral=mineral,
    )


def find_collection(collection_id: str) -> Collection | None:
    if collection_id == ALL_DEPOSITS:
        return all_deposits()
    if collection_id.startswith(MINERAL_PREFIX):
        code = collection_id.removeprefix(MINERAL_PREFIX)
        mineral = Mineral.objects.filter(code=code).first()
        if mineral is not None:
            return mineral_collection(mineral)
    return None


def extent_aggregates(prefix: str = "") -> dict:
    """Aggregates of a deposit queryset (or, with prefix `deposit__`, of one related to it)."""
    return {
        "min_lon": Min(f"{prefix}longitude"),
        "min_lat": Min(f"{prefix}latitude"),
        "max_lon": Max(f"{prefix}longitude"),
        "max_lat": Max(f"{prefix}latitude"),
        "first_change": Min(f"{prefix}updated_at"),
        "last_change": Max(f"{prefix}updated_at"),
    }


def _iso(moment: datetime.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def extent(aggregate: dict) -> dict:
    """The bounding box of the located deposits (Tajikistan's when none is located) and
    the span of their last changes."""
    if aggregate["min_lon"] is None:
        bbox = [LONGITUDE_RANGE[0], LATITUDE_RANGE[0], LONGITUDE_RANGE[1], LATITUDE_RANGE[1]]
    else:
        bbox = [aggregate[k] for k in ("min_lon", "min_lat", "max_lon", "max_lat")]
    return {
        "spatial": {"bbox": [[float(v) for v in bbox]], "crs": CRS84},
        "temporal": {
            "interval": [[_iso(aggregate["first_change"]), _iso(aggregate["last_change"])]],
            "trs": GREGORIAN,
        },
    }


def collection_extent(collection: Collection, caller) -> dict:
    return extent(collection.deposits(caller).aggregate(**extent_aggregates()))


def collection_document(collection: Collection, extent_: dict, links: Links) -> dict:
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "crs": list(URIS),
        "storageCrs": CRS84,
        "extent": extent_,
        "links": [
            *links.encodings("ogc-collection", collection.id, type=JSON, title=collection.title),
            links.link(
                "items",
                "ogc-items",
                collection.id,
                type=GEOJSON,
                title=_("The deposits as GeoJSON"),
            ),
            links.link(
                "items",
                "ogc-items",
                collection.id,
                type=HTML,
                title=_("The deposits as a page"),
                query=[("f", "html")],
            ),
            links.link(
                REL_QUERYABLES,
                "ogc-queryables",
                collection.id,
                type=links.typed(SCHEMA),
                title=_("Properties to filter by"),
            ),
            links.link(
                REL_SORTABLES,
                "ogc-sortables",
                collection.id,
                type=links.typed(SCHEMA),
                title=_("Properties to sort by"),
            ),
        ],
    }


def collections_document(caller, links: Links) -> dict:
    """All deposits, then one collection per mineral that has deposits the caller may see
    (two aggregate queries and one for the minerals, however many minerals there are)."""
    everything = all_deposits()
    documents = [collection_document(everything, collection_extent(everything, caller), links)]
    per_mineral = (
        DepositCommodity.objects.visible_to(caller)
        .values("mineral_id")
        .annotate(**extent_aggregates("deposit__"))
        .order_by()
    )
    extents = {row["mineral_id"]: extent(row) for row in per_mineral}
    for mineral in Mineral.objects.filter(pk__in=extents).order_by("code"):
        documents.append(
            collection_document(mineral_collection(mineral), extents[mineral.pk], links)
        )
    return {
        "links": links.encodings("ogc-collections", type=JSON, title=_("This document")),
        "collections": documents,
    }


NO_SHARE = (None, None, None, None)


def _codes(commodities) -> str:
    return ", ".join(c["mineral__code"] for c in commodities)


def _share(commodity) -> tuple:
    """A share as a number a map can be styled by, its basis, its scope and its bound."""
    pct = commodity["share_pct"]
    return (
        (None if pct is None else float(pct)),
        commodity["share_basis"],
        commodity["share_scope"],
        commodity["share_bound"],
    )


# The names of a feature's properties, in their order (a `deposits-<mineral>` collection's
# features also carry the share_ ones), for `properties=`.
PROPERTIES = (
    *("name", "name_ru", "name_tg", "aliases", "region", "region_name", "district", "status"),
    *("deposit_type", "belt", "exploration_level", "minerals", "main_minerals"),
    *("associated_minerals", "critical", "main_mineral", "main_share_pct", "main_share_basis"),
    *("main_share_scope", "main_share_bound", "reserve_shares", "share_pct", "share_basis"),
    *("share_scope", "share_bound", "as_of", "visibility", "sources", "description", "url"),
    *("created_at", "updated_at"),
)


def feature(
    deposit: dict,
    collection: Collection,
    links: Links,
    as_of: datetime.date,
    kept: tuple[str, ...] | None = None,
) -> dict:
    """A deposit row (`deposits.querysets.deposit_rows`) as a GeoJSON Feature in CRS84
    (null geometry without coordinates); `as_of` is the day its shares are as of. With
    `kept`, it carries only those of its properties (`properties=`)."""
    commodities = deposit["commodities"]
    main = [c for c in commodities if c["role"] == DepositCommodity.Role.MAIN]
    associated = [c for c in commodities if c["role"] == DepositCommodity.Role.ASSOCIATED]
    main_share, main_basis, main_scope, main_bound = _share(main[0]) if main else NO_SHARE
    properties = {
        "name": deposit["name"],
        "name_ru": deposit["name_ru"],
        "name_tg": deposit["name_tg"],
        "aliases": "; ".join(deposit["aliases"]),
        "region": deposit["region__code"],
        "region_name": deposit["region__name"],
        "district": deposit["district__name"],
        "status": deposit["status"] or None,
        "deposit_type": deposit["deposit_type"] or None,
        "belt": deposit["belt__name"],
        "exploration_level": deposit["exploration_level"] or None,
        "minerals": _codes(commodities),
        "main_minerals": _codes(main),
        "associated_minerals": _codes(associated),
        "critical": any(c["mineral__is_critical"] for c in commodities),
        "main_mineral": main[0]["mineral__code"] if main else None,
        "main_share_pct": main_share,
        "main_share_basis": main_basis,
        "main_share_scope": main_scope,
        "main_share_bound": main_bound,
        "reserve_shares": "; ".join(
            share_text(c["mineral__code"], c) for c in commodities if c["share_pct"] is not None
        ),
    }
    if collection.mineral is not None:
        own = next((c for c in commodities if c["mineral_id"] == collection.mineral.pk), None)
        share_pct, share_basis, share_scope, share_bound = _share(own) if own else NO_SHARE
        properties["share_pct"] = share_pct
        properties["share_basis"] = share_basis
        properties["share_scope"] = share_scope
        properties["share_bound"] = share_bound
    properties.update(
        {
            "as_of": as_of.isoformat(),  # the day the shares are as of
            "visibility": deposit["visibility"],
            "sources": "; ".join(deposit["sources"]),
            "description": deposit["description"],
            "url": links.page(deposit["public_id"]),
            "created_at": _iso(deposit["created_at"]),
            "updated_at": _iso(deposit["updated_at"]),
        }
    )
    if kept is not None:
        properties = {name: properties[name] for name in kept if name in properties}
    return {
        "type": "Feature",
        "id": deposit["public_id"],
        "geometry": point(deposit["longitude"], deposit["latitude"]),
        "properties": properties,
    }


def feature_document(
    deposit: dict, collection: Collection, links: Links, as_of: datetime.date
) -> dict:
    document = feature(deposit, collection, links, as_of)
    document["links"] = [
        *links.encodings(
            "ogc-item",
            collection.id,
            deposit["public_id"],
            type=GEOJSON,
            title=_("This feature"),
            query=_asked(links, ("as_of", "crs")),
        ),
        {
            "rel": "alternate",
            "type": HTML,
            "title": _("The deposit's page"),
            "href": document["properties"]["url"],
        },
        collection_link(links, collection),
    ]
    return document


def _asked(links: Links, names) -> list[tuple[str, str]]:
    """The request's own values of the parameters `names`, to keep in a link to itself."""
    params = links.request.query_params
    return [(name, value) for name in names for value in params.getlist(name)]


def page_links(links: Links, collection: Collection, query, page) -> list:
    """self, next and prev of an items page (`deposits.ogc.paging.Page`); next and prev
    keep every other parameter of the request, with a `cursor` (or `offset`) of their own."""
    params = links.request.query_params
    kept = [
        (name, value)
        for name in params
        if name not in ("limit", "offset", "cursor", "api_key")
        for value in params.getlist(name)
    ]

    def paging(at: tuple) -> list:
        return [*kept, ("limit", query.limit), at]

    def other(rel: str, at: tuple, title: str) -> dict:
        type = links.typed(GEOJSON)
        return links.link(rel, "ogc-items", collection.id, type=type, title=title, query=paging(at))

    result = links.encodings(
        "ogc-items", collection.id, type=GEOJSON, title=_("This page"), query=paging(page.at)
    )
    if page.next is not None:
        result.append(other("next", page.next, _("Next page")))
    if page.prev is not None:
        result.append(other("prev", page.prev, _("Previous page")))
    result.append(collection_link(links, collection))
    return result


def collection_link(links: Links, collection: Collection) -> dict:
    """The link from a feature or an items page up to its collection."""
    return links.link(
        "collection",
        "ogc-collection",
        collection.id,
        type=links.typed(JSON),
        title=collection.title,
    )


def feature_collection(features: list, links: list, matched: int) -> dict:
    return {
        "type": "FeatureCollection",
        "features": features,
        "links": links,
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": _iso(timezone.now()),
    }


def json_text(document: dict) -> str:
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False)


def _properties_document(collection: Collection, links: Links, route: str, properties) -> dict:
    """A JSON Schema of some of a collection's properties (queryables, sortables)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": links.request.build_absolute_uri(reverse(route, args=[collection.id])),
        "type": "object",
        "title": collection.title,
        "links": links.encodings(route, collection.id, type=SCHEMA, title=_("This document")),
        "properties": properties,
        "additionalProperties": False,
    }


def _queryable_properties() -> dict:
    """Each queryable's schema: its title, type, and values where they are a fixed list."""
    text = {"type": "string"}
    instant = {"type": "string", "format": "date-time"}
    return {
        "name": {"title": _("Name"), **text},
        "region": {
            "title": _("Region"),
            "description": _("ISO 3166-2 code of the region."),
            **text,
            "enum": list(Region.objects.order_by("code").values_list("code", flat=True)),
        },
        "district": {"title": _("District"), **text},
        "status": {
            "title": _("Status"),
            **text,
            "enum": list(Deposit.Status.values),
        },
        "deposit_type": {"title": _("Deposit type"), **text},
        "mineral": {
            "title": _("Mineral"),
            "description": _(
                "A mineral of the deposit, main or associated, by code; "
                "several separated by commas mean any of them."
            ),
            **text,
            "enum": list(Mineral.objects.order_by("code").values_list("code", flat=True)),
        },
        "critical": {
            "title": _("Critical mineral"),
            "description": _("Whether the deposit has a critical mineral."),
            "type": "boolean",
        },
        "created_at": {"title": _("Created"), **instant},
        "updated_at": {"title": _("Last changed"), **instant},
        "geometry": {
            "title": _("Location"),
            "description": _("The deposit's point in CRS84; null without coordinates."),
            "format": "geometry-point",
        },
    }


def queryables(collection: Collection, links: Links) -> dict:
    """The Part 3 queryables: the properties a CQL2 `filter` names (deposits.ogc.cql2),
    each also a query parameter of the items but `geometry`, whose parameter is `bbox`."""
    return _properties_document(collection, links, "ogc-queryables", _queryable_properties())


def sortables(collection: Collection, links: Links, names) -> dict:
    """The Part 8 sortables: the queryables the items can be sorted by (`sortby`), each
    described as the queryables describe it."""
    described = _queryable_properties()
    properties = {name: described[name] for name in names}
    return _properties_document(collection, links, "ogc-sortables", properties)
