"""The query parameters of the OGC service: parsed, checked, and applied to deposits.

Unlike the REST API, OGC API - Features requires an unknown parameter to be an error
(a client must learn that nothing was done with it). The queryables `mineral`, `region`,
`status` and `critical` are `DepositFilterSet`'s own filters, so `mineral=silver` selects
here exactly what it selects in the API, the pages and the exports; a CQL2 `filter` and the
other queryables go through `cql2`, which states the same rules as ORM conditions.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from deposits.filters import DepositFilterSet
from deposits.ogc import cql2
from deposits.ogc.crs import STORAGE, Crs, box_in, requested_crs
from deposits.ogc.documents import GEOJSON, HTML, JSON, PROPERTIES
from kernel.parameters import InstantField, as_of, read, whole_number

LIMIT_DEFAULT = 100
LIMIT_MAX = 10_000

# Accepted by every endpoint: the encoding and the key for GIS tools that cannot send an
# Authorization header.
COMMON_PARAMETERS = frozenset({"f", "api_key"})
FORMATS = frozenset({"json", "geojson", "html"})
QUERYABLES = ("mineral", "region", "status", "critical")
# The other queryables as parameters, one value each: `name=Pakrut` is the filter
# `name = 'Pakrut'` (names may hold commas). The geometry's parameter is `bbox`.
FILTER_PARAMETERS = tuple(
    name for name in cql2.QUERYABLES if name not in QUERYABLES and name != "geometry"
)
ITEMS_PARAMETERS = COMMON_PARAMETERS | {
    "limit",
    "offset",
    "cursor",
    "bbox",
    "datetime",
    "as_of",
    "crs",
    "bbox-crs",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "properties",
    *QUERYABLES,
    *FILTER_PARAMETERS,
}
ITEM_PARAMETERS = COMMON_PARAMETERS | {"as_of", "crs"}
# Parameters of the items request that may be repeated (OR, as in DepositFilterSet).
REPEATABLE = frozenset({"mineral", "region", "status"})

OPEN = ("", "..")
# The features' order when the request names none: by name, the key breaking ties.
DEFAULT_ORDERING = ("name", "pk")
# `sortby` keys: the properties the features can be sorted by, and their order_by terms.
SORTABLES = {
    "name": "name",
    "region": "region__code",
    "district": "district__name",
    "status": "status",
    "deposit_type": "deposit_type",
    "created_at": "created_at",
    "updated_at": "updated_at",
}


def check_parameters(params: QueryDict, allowed: Iterable[str]) -> None:
    """A 400 naming every parameter the endpoint does not know or that is given twice."""
    allowed = frozenset(allowed)
    errors = {}
    for name in params:
        if name not in allowed:
            errors[name] = [
                _("Unknown parameter; this endpoint accepts: %s.") % ", ".join(sorted(allowed))
            ]
        elif name not in REPEATABLE and len(params.getlist(name)) > 1:
            errors[name] = [_("Give this parameter once.")]
    if "f" in params and "f" not in errors and params["f"] not in FORMATS:
        errors["f"] = [
            _("Unknown format %(format)r; give json (GeoJSON for features) or html.")
            % {"format": params["f"]}
        ]
    if errors:
        raise ValidationError(errors)


def answers_html(request, json_type: str) -> bool:
    """Whether a request is answered as a page: `f=html`, or without a good `f` an Accept
    header that prefers text/html to JSON (a browser's). GIS tools ask for JSON, or send
    `*/*`, and get JSON, as does a client that names both equally. A bad `f` is refused by
    the parameter check, in the encoding the Accept header asks for."""
    asked = request.GET.get("f")
    if asked in FORMATS:
        return asked == "html"
    return request.get_preferred_type([json_type, JSON, GEOJSON, HTML]) == HTML


def _instant(text: str, upper: bool) -> datetime.datetime:
    """One end of a datetime interval (RFC 3339). A date stands for its whole UTC day, so
    as an upper bound it is the last microsecond of that day."""
    return read({"datetime": text}, "datetime", InstantField(end_of_day=upper, rfc3339=True))


def datetime_lookups(raw: str) -> dict:
    """`datetime` (an instant, a date or an interval `start/end`, `..` or nothing for an
    open end) as lookups on the record's last change, `updated_at`."""
    if "/" not in raw:
        start, end = _instant(raw, upper=False), _instant(raw, upper=True)
        if start == end:
            return {"updated_at": start}
        return {"updated_at__gte": start, "updated_at__lte": end}
    start_text, end_text = raw.split("/", 1)
    if "/" in end_text:
        raise ValidationError({"datetime": [_("Give an instant or one interval start/end.")]})
    lookups = {}
    if start_text not in OPEN:
        lookups["updated_at__gte"] = _instant(start_text, upper=False)
    if end_text not in OPEN:
        lookups["updated_at__lte"] = _instant(end_text, upper=True)
    if len(lookups) == 2 and lookups["updated_at__gte"] > lookups["updated_at__lte"]:
        raise ValidationError({"datetime": [_("The interval ends before it starts.")]})
    return lookups


def _bbox(raw: str) -> str:
    """Four numbers as DepositFilterSet's bbox takes them; of six (3D), the heights are dropped."""
    parts = raw.split(",")
    if len(parts) == 6:
        parts = [parts[0], parts[1], parts[3], parts[4]]
    return ",".join(parts)


@dataclass(frozen=True)
class ItemsQuery:
    limit: int
    offset: int
    filtered: QuerySet  # the collection's deposits through DepositFilterSet
    datetime: dict
    as_of: datetime.date  # the day the features' shares are as of
    ordering: tuple[str, ...] = DEFAULT_ORDERING  # `order_by` terms, ending in a unique one
    crs: Crs = STORAGE  # the CRS the features are served in (`crs`)
    condition: Q = cql2.EVERYTHING  # the CQL2 `filter` and the queryables given as parameters
    properties: tuple[str, ...] | None = None  # the properties the features carry; None: all
    cursor: str | None = None  # where the page starts (`deposits.ogc.paging`), as given

    def deposits(self):
        """The matching deposits (the filtered ones, narrowed by `datetime` and the CQL2
        filter), in order."""
        matching = self.filtered.filter(**self.datetime)
        if self.condition is not cql2.EVERYTHING:
            matching = matching.filter(self.condition)
        return matching.order_by(*self.ordering)


def items_query(params: QueryDict, queryset, request) -> ItemsQuery:
    """The items request's paging and filters, or a 400 naming each bad parameter."""
    check_parameters(params, ITEMS_PARAMETERS)
    limit = min(whole_number(params, "limit", LIMIT_DEFAULT), LIMIT_MAX)
    offset = whole_number(params, "offset", 0, minimum=0)
    cursor = params.get("cursor")
    if cursor is not None and "offset" in params:
        raise ValidationError({"cursor": [_("Give cursor or offset, not both.")]})
    lookups = datetime_lookups(params["datetime"]) if params.get("datetime") else {}
    day = as_of(params)
    served_crs = requested_crs(params, "crs")
    box_crs = requested_crs(params, "bbox-crs")
    box = None

    data = QueryDict(mutable=True)
    for name in REPEATABLE:
        # Repeated (`mineral=silver&mineral=gold`) or comma-separated, as OGC clients send lists.
        values = [v.strip() for raw in params.getlist(name) for v in raw.split(",")]
        if any(values):
            data.setlist(name, [v for v in values if v])
    if params.get("critical"):
        critical = params["critical"].lower()
        if critical not in ("true", "false"):
            raise ValidationError({"critical": [_("Give true or false.")]})
        data["critical"] = critical
    if params.get("bbox"):
        data["bbox"] = _bbox(params["bbox"])
        if box_crs is not STORAGE:
            box = box_in(data["bbox"], box_crs)
            data["bbox"] = box.envelope
    filtered = queryset
    # Without filters the filterset would return the queryset as it is; building it costs
    # more than the rest of a page's Python.
    if data:
        filterset = DepositFilterSet(data, queryset=queryset, request=request)
        if not filterset.is_valid():
            raise ValidationError({name: list(errors) for name, errors in filterset.errors.items()})
        filtered = filterset.qs
    if box is not None:
        filtered = box.refine(filtered)
    return ItemsQuery(
        limit=limit,
        offset=offset,
        filtered=filtered,
        datetime=lookups,
        as_of=day,
        crs=served_crs,
        ordering=sort_ordering(params.get("sortby", "")),
        condition=filter_condition(params, queryset),
        properties=asked_properties(params.get("properties")),
        cursor=cursor,
    )


def filter_condition(params: QueryDict, deposits: QuerySet) -> Q:
    """The CQL2 `filter` (in `filter-lang`, CQL2 text by default) and the queryables given
    as parameters (`name=Pakrut`), as one condition; a 400 names the parameter at fault."""
    language = params.get("filter-lang") or cql2.TEXT_LANGUAGE
    if language not in cql2.LANGUAGES:
        raise ValidationError({"filter-lang": [_("Give %s.") % " or ".join(cql2.LANGUAGES)]})
    conditions = []
    for name in FILTER_PARAMETERS:
        if params.get(name, "").strip():
            equal = cql2.ast.Equal(cql2.ast.Attribute(name), params[name].strip())
            try:
                conditions.append(cql2.condition(equal, cql2.Space(deposits)))
            except cql2.FilterError as error:
                raise ValidationError({name: [str(error)]}) from None
    space = cql2.Space(deposits, requested_crs(params, "filter-crs"))
    if params.get("filter"):
        try:
            conditions.append(cql2.condition(cql2.parse(params["filter"], language), space))
        except cql2.FilterError as error:
            raise ValidationError({"filter": [str(error)]}) from None
    else:
        for given in ("filter-lang", "filter-crs"):
            if given in params:
                raise ValidationError({given: [_("Give it with a filter.")]})
    if not conditions:
        return cql2.EVERYTHING
    condition = conditions[0]
    for other in conditions[1:]:
        condition &= other
    return condition


def sort_ordering(raw: str) -> tuple[str, ...]:
    """`sortby` (`name,-updated_at`; `+` or nothing ascending, `-` descending) as
    `order_by` terms, the key last as the tie-breaker; without it, DEFAULT_ORDERING."""
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if not keys:
        return DEFAULT_ORDERING
    ordering = []
    for key in keys:
        descending = key.startswith("-")
        name = key.lstrip("+-")
        if name not in SORTABLES:
            raise ValidationError(
                {
                    "sortby": [
                        _("Cannot sort by %(key)r; sort by: %(names)s.")
                        % {"key": name, "names": ", ".join(SORTABLES)}
                    ]
                }
            )
        ordering.append(f"-{SORTABLES[name]}" if descending else SORTABLES[name])
    return (*ordering, "pk")


def asked_properties(raw: str | None) -> tuple[str, ...] | None:
    """`properties` (a comma list) as the names the features keep, or None for all."""
    if raw is None:
        return None
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    unknown = [name for name in names if name not in PROPERTIES]
    if unknown:
        raise ValidationError(
            {
                "properties": [
                    _("Unknown properties: %(unknown)s; the features have: %(names)s.")
                    % {"unknown": ", ".join(unknown), "names": ", ".join(PROPERTIES)}
                ]
            }
        )
    return names
