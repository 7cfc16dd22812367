"""CQL2 filters of the items (OGC API - Features Part 3) as Django ORM conditions.

pygeofilter reads `filter` (CQL2 text or CQL2 JSON) into its syntax tree; `condition`
walks the tree and maps each queryable to its ORM lookup, so a filter is a `Q` on the
deposits and runs as the same queryset on SQLite and PostgreSQL. The view applies it to
the caller's visible deposits (`Collection.deposits(caller)`): a filter narrows what the
caller sees, and can neither widen it nor count what it hides.

CQL2 has SQL's three-valued logic: a comparison with a null property is neither true
nor false, and neither is its negation (`NOT status = 'producing'` leaves out deposits
without a status). Each node therefore compiles to two conditions, where it is true and
where it is false, and NOT swaps them.

Deposits are points (latitude, longitude): a box is four range lookups; a polygon is the
deposits within its bounding box whose point GEOS finds in it (`deposits.geo.located_in`,
the test the border checks use), as a condition on their keys. Those are looked for among
the deposits the caller may see (`Space.deposits`, the caller's query through the
visibility rule), never among all of them: a hidden deposit's point is not even read.
"""

import datetime
import json
import math
import operator
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce

import shapely.geometry
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from lark.exceptions import LarkError, UnexpectedInput
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_text import parse as parse_text

from deposits.geo import keys_in, located_in
from deposits.models import DepositCommodity
from deposits.ogc.crs import STORAGE, SUPPORTED, Crs, storage_envelope

TEXT_LANGUAGE = "cql2-text"
JSON_LANGUAGE = "cql2-json"
LANGUAGES = (TEXT_LANGUAGE, JSON_LANGUAGE)
MAX_LENGTH = 4000  # characters of `filter`: a polygon of a few hundred vertices
MAX_DEPTH = 20  # nested conditions (a chain of ANDs or of ORs is one level)
MAX_VERTICES = 500  # of a polygon

TEXT, BOOLEAN, INSTANT, GEOMETRY, MINERAL = "text", "boolean", "instant", "geometry", "mineral"


class FilterError(ValueError):
    """A filter that cannot be applied; its message is the reason, for a 400."""


@dataclass(frozen=True)
class Queryable:
    kind: str
    field: str = ""  # the ORM path compared (text and instants)
    blank_is_null: bool = False  # a blank text is null in the features (`"status": null`)


# The properties a filter may name, as the features carry them (documents.feature).
QUERYABLES = {
    "name": Queryable(TEXT, "name"),
    "region": Queryable(TEXT, "region__code"),
    "district": Queryable(TEXT, "district__name"),
    "status": Queryable(TEXT, "status", blank_is_null=True),
    "deposit_type": Queryable(TEXT, "deposit_type", blank_is_null=True),
    "mineral": Queryable(MINERAL),
    "critical": Queryable(BOOLEAN),
    "created_at": Queryable(INSTANT, "created_at"),
    "updated_at": Queryable(INSTANT, "updated_at"),
    "geometry": Queryable(GEOMETRY),
}

NOTHING = Q(pk__in=[])
EVERYTHING = ~NOTHING
LOCATED = Q(latitude__isnull=False, longitude__isnull=False)

# A condition as (where it is true, where it is false); elsewhere it is unknown.
Truth = tuple[Q, Q]

COMPARISONS = {
    ast.Equal: "=",
    ast.NotEqual: "<>",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}
FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
LOOKUPS = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
SPATIAL = (ast.GeometryIntersects, ast.GeometryWithin)
TEMPORAL = {ast.TimeBefore: "<", ast.TimeAfter: ">", ast.TimeEquals: "="}


def parse(text: str, language: str):
    """The syntax tree of a filter, or a FilterError saying why it cannot be read."""
    if len(text) > MAX_LENGTH:
        raise FilterError(
            _("A filter has at most %(max)d characters; this one has %(length)d.")
            % {"max": MAX_LENGTH, "length": len(text)}
        )
    try:
        if language == JSON_LANGUAGE:
            return parse_json(_final_json(json.loads(text)))
        return parse_text(text)
    except UnexpectedInput as error:
        position = getattr(error, "column", -1)
        if position is None or position < 0:
            raise FilterError(_("Not CQL2 text: the expression ends too soon.")) from None
        raise FilterError(
            _("Not CQL2 text: unexpected input at character %(position)d.") % {"position": position}
        ) from None
    except (LarkError, json.JSONDecodeError, RecursionError) as error:
        raise FilterError(
            _("Not %(language)s: %(reason)s")
            % {
                "language": language,
                "reason": str(error).splitlines()[0][:200],
            }
        ) from None
    except Exception:  # pygeofilter's reader of JSON raises whatever a bad document provokes
        raise FilterError(_('Not CQL2 JSON: give an object {"op": ..., "args": [...]}.')) from None


def _final_json(node):
    """CQL2 JSON as pygeofilter 0.4 reads it: its `between` takes [value, [low, high]]
    and its `bbox` swaps the axes, so the standard's forms are rewritten first."""
    if isinstance(node, list):
        return [_final_json(item) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"bbox"} and isinstance(node["bbox"], list):
        return {"function": {"name": "bbox", "arguments": node["bbox"]}}
    node = {key: _final_json(value) for key, value in node.items()}
    args = node.get("args")
    if node.get("op") == "between" and isinstance(args, list) and len(args) == 3:
        node["args"] = [args[0], [args[1], args[2]]]
    if node.get("op") == "like" and isinstance(args, list) and len(args) == 2:
        pattern = args[1]
        if isinstance(pattern, dict) and pattern.get("op") == "casei" and pattern.get("args"):
            node["args"] = [args[0], pattern["args"][0]]  # the casei of the property decides
    return node


@dataclass(frozen=True)
class Space:
    """What a filter's geometries are read against: the CRS they are given in
    (`filter-crs`), and the deposits the caller may see (a query through the visibility
    rule), among which those in a polygon are looked for."""

    deposits: QuerySet
    crs: Crs = STORAGE


def condition(node, space: Space) -> Q:
    """Where the filter is true, as a condition on `space.deposits`."""
    if not isinstance(node, ast.Node) or isinstance(node, ast.Expression):
        raise FilterError(_("The filter must be a condition, not a value."))
    return _truth(node, 0, space)[0]


def _truth(node, depth: int, space: Space) -> Truth:
    if depth > MAX_DEPTH:
        raise FilterError(_("Conditions are nested more than %(max)d deep.") % {"max": MAX_DEPTH})
    if isinstance(node, ast.And | ast.Or):
        parts = [_truth(part, depth + 1, space) for part in _chain(node)]
        trues, falses = [p[0] for p in parts], [p[1] for p in parts]
        if isinstance(node, ast.And):
            return reduce(operator.and_, trues), reduce(operator.or_, falses)
        return reduce(operator.or_, trues), reduce(operator.and_, falses)
    if isinstance(node, ast.Not):
        true, false = _truth(node.sub_node, depth + 1, space)
        return false, true
    if isinstance(node, ast.Comparison) and type(node) in COMPARISONS:
        return _comparison(node.lhs, COMPARISONS[type(node)], node.rhs)
    if isinstance(node, ast.Like):
        return _negated(_like(node), node.not_)
    if isinstance(node, ast.In):
        if not node.sub_nodes:
            raise FilterError(_("IN needs at least one value."))
        parts = [_comparison(node.lhs, "=", value) for value in node.sub_nodes]
        truth = (
            reduce(operator.or_, (p[0] for p in parts)),
            reduce(operator.and_, (p[1] for p in parts)),
        )
        return _negated(truth, node.not_)
    if isinstance(node, ast.Between):
        low, high = _comparison(node.lhs, ">=", node.low), _comparison(node.lhs, "<=", node.high)
        return _negated((low[0] & high[0], low[1] | high[1]), node.not_)
    if isinstance(node, ast.IsNull):
        name, _queryable = _property(node.lhs)
        null = _null(name)
        return _negated((null, ~null), node.not_)
    if isinstance(node, SPATIAL):
        return _spatial(node.lhs, node.rhs, space)
    if isinstance(node, ast.BBox):  # BBOX(geometry, minx, miny, maxx, maxy[, crs])
        box_crs = space.crs if node.crs is None else SUPPORTED.get(node.crs)
        if box_crs is None:
            raise FilterError(
                _("Unsupported CRS %(crs)s; give one of: %(supported)s.")
                % {"crs": node.crs, "supported": ", ".join(SUPPORTED)}
            )
        box = _box(node.minx, node.miny, node.maxx, node.maxy)
        return _spatial(node.lhs, box, Space(space.deposits, box_crs))
    if type(node) in TEMPORAL:
        return _comparison(node.lhs, TEMPORAL[type(node)], node.rhs)
    raise FilterError(
        _("Unsupported operator %(operator)s; see the guide for the ones supported.")
        % {"operator": _operator_name(node)}
    )


def _chain(node) -> list:
    """The conditions of a chain of ANDs (or of ORs), which pygeofilter nests pairwise."""
    kind, found, pending = type(node), [], [node]
    while pending:
        item = pending.pop()
        if type(item) is kind:
            pending += [item.rhs, item.lhs]
        else:
            found.append(item)
    return found


def _negated(truth: Truth, negate: bool) -> Truth:
    return (truth[1], truth[0]) if negate else truth


def _operator_name(node) -> str:
    op = getattr(node, "op", None)
    return getattr(op, "value", None) or type(node).__name__


def _property(node) -> tuple[str, Queryable]:
    if isinstance(node, ast.Function) and node.name == "lower":
        raise FilterError(_("CASEI applies to =, <>, LIKE and IN of text properties."))
    if not isinstance(node, ast.Attribute):
        raise FilterError(_("Name a property on the left of each comparison."))
    queryable = QUERYABLES.get(node.name)
    if queryable is None:
        raise FilterError(
            _("Unknown property %(name)r; the queryables are: %(names)s.")
            % {"name": node.name, "names": ", ".join(QUERYABLES)}
        )
    return node.name, queryable


def _casei(node) -> tuple[object, bool]:
    """A CASEI(...) argument unwrapped, and whether it was one."""
    if isinstance(node, ast.Function) and node.name == "lower" and len(node.arguments) == 1:
        return node.arguments[0], True
    return node, False


def _present(queryable: Queryable) -> Q:
    present = Q(**{f"{queryable.field}__isnull": False})
    if queryable.blank_is_null:
        present &= ~Q(**{queryable.field: ""})
    return present


def _mineral_rows():
    return DepositCommodity.objects.values("deposit_id")


def _with_minerals(**lookups) -> Q:
    """Deposits with a mineral matching `lookups` (as DepositFilterSet's `mineral` and
    `critical` select them)."""
    return Q(pk__in=DepositCommodity.objects.filter(**lookups).values("deposit_id"))


def _null(name: str) -> Q:
    queryable = QUERYABLES[name]
    if queryable.kind == TEXT:
        return ~_present(queryable)
    if queryable.kind == MINERAL:
        return ~Q(pk__in=_mineral_rows())
    if queryable.kind == GEOMETRY:
        return ~LOCATED
    return NOTHING  # critical, created_at and updated_at are never null


def _comparison(lhs, op: str, rhs) -> Truth:
    lhs, lhs_casei = _casei(lhs)
    rhs, rhs_casei = _casei(rhs)
    if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
        lhs, rhs, op = rhs, lhs, FLIPPED[op]
    name, queryable = _property(lhs)
    if isinstance(rhs, ast.Node):
        raise FilterError(_("Compare %(name)s with a value.") % {"name": name})
    if op == "<>":
        true, false = _comparison(lhs if not lhs_casei else ast.Function("lower", [lhs]), "=", rhs)
        return false, true
    casei = lhs_casei or rhs_casei
    if queryable.kind == TEXT:
        value = _text(name, rhs)
        if casei:
            if op != "=":
                raise FilterError(_("CASEI applies to =, <>, LIKE and IN of text properties."))
            true = Q(**{f"{queryable.field}__iregex": f"^{re.escape(value)}$"})
        else:
            true = Q(**{f"{queryable.field}__{LOOKUPS[op]}": value})
        present = _present(queryable)
        return true & present, present & ~true
    if casei:
        raise FilterError(_("CASEI applies to =, <>, LIKE and IN of text properties."))
    if queryable.kind == MINERAL:
        if op != "=":
            raise FilterError(_("Compare mineral with =, <>, IN or IS NULL."))
        true = _with_minerals(mineral__code=_text(name, rhs))
        return true, Q(pk__in=_mineral_rows()) & ~true
    if queryable.kind == BOOLEAN:
        if op != "=":
            raise FilterError(_("Compare critical with = or <>."))
        if not isinstance(rhs, bool):
            raise FilterError(_("critical is true or false, not %(value)r.") % {"value": rhs})
        critical = _with_minerals(mineral__is_critical=True)
        return (critical, ~critical) if rhs else (~critical, critical)
    if queryable.kind == INSTANT:
        true = _instant_comparison(queryable.field, op, *_instant(name, rhs))
        return true, ~true
    raise FilterError(_("Filter geometry with S_INTERSECTS or S_WITHIN."))


def _text(name: str, value) -> str:
    if not isinstance(value, str):
        raise FilterError(
            _("%(name)s is text: give a quoted value, not %(value)r.")
            % {"name": name, "value": value}
        )
    return value


def _instant(name: str, value) -> tuple[datetime.datetime, datetime.datetime | None]:
    """An instant (start, None), or a date as its whole UTC day (start, next day's start)."""
    if isinstance(value, str):
        try:
            value = (
                datetime.date.fromisoformat(value)
                if len(value) == 10
                else datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            )
        except ValueError:
            value = None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise FilterError(
                _("A time of %(name)s needs its time zone, e.g. 2025-01-31T12:00:00Z.")
                % {"name": name}
            )
        try:
            return value.astimezone(datetime.UTC), None
        except OverflowError:
            raise FilterError(_("%(name)s: the time is out of range.") % {"name": name}) from None
    if isinstance(value, datetime.date):
        start = datetime.datetime.combine(value, datetime.time(), tzinfo=datetime.UTC)
        if value == datetime.date.max:  # its day ends with time itself
            return start, datetime.datetime.max.replace(tzinfo=datetime.UTC)
        return start, start + datetime.timedelta(days=1)
    raise FilterError(
        _("%(name)s is a time: give TIMESTAMP('2025-01-31T12:00:00Z') or DATE('2025-01-31').")
        % {"name": name}
    )


def _instant_comparison(
    field: str, op: str, start: datetime.datetime, end: datetime.datetime | None
) -> Q:
    if end is None:  # an instant
        return Q(**{f"{field}__{LOOKUPS[op]}": start})
    within_day = {
        "=": Q(**{f"{field}__gte": start, f"{field}__lt": end}),
        "<": Q(**{f"{field}__lt": start}),
        "<=": Q(**{f"{field}__lt": end}),
        ">": Q(**{f"{field}__gte": end}),
        ">=": Q(**{f"{field}__gte": start}),
    }
    return within_day[op]


def _like(node) -> Truth:
    lhs, casei = _casei(node.lhs)
    name, queryable = _property(lhs)
    if queryable.kind != TEXT:
        raise FilterError(_("LIKE applies to text properties, not to %(name)s.") % {"name": name})
    pattern, _pattern_casei = _casei(node.pattern)
    pattern = _text(name, pattern)
    lookup = "iregex" if casei else "regex"
    true = Q(**{f"{queryable.field}__{lookup}": like_regex(pattern)})
    present = _present(queryable)
    return true & present, present & ~true


def like_regex(pattern: str) -> str:
    """A CQL2 LIKE pattern (`%` any text, `_` one character, `\\` escaping either) as an
    anchored regular expression both databases read alike."""
    parts, escaped = ["^"], False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    if escaped:
        parts.append(re.escape("\\"))
    return "".join(parts) + "$"


def _box(minx, miny, maxx, maxy) -> tuple:
    return ("box", minx, miny, maxx, maxy)


def _spatial(lhs, rhs, space: Space) -> Truth:
    if isinstance(rhs, ast.Attribute) and not isinstance(lhs, ast.Attribute):
        lhs, rhs = rhs, lhs
    name, queryable = _property(lhs)
    if queryable.kind != GEOMETRY:
        raise FilterError(
            _("Spatial functions apply to geometry, not to %(name)s.") % {"name": name}
        )
    true = _geometry_condition(rhs, space)
    return true & LOCATED, LOCATED & ~true


def _number(value, limit: int = 360) -> Decimal:
    """A coordinate (within ±`limit` degrees) or a difference of two."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FilterError(_("Coordinates are numbers, not %(value)r.") % {"value": value})
    if not math.isfinite(value) or abs(value) > limit:
        raise FilterError(
            _("Coordinates are longitudes from -180 to 180 and latitudes from -90 to 90.")
        )
    return Decimal(repr(value))


def _lon(value) -> Decimal:
    return _number(value, 180)


def _lat(value) -> Decimal:
    return _number(value, 90)


def _geometry_condition(value, space: Space) -> Q:
    if isinstance(value, ast.Function) and value.name.lower() == "bbox":
        numbers = value.arguments
        if len(numbers) == 6:  # with heights, which are dropped as in `bbox`
            numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
        if len(numbers) != 4:
            raise FilterError(_("BBOX takes minLon, minLat, maxLon, maxLat."))
        value = _box(*numbers)
    if isinstance(value, values.Envelope):
        xs, ys = sorted((value.x1, value.x2)), sorted((value.y1, value.y2))
        value = _box(xs[0], ys[0], xs[1], ys[1])
    if space.crs is not STORAGE:
        return _served_in(value, space)
    if isinstance(value, tuple) and value[0] == "box":
        minx, miny, maxx, maxy = _lower_corner_first(
            _lon(value[1]), _lat(value[2]), _lon(value[3]), _lat(value[4])
        )
        return Q(longitude__gte=minx, longitude__lte=maxx, latitude__gte=miny, latitude__lte=maxy)
    if isinstance(value, values.Geometry):
        return _shape_condition(value.geometry, space.deposits)
    raise FilterError(_("Give the geometry as a BBOX, a POINT or a POLYGON."))


def _shape(geometry: dict):
    """A POINT or a valid POLYGON of the filter as a shapely geometry, or why not."""
    try:
        shape = shapely.geometry.shape(geometry)
    except Exception:  # shapely raises what a bad coordinate list provokes
        raise FilterError(_("Not a geometry: %(type)s.") % {"type": geometry.get("type")}) from None
    if shape.geom_type == "Point":
        return shape
    if shape.geom_type not in ("Polygon", "MultiPolygon"):
        raise FilterError(_("Give the geometry as a BBOX, a POINT or a POLYGON."))
    if shape.is_empty or not shape.is_valid:
        raise FilterError(_("The polygon is not valid (its rings cross or are not closed)."))
    if shapely.get_num_coordinates(shape) > MAX_VERTICES:
        raise FilterError(_("A polygon has at most %(max)d vertices.") % {"max": MAX_VERTICES})
    return shape


def _shape_condition(geometry: dict, deposits: QuerySet) -> Q:
    shape = _shape(geometry)
    if shape.geom_type == "Point":
        return Q(longitude=_lon(shape.x), latitude=_lat(shape.y))
    for x, y in shapely.get_coordinates(shape):  # a 400 off the globe
        _lon(float(x))
        _lat(float(y))
    return located_in(shape, deposits)


def _served_in(value, space: Space) -> Q:
    """A box or geometry given in another CRS than CRS84 (`filter-crs`): the deposits whose
    point, as served in that CRS, lies in it (`geo.keys_in`; a point: the deposit
    served at exactly those coordinates), among those within its CRS84 envelope."""
    if isinstance(value, tuple) and value[0] == "box":
        shape = shapely.geometry.box(*_lower_corner_first(*(_finite(v) for v in value[1:])))
    elif isinstance(value, values.Geometry):
        shape = _shape(value.geometry)
        for number in shapely.get_coordinates(shape).flat:
            _finite(float(number))
    else:
        raise FilterError(_("Give the geometry as a BBOX, a POINT or a POLYGON."))
    envelope = storage_envelope(space.crs, shape.bounds)
    if envelope is None:
        raise FilterError(
            _("The geometry lies outside the coordinates of its CRS (%(crs)s).")
            % {"crs": space.crs.uri}
        )
    west, south, east, north = (Decimal(v) for v in envelope)
    candidates = space.deposits.filter(
        longitude__gte=west, longitude__lte=east, latitude__gte=south, latitude__lte=north
    )
    return Q(pk__in=keys_in(shape, candidates, space.crs.coordinates))


def _lower_corner_first(minx, miny, maxx, maxy) -> tuple:
    """A box's corners, checked in the order BBOX takes them in any CRS: the lower corner
    (minima of both axes) first."""
    if minx > maxx or miny > maxy:
        raise FilterError(_("A BBOX gives the lower corner first."))
    return minx, miny, maxx, maxy


def _finite(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FilterError(_("Coordinates are numbers, not %(value)r.") % {"value": value})
    return float(value)
