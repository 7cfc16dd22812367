"""Where a point lies: inside Tajikistan's border, in which region, how far apart.

Polygons are Natural Earth's (deposits/data/geo); they are generalised, so a
region derived from them is a suggestion for a clerk to confirm. Point-in-polygon tests
are shapely's (GEOS), on geometries prepared once per process.

Distances to a border are measured on a plane: longitude and latitude scaled to
kilometres at the country's middle latitude (38.8 N). Across Tajikistan (36.6-41.1 N)
that is within 4% of the distance on the globe, close enough for a tolerance of a few
kilometres.
"""

import json
import math
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import shapely
from django.db.models import Q, QuerySet
from shapely import Point
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry, prep

GEO_DIR = Path(__file__).resolve().parent / "data" / "geo"
OUTLINE = "tajikistan_outline_10m.geojson"
REGIONS = "tajikistan_regions_ne10m.geojson"
EARTH_RADIUS_KM = 6371.0088
# Kilometres per degree of longitude and of latitude at the country's middle latitude.
_KM_PER_DEGREE = (
    math.pi / 180 * EARTH_RADIUS_KM * math.cos(math.radians(38.8)),
    math.pi / 180 * EARTH_RADIUS_KM,
)


@cache
def _shapes(name: str) -> list[tuple[dict, PreparedGeometry]]:
    """The features of a GeoJSON file in deposits/data/geo, each with its geometry
    prepared for repeated point tests."""
    with open(GEO_DIR / name, encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    return [(f["properties"], prep(shape(f["geometry"]))) for f in features]


@cache
def _planar(name: str) -> dict[str, BaseGeometry]:
    """The polygons of a GeoJSON file in kilometres on the plane (see above), by their
    ISO 3166-2 code (the country's outline under "TJ")."""
    with open(GEO_DIR / name, encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    return {
        f["properties"].get("iso_3166_2", "TJ"): shapely.transform(
            shape(f["geometry"]), lambda coords: coords * _KM_PER_DEGREE
        )
        for f in features
    }


def _planar_point(lon: float, lat: float) -> Point:
    return Point(lon * _KM_PER_DEGREE[0], lat * _KM_PER_DEGREE[1])


def inside_tajikistan(lon: float, lat: float) -> bool:
    """Whether the point lies inside the country's border (or on it)."""
    point = Point(lon, lat)
    return any(border.covers(point) for _, border in _shapes(OUTLINE))


def km_outside_tajikistan(lon: float, lat: float) -> float:
    """How far the point lies outside the country's border, in km; 0 inside or on it."""
    if inside_tajikistan(lon, lat):
        return 0.0
    return _planar(OUTLINE)["TJ"].distance(_planar_point(lon, lat))


def km_outside_region(code: str, lon: float, lat: float) -> float | None:
    """How far the point lies outside the region's polygon, in km (0 inside or on it);
    None for a region the shipped polygons do not have."""
    region = _planar(REGIONS).get(code)
    return None if region is None else region.distance(_planar_point(lon, lat))


def region_code_at(lon: float, lat: float) -> str | None:
    """The ISO 3166-2 code of the region polygon containing the point, if any."""
    point = Point(lon, lat)
    for properties, region in _shapes(REGIONS):
        if region.covers(point):
            return properties["iso_3166_2"]
    return None


def distance_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def overlaps_tajikistan(geometry: BaseGeometry) -> bool:
    """Whether any part of the geometry lies inside the country's border (or on it)."""
    return any(border.intersects(geometry) for _, border in _shapes(OUTLINE))


def located_in(area: BaseGeometry, deposits: QuerySet) -> Q:
    """A condition on deposits' keys: those of `deposits` whose point lies in `area` (its
    boundary included). The database narrows them to the area's bounding box, and GEOS
    tests each candidate's point: one query, read when the condition is made."""
    west, south, east, north = area.bounds
    candidates = deposits.filter(
        longitude__gte=west, longitude__lte=east, latitude__gte=south, latitude__lte=north
    )
    return Q(pk__in=keys_in(area, candidates))


def keys_in(
    area: BaseGeometry,
    deposits: QuerySet,
    coordinates: Callable[[float, float], Sequence[float]] | None = None,
) -> list[int]:
    """The keys of `deposits` (candidates the caller has narrowed) whose point lies in
    `area`, its boundary included, as GEOS finds it. `coordinates(longitude, latitude)`
    gives a point in the area's CRS (another than the stored lon/lat: OGC's `bbox-crs`
    and `filter-crs`). One query, a key and two numbers a candidate."""
    inside, point = prep(area), coordinates or (lambda lon, lat: (lon, lat))
    rows = deposits.values_list("pk", "longitude", "latitude")
    return [pk for pk, lon, lat in rows if inside.covers(Point(point(float(lon), float(lat))))]
