"""The query parameters of the OGC service: parsed, checked, and applied to deposits.

Unlike the REST API, OGC API - Features requires an unknown parameter to be an error
(a client that sends `sortby` or `filter` must learn that nothing was sorted or
filtered). The queryables are `DepositFilterSet`'s own filters, so `mineral=silver`
selects here exactly what it selects in the API, the pages and the exports.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from deposits.filters import DepositFilterSet
from deposits.ogc.crs import STORAGE, Crs, box_in, requested_crs
from deposits.ogc.documents import GEOJSON, HTML, JSON
from kernel.parameters import InstantField, as_of, read, whole_number

LIMIT_DEFAULT = 100
LIMIT_MAX = 10_000

# Accepted by every endpoint: the encoding and the key for GIS tools that cannot send an
# Authorization header.
COMMON_PARAMETERS = frozenset({"f", "api_key"})
FORMATS = frozenset({"json", "geojson", "html"})
QUERYABLES = ("mineral", "region", "status", "critical")
ITEMS_PARAMETERS = COMMON_PARAMETERS | {
    "limit",
    "offset",
    "bbox",
    "datetime",
    "as_of",
    "crs",
    "bbox-crs",
    *QUERYABLES,
}
ITEM_PARAMETERS = COMMON_PARAMETERS | {"as_of", "crs"}
# Parameters of the items request that may be repeated (OR, as in DepositFilterSet).
REPEATABLE = frozenset({"mineral", "region", "status"})

OPEN = ("", "..")
# The features' order when the request names none: by name, the key breaking ties.
DEFAULT_ORDERING = ("name", "pk")


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

    def deposits(self):
        """The matching deposits (the filtered ones, narrowed by `datetime`), in order."""
        return self.filtered.filter(**self.datetime).order_by(*self.ordering)


def items_query(params: QueryDict, queryset, request) -> ItemsQuery:
    """The items request's paging and filters, or a 400 naming each bad parameter."""
    check_parameters(params, ITEMS_PARAMETERS)
    limit = min(whole_number(params, "limit", LIMIT_DEFAULT), LIMIT_MAX)
    offset = whole_number(params, "offset", 0, minimum=0)
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
    )
