"""A small locator map for paper: Tajikistan's outline and its neighbours' borders, from the
same Natural Earth file the pages' maps draw (`settings.PAGES_MAP_OUTLINE`), as SVG
paths, with a deposit's point. Drawn by the app, so a passport needs no tile server."""

import json
import math
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders

COUNTRY = "762"  # ISO 3166-1 numeric code of Tajikistan in the outline's properties
WIDTH = 600  # SVG units across; the height follows the country's shape
MARGIN_DEGREES = 0.25


@cache
def _borders() -> tuple[tuple[str, tuple], ...]:
    """(ISO numeric code, polygons) of each country in the outline, each polygon a tuple of
    rings of (longitude, latitude)."""
    with open(finders.find(settings.PAGES_MAP_OUTLINE), encoding="utf-8") as file:
        collection = json.load(file)
    countries = []
    for feature in collection["features"]:
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        rings = tuple(tuple(tuple(ring) for ring in polygon) for polygon in polygons)
        countries.append((feature["properties"]["iso_numeric"], rings))
    return tuple(countries)


@cache
def _frame() -> tuple[float, float, float, float, float]:
    """West, north, the scale (SVG units a degree of latitude), the factor that shortens a
    degree of longitude at this latitude, and the height: Tajikistan with a margin."""
    points = [
        point
        for code, polygons in _borders()
        if code == COUNTRY
        for polygon in polygons
        for ring in polygon
        for point in ring
    ]
    west = min(lon for lon, _ in points) - MARGIN_DEGREES
    east = max(lon for lon, _ in points) + MARGIN_DEGREES
    south = min(lat for _, lat in points) - MARGIN_DEGREES
    north = max(lat for _, lat in points) + MARGIN_DEGREES
    shorten = math.cos(math.radians((north + south) / 2))
    scale = WIDTH / ((east - west) * shorten)
    return west, north, scale, shorten, (north - south) * scale


def _xy(longitude: float, latitude: float) -> tuple[float, float]:
    west, north, scale, shorten, _ = _frame()
    return (longitude - west) * shorten * scale, (north - latitude) * scale


def _path(polygons) -> str:
    """An SVG path of the polygons, one subpath a ring, to a tenth of a unit."""
    return " ".join(
        "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in (_xy(*point) for point in ring)) + "Z"
        for polygon in polygons
        for ring in polygon
    )


@cache
def _outlines() -> tuple[str, str]:
    """The SVG paths of Tajikistan and of its neighbours (drawn beyond the frame, which
    the SVG's view box cuts)."""
    country, neighbours = [], []
    for code, polygons in _borders():
        (country if code == COUNTRY else neighbours).append(_path(polygons))
    return " ".join(country), " ".join(neighbours)


def locator_map(latitude: Decimal | None, longitude: Decimal | None) -> dict:
    """What `deposits/paper/_locator.html` draws: the view box, the outlines, and the
    deposit's point (None without coordinates)."""
    country, neighbours = _outlines()
    height = _frame()[4]
    point = None
    if latitude is not None and longitude is not None:
        x, y = _xy(float(longitude), float(latitude))
        point = {"x": f"{x:.1f}", "y": f"{y:.1f}"}
    return {
        "width": WIDTH,
        "height": f"{height:.1f}",
        "country": country,
        "neighbours": neighbours,
        "point": point,
    }
