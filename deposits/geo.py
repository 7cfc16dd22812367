"""Where a point lies: inside Tajikistan's border, in which region, how far apart.

Polygons are Natural Earth's (deposits/data/geo); they are generalised, so a
region derived from them is a suggestion for a clerk to confirm. Point-in-polygon tests
are shapely's (GEOS), on geometries prepared once per process.
"""

import json
import math
from functools import cache
from pathlib import Path

from shapely import Point
from shapely.geometry import shape
from shapely.prepared import PreparedGeometry, prep

GEO_DIR = Path(__file__).resolve().parent / "data" / "geo"
EARTH_RADIUS_KM = 6371.0088


@cache
def _shapes(name: str) -> list[tuple[dict, PreparedGeometry]]:
    """The features of a GeoJSON file in deposits/data/geo, each with its geometry
    prepared for repeated point tests."""
    with open(GEO_DIR / name, encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    return [(f["properties"], prep(shape(f["geometry"]))) for f in features]


def inside_tajikistan(lon: float, lat: float) -> bool:
    """Whether the point lies inside the country's border (or on it)."""
    point = Point(lon, lat)
    return any(border.covers(point) for _, border in _shapes("tajikistan_outline_10m.geojson"))


def region_code_at(lon: float, lat: float) -> str | None:
    """The ISO 3166-2 code of the region polygon containing the point, if any."""
    point = Point(lon, lat)
    for properties, region in _shapes("tajikistan_regions_ne10m.geojson"):
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
