"""Where a point lies: inside Tajikistan's border, in which region, how far apart.

Polygons are Natural Earth's (deposits/data/geo); they are generalised, so a
region derived from them is a suggestion for a clerk to confirm.
"""

import json
import math
from functools import cache
from pathlib import Path

GEO_DIR = Path(__file__).resolve().parent / "data" / "geo"
EARTH_RADIUS_KM = 6371.0088


def _polygons(geometry: dict) -> list[list[list[tuple[float, float]]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    raise ValueError(f"unsupported geometry {geometry['type']}")


def _in_ring(lon: float, lat: float, ring) -> bool:
    """Ray casting: does a ray eastwards from the point cross the ring an odd number of times?"""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _in_geometry(lon: float, lat: float, geometry: dict) -> bool:
    for polygon in _polygons(geometry):
        outer, *holes = polygon
        if _in_ring(lon, lat, outer) and not any(_in_ring(lon, lat, h) for h in holes):
            return True
    return False


@cache
def _load(name: str) -> list[dict]:
    with open(GEO_DIR / name, encoding="utf-8") as handle:
        return json.load(handle)["features"]


def inside_tajikistan(lon: float, lat: float) -> bool:
    return any(
        _in_geometry(lon, lat, f["geometry"]) for f in _load("tajikistan_outline_10m.geojson")
    )


def region_code_at(lon: float, lat: float) -> str | None:
    """The ISO 3166-2 code of the region polygon containing the point, if any."""
    for feature in _load("tajikistan_regions_ne10m.geojson"):
        if _in_geometry(lon, lat, feature["geometry"]):
            return feature["properties"]["iso_3166_2"]
    return None


def distance_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))
