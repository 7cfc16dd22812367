"""The coordinate reference systems of the OGC service (OGC API - Features Part 2).

The registry stores WGS84 longitude and latitude; features are served in CRS84 unless
the request names another supported CRS with `crs`, and a `bbox` may be given in one with
`bbox-crs`. Every transformation is PROJ's, through pyproj; the transformers are built
once per process and reused.

Coordinates are written in the axis order of their CRS, as Part 2 requires: CRS84
longitude first, EPSG:4326 latitude first, the UTM zones easting then northing (metres,
to the centimetre).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import cached_property

import shapely.geometry
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError
from rest_framework.exceptions import ValidationError

from deposits.geo import keys_in

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
UTM_42N = "http://www.opengis.net/def/crs/EPSG/0/32642"
UTM_43N = "http://www.opengis.net/def/crs/EPSG/0/32643"

CONFORMANCE_CRS = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"

# The degrees the registry keeps (six decimals); an envelope is rounded outwards to them.
MICRODEGREE = Decimal("0.000001")
# Points on either side of a projected box's edge, where it is densified into lon/lat.
DENSIFY_POINTS = 21


@dataclass(frozen=True)
class Crs:
    uri: str
    code: str  # PROJ's name for it
    decimals: int | None  # rounding of the coordinates served; None: as stored (degrees)
    projected: bool = False

    @cached_property
    def _crs(self) -> CRS:
        return CRS.from_user_input(self.code)

    @cached_property
    def forward(self) -> Transformer:
        """CRS84 (lon, lat) to this CRS, in its own axis order."""
        return Transformer.from_crs(STORAGE._crs, self._crs)

    @cached_property
    def backward(self) -> Transformer:
        """This CRS, in its own axis order, to CRS84 (lon, lat)."""
        return Transformer.from_crs(self._crs, STORAGE._crs)

    def coordinates(self, longitude: float, latitude: float) -> list[float]:
        """A stored point's coordinates in this CRS."""
        if self is STORAGE:
            return [longitude, latitude]
        first, second = self.forward.transform(longitude, latitude)
        if self.decimals is not None:
            first, second = round(first, self.decimals), round(second, self.decimals)
        return [first, second]

    def feature(self, feature: dict) -> dict:
        """A feature of `documents.feature` (CRS84) with its geometry in this CRS."""
        geometry = feature["geometry"]
        if self is STORAGE or geometry is None:
            return feature
        return {
            **feature,
            "geometry": {**geometry, "coordinates": self.coordinates(*geometry["coordinates"])},
        }

    def header(self) -> str:
        """The `Content-Crs` header's value."""
        return f"<{self.uri}>"


STORAGE = Crs(uri=CRS84, code="OGC:CRS84", decimals=None)
SUPPORTED = {
    crs.uri: crs
    for crs in (
        STORAGE,
        Crs(uri=EPSG_4326, code="EPSG:4326", decimals=None),
        Crs(uri=UTM_42N, code="EPSG:32642", decimals=2, projected=True),
        Crs(uri=UTM_43N, code="EPSG:32643", decimals=2, projected=True),
    )
}
URIS = list(SUPPORTED)


def requested_crs(params, name: str = "crs") -> Crs:
    """The CRS the parameter `name` (`crs` or `bbox-crs`) names, CRS84 without it, or a
    400 naming the parameter and the supported CRSs."""
    raw = params.get(name, "")
    if raw == "":
        return STORAGE
    crs = SUPPORTED.get(raw.strip())
    if crs is None:
        raise ValidationError({name: [_("Unsupported CRS; give one of: %s.") % ", ".join(URIS)]})
    return crs


@dataclass(frozen=True)
class Box:
    """A `bbox` given in another CRS than CRS84: the lon/lat envelope that contains it
    (for `DepositFilterSet`'s bbox filter) and, for a projected CRS, the exact box."""

    crs: Crs
    corners: tuple[float, float, float, float]  # in the CRS's axis order
    envelope: str  # minLon,minLat,maxLon,maxLat, rounded outwards to the micro-degree

    def refine(self, deposits: QuerySet) -> QuerySet:
        """The deposits (already within the envelope) whose point lies in the projected
        box itself, as served (to the centimetre), so a box drawn through a feature's
        served coordinates holds it."""
        if not self.crs.projected:
            return deposits  # a geographic box is its own envelope
        box = shapely.geometry.box(*self.corners)
        return deposits.filter(pk__in=keys_in(box, deposits, self.crs.coordinates))


def _outwards(values: Iterable[float], rounding) -> list[str]:
    return [str(Decimal(repr(v)).quantize(MICRODEGREE, rounding)) for v in values]


def box_in(raw: str, crs: Crs) -> Box:
    """`bbox` (four numbers, in `crs`'s axis order) for a CRS other than CRS84, or a 400
    naming `bbox`."""
    parts = raw.split(",")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(abs(v) < float("inf") for v in numbers):
        raise ValidationError(
            {"bbox": [_("Give four numbers in the axis order of the CRS in bbox-crs.")]}
        )
    low_x, low_y, high_x, high_y = numbers
    if low_x > high_x or low_y > high_y:
        raise ValidationError({"bbox": [_("The minimum must not exceed the maximum.")]})
    envelope = storage_envelope(crs, (low_x, low_y, high_x, high_y))
    if envelope is None:
        raise ValidationError(
            {"bbox": [_("The box lies outside the coordinates of its CRS (%s).") % crs.uri]}
        )
    return Box(crs=crs, corners=(low_x, low_y, high_x, high_y), envelope=",".join(envelope))


def storage_envelope(crs: Crs, bounds: tuple[float, ...]) -> list[str] | None:
    """The CRS84 envelope (minLon, minLat, maxLon, maxLat, rounded outwards to the
    micro-degree the registry keeps) of the box `bounds` given in `crs`'s axis order, its
    edges densified so the envelope holds their curves; None where the box lies outside
    the coordinates of the CRS."""
    try:
        west, south, east, north = crs.backward.transform_bounds(
            *bounds, densify_pts=DENSIFY_POINTS, errcheck=True
        )
    except ProjError:
        return None
    found = (west, south, east, north)
    if not all(abs(v) < float("inf") for v in found) or not (
        -180 <= west <= east <= 180 and -90 <= south <= north <= 90
    ):
        return None
    return _outwards((west, south), ROUND_FLOOR) + _outwards((east, north), ROUND_CEILING)
