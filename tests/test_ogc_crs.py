"""OGC API - Features Part 2 on /ogc/: features served in CRS84, EPSG:4326 and the UTM
zones 42N and 43N (`crs`), a bbox given in any of them (`bbox-crs`), the Content-Crs
header, and a 400 naming the parameter for every CRS the service does not support.

The expected UTM coordinates are fixed numbers computed once by Debian's GDAL (gdal-bin
3.6.2, PROJ 9.1.1), independently of the pyproj the service uses; each carries the
command that produced it.
"""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from deposits.models import Deposit

# Every test reads the demo registry, loaded once for the module (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_for_module")]

ITEMS = "/ogc/collections/deposits/items"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
UTM_42N = "http://www.opengis.net/def/crs/EPSG/0/32642"
UTM_43N = "http://www.opengis.net/def/crs/EPSG/0/32643"
SUPPORTED = [CRS84, EPSG_4326, UTM_42N, UTM_43N]

# Jilau (Panjakent, Sughd), 39.3333 N 67.7167 E (USGS major deposits, id 1851):
#   echo "67.7167 39.3333" | gdaltransform -s_srs EPSG:4326 -t_srs EPSG:32642
#   389398.190262431 4354549.45012069
JILAU = ("Jilau", 67.7167, 39.3333)
JILAU_42N = [389398.19, 4354549.45]
# Aqarkhar (GBAO), 37.9333 N 73.7333 E (USGS major deposits, id 1844):
#   echo "73.7333 37.9333" | gdaltransform -s_srs EPSG:4326 -t_srs EPSG:32643
#   388684.233899819 4199171.06364446
AQARKHAR = ("Aqarkhar", 73.7333, 37.9333)
AQARKHAR_43N = [388684.23, 4199171.06]
# The same point in the neighbouring zone, 42N, as GIS tools extend a zone:
#   echo "73.7333 37.9333" | gdaltransform -s_srs EPSG:4326 -t_srs EPSG:32642
#   916063.61168904 4208993.06780052
AQARKHAR_42N = [916063.61, 4208993.07]


@pytest.fixture
def demo(demo_for_module, db):
    """The demo registry, loaded once for the module (tests/conftest.py)."""


def public_id(name: str, longitude: float, latitude: float) -> str:
    """The demo deposit's identifier, after checking it has its published coordinates."""
    deposit = Deposit.objects.get(name=name)
    assert (float(deposit.longitude), float(deposit.latitude)) == (longitude, latitude)
    return deposit.public_id


def items(client, **params) -> tuple[int, dict, object]:
    response = client.get(ITEMS, {"limit": 10000, **params}, HTTP_ACCEPT="application/geo+json")
    return response.status_code, response.json(), response


def ids(document: dict) -> list[str]:
    return sorted(feature["id"] for feature in document["features"])


def coordinates(document: dict, feature_id: str) -> list[float]:
    [feature] = [f for f in document["features"] if f["id"] == feature_id]
    return feature["geometry"]["coordinates"]


# --- what the service declares


def test_the_conformance_and_the_collections_declare_the_crss(client, demo):
    conformance = client.get("/ogc/conformance").json()
    assert (
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in (conformance["conformsTo"])
    )
    collections = client.get("/ogc/collections").json()["collections"]
    assert len(collections) > 1
    for collection in collections:
        assert collection["crs"] == SUPPORTED
        assert collection["storageCrs"] == CRS84
        assert collection["extent"]["spatial"]["crs"] == CRS84
    one = client.get("/ogc/collections/deposits").json()
    assert one["crs"] == SUPPORTED and one["storageCrs"] == CRS84


def test_the_openapi_document_names_both_parameters(client):
    document = client.get("/ogc/api", {"f": "json"}).json()
    parameters = document["components"]["parameters"]
    for name in ("crs", "bbox-crs", "filter-crs"):
        assert parameters[name]["name"] == name
        assert parameters[name]["schema"]["enum"] == SUPPORTED
    items_parameters = document["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/crs"} in items_parameters
    assert {"$ref": "#/components/parameters/bbox-crs"} in items_parameters
    assert {"$ref": "#/components/parameters/filter-crs"} in items_parameters
    item = document["paths"]["/collections/{collectionId}/items/{featureId}"]["get"]
    assert {"$ref": "#/components/parameters/crs"} in item["parameters"]


# --- coordinates in each CRS


def test_without_crs_the_features_are_crs84_and_the_header_says_so(client, demo):
    jilau = public_id(*JILAU)
    status, document, response = items(client)
    assert status == 200
    assert response["Content-Crs"] == f"<{CRS84}>"
    assert coordinates(document, jilau) == [67.7167, 39.3333]
    one = client.get(f"/ogc/collections/deposits/items/{jilau}")
    assert one["Content-Crs"] == f"<{CRS84}>"
    assert one.json()["geometry"]["coordinates"] == [67.7167, 39.3333]


def test_crs84_asked_by_name_is_the_default(client, demo):
    _status, default, _response = items(client)
    _status, named, response = items(client, crs=CRS84)
    assert response["Content-Crs"] == f"<{CRS84}>"
    assert [f["geometry"] for f in named["features"]] == [
        f["geometry"] for f in default["features"]
    ]


def test_epsg_4326_is_latitude_first(client, demo):
    jilau = public_id(*JILAU)
    status, document, response = items(client, crs=EPSG_4326)
    assert status == 200
    assert response["Content-Crs"] == f"<{EPSG_4326}>"
    assert coordinates(document, jilau) == [39.3333, 67.7167]
    _status, default, _response = items(client)
    for swapped, plain in zip(document["features"], default["features"], strict=True):
        assert swapped["id"] == plain["id"]
        if plain["geometry"] is None:
            assert swapped["geometry"] is None
        else:
            assert swapped["geometry"]["coordinates"] == plain["geometry"]["coordinates"][::-1]


@pytest.mark.parametrize(
    ("deposit", "crs", "expected"),
    [
        (JILAU, UTM_42N, JILAU_42N),
        (AQARKHAR, UTM_43N, AQARKHAR_43N),
        (AQARKHAR, UTM_42N, AQARKHAR_42N),
    ],
)
def test_utm_coordinates_are_the_known_eastings_and_northings(client, demo, deposit, crs, expected):
    feature_id = public_id(*deposit)
    status, document, response = items(client, crs=crs)
    assert status == 200
    assert response["Content-Crs"] == f"<{crs}>"
    assert coordinates(document, feature_id) == expected  # to the centimetre

    one = client.get(f"/ogc/collections/deposits/items/{feature_id}", {"crs": crs})
    assert one.status_code == 200
    assert one["Content-Crs"] == f"<{crs}>"
    assert one.json()["geometry"] == {"type": "Point", "coordinates": expected}
    # The feature's own link keeps the CRS it was asked in.
    [self_link] = [link for link in one.json()["links"] if link["rel"] == "self"]
    assert parse_qs(urlsplit(self_link["href"]).query)["crs"] == [crs]


def test_deposits_without_coordinates_stay_null_in_every_crs(client, demo):
    unlocated = Deposit.objects.filter(latitude__isnull=True, visibility="public").first()
    assert unlocated is not None
    for crs in SUPPORTED:
        _status, document, _response = items(client, crs=crs)
        [feature] = [f for f in document["features"] if f["id"] == unlocated.public_id]
        assert feature["geometry"] is None


# --- bbox in another CRS

# Zeravshan and Turkestan ranges, in CRS84 (lon/lat).
WEST = (67.5, 39.0, 69.0, 39.7)


def test_an_epsg_4326_bbox_is_latitude_first_and_selects_as_crs84(client, demo):
    min_lon, min_lat, max_lon, max_lat = WEST
    _status, plain, _response = items(client, bbox=f"{min_lon},{min_lat},{max_lon},{max_lat}")
    status, swapped, _response = items(
        client, bbox=f"{min_lat},{min_lon},{max_lat},{max_lon}", **{"bbox-crs": EPSG_4326}
    )
    assert status == 200
    assert ids(swapped) == ids(plain)
    assert public_id(*JILAU) in ids(plain)


def test_a_utm_bbox_selects_exactly_the_deposits_inside_it(client, demo):
    """The projected box, not its lon/lat envelope: every deposit whose easting and
    northing lie in it, and no other."""
    box = (400_000, 4_300_000, 700_000, 4_500_000)
    status, selected, response = items(
        client, bbox=",".join(map(str, box)), **{"bbox-crs": UTM_42N}, crs=UTM_42N
    )
    assert status == 200
    assert response["Content-Crs"] == f"<{UTM_42N}>"
    _status, everything, _response = items(client, crs=UTM_42N)
    inside = [
        f["id"]
        for f in everything["features"]
        if f["geometry"] is not None
        and box[0] <= f["geometry"]["coordinates"][0] <= box[2]
        and box[1] <= f["geometry"]["coordinates"][1] <= box[3]
    ]
    assert ids(selected) == sorted(inside)
    assert public_id(*JILAU) not in inside  # easting 389 km: west of the box
    assert len(inside) > 1
    assert selected["numberMatched"] == len(inside)


def test_a_utm_bbox_is_exact_to_the_centimetre_not_its_envelope(client, demo):
    """Jilau lies 1 cm inside, then 1 cm outside the box's west edge; the edge is a curve
    in lon/lat, so the box's lon/lat envelope holds Jilau either way."""
    jilau = public_id(*JILAU)
    east, north = JILAU_42N
    for west, selected in ((east - 0.01, True), (east + 0.01, False)):
        bbox = f"{west},{north - 50_000},{east + 50_000},{north + 50_000}"
        status, document, _response = items(client, bbox=bbox, **{"bbox-crs": UTM_42N})
        assert status == 200
        assert (jilau in ids(document)) is selected


def test_a_utm_bbox_selects_the_deposits_of_the_crs84_bbox_it_spans(client, demo):
    """A CRS84 box (the Zeravshan and Turkestan ranges) and the UTM 42N box its deposits'
    eastings and northings span: the UTM box selects every deposit of the CRS84 box, and
    the others it selects lie outside that box in lon/lat but inside it in UTM (a box of
    constant eastings is not one of constant longitudes)."""
    _status, plain, _response = items(client, bbox=",".join(map(str, WEST)), crs=UTM_42N)
    points = [f["geometry"]["coordinates"] for f in plain["features"]]
    assert public_id(*JILAU) in ids(plain) and len(points) > 2
    eastings, northings = zip(*points, strict=True)
    utm_box = (min(eastings), min(northings), max(eastings), max(northings))
    _status, projected, _response = items(
        client, bbox=",".join(map(str, utm_box)), **{"bbox-crs": UTM_42N}
    )
    assert set(ids(plain)) <= set(ids(projected))
    _status, lonlat, _response = items(client)
    extra = set(ids(projected)) - set(ids(plain))
    for feature in lonlat["features"]:
        if feature["id"] in extra:
            longitude, latitude = feature["geometry"]["coordinates"]
            assert not (WEST[0] <= longitude <= WEST[2] and WEST[1] <= latitude <= WEST[3])
    _status, everything, _response = items(client, crs=UTM_42N)
    for feature in everything["features"]:
        if feature["id"] in extra:
            easting, northing = feature["geometry"]["coordinates"]
            assert utm_box[0] <= easting <= utm_box[2] and utm_box[1] <= northing <= utm_box[3]


def test_a_utm_bbox_of_the_whole_country_selects_what_its_crs84_bbox_does(client, demo):
    """Tajikistan's extent (67.3-75.2 E, 36.6-41.1 N) as a UTM 42N box that contains it
    selects every located deposit, as the CRS84 box does."""
    # Its corners and the lowest point of its southern parallel (on the central meridian,
    # 69 E), each by: echo "LON LAT" | gdaltransform -s_srs EPSG:4326 -t_srs EPSG:32642
    #   67.3 36.6 -> 347945.54 4051845.74    75.2 36.6 -> 1054842.39 4068439.58
    #   67.3 41.1 -> 357240.82 4551250.57    75.2 41.1 -> 1020779.13 4568419.84
    #   69.0 36.6 -> 500000.00 4050500.57
    utm_box = "340000,4050000,1060000,4570000"
    _status, plain, _response = items(client, bbox="67.3,36.6,75.2,41.1")
    _status, projected, _response = items(client, bbox=utm_box, **{"bbox-crs": UTM_42N})
    located = Deposit.objects.filter(visibility="public", latitude__isnull=False).count()
    assert ids(projected) == ids(plain)
    assert len(ids(plain)) == located


def test_bbox_crs_without_bbox_changes_nothing(client, demo):
    _status, plain, _response = items(client)
    status, document, _response = items(client, **{"bbox-crs": UTM_42N})
    assert status == 200 and ids(document) == ids(plain)


def test_links_keep_crs_and_bbox_crs(client, demo):
    params = {
        "bbox": "300000,4200000,700000,4500000",
        "bbox-crs": UTM_42N,
        "crs": UTM_43N,
        "limit": 2,
    }
    response = client.get(ITEMS, params, HTTP_ACCEPT="application/geo+json")
    document = response.json()
    assert document["numberMatched"] > 2
    links = {link["rel"]: link["href"] for link in document["links"]}
    for rel in ("self", "alternate", "next"):
        query = parse_qs(urlsplit(links[rel]).query)
        assert query["crs"] == [UTM_43N] and query["bbox-crs"] == [UTM_42N], rel
    after = client.get(links["next"], HTTP_ACCEPT="application/geo+json")
    assert after.status_code == 200 and after["Content-Crs"] == f"<{UTM_43N}>"
    prev = {link["rel"]: link["href"] for link in after.json()["links"]}["prev"]
    assert parse_qs(urlsplit(prev).query)["crs"] == [UTM_43N]


# --- filter geometries in another CRS (filter-crs)


def filtered(client, geometry: str, crs: str, **params) -> tuple[int, dict]:
    status, document, _response = items(
        client, filter=f"S_INTERSECTS(geometry, {geometry})", **{"filter-crs": crs}, **params
    )
    return status, document


def test_a_utm_box_in_a_filter_selects_what_the_same_utm_bbox_does(client, demo):
    box = "400000,4300000,700000,4500000"
    _status, by_bbox, _response = items(client, bbox=box, **{"bbox-crs": UTM_42N})
    status, by_filter = filtered(client, f"BBOX({box})", UTM_42N)
    assert status == 200
    assert ids(by_filter) == ids(by_bbox) and len(ids(by_bbox)) > 1
    assert by_filter["numberMatched"] == by_bbox["numberMatched"]
    # In CQL2 JSON too.
    json_filter = json.dumps(
        {
            "op": "s_intersects",
            "args": [{"property": "geometry"}, {"bbox": [400000, 4300000, 700000, 4500000]}],
        }
    )
    _status, as_json, _response = items(
        client, filter=json_filter, **{"filter-lang": "cql2-json", "filter-crs": UTM_42N}
    )
    assert ids(as_json) == ids(by_bbox)


def test_a_utm_polygon_is_exact_to_the_centimetre(client, demo):
    """Jilau lies 1 cm inside, then 1 cm outside the polygon's west edge (its served
    easting): the edge is a curve in lon/lat, so only the comparison in UTM tells."""
    jilau = public_id(*JILAU)
    east, north = JILAU_42N
    for west, selected in ((east - 0.01, True), (east + 0.01, False)):
        corners = [(west, north - 5000), (east + 5000, north - 5000), (east + 5000, north + 5000)]
        ring = ", ".join(f"{x} {y}" for x, y in [*corners, (west, north + 5000), corners[0]])
        status, document = filtered(client, f"POLYGON(({ring}))", UTM_42N)
        assert status == 200
        assert (jilau in ids(document)) is selected


@pytest.mark.parametrize(
    ("crs", "point"),
    [(UTM_42N, JILAU_42N), (EPSG_4326, [JILAU[2], JILAU[1]]), (CRS84, [JILAU[1], JILAU[2]])],
)
def test_a_point_at_the_served_coordinates_finds_the_deposit(client, demo, crs, point):
    status, document = filtered(client, f"POINT({point[0]} {point[1]})", crs)
    assert status == 200
    assert ids(document) == [public_id(*JILAU)]


def test_an_epsg_4326_box_in_a_filter_is_latitude_first(client, demo):
    min_lon, min_lat, max_lon, max_lat = WEST
    _status, plain = filtered(client, f"BBOX({min_lon},{min_lat},{max_lon},{max_lat})", CRS84)
    status, swapped = filtered(client, f"BBOX({min_lat},{min_lon},{max_lat},{max_lon})", EPSG_4326)
    assert status == 200
    assert ids(swapped) == ids(plain) and public_id(*JILAU) in ids(plain)


def test_a_filter_in_utm_never_counts_hidden_deposits(client, demo):
    box = "400000,4300000,700000,4500000"
    _status, before = filtered(client, f"BBOX({box})", UTM_42N)
    hidden = Deposit.objects.get(public_id=ids(before)[0])
    Deposit.objects.filter(pk=hidden.pk).update(visibility="internal")
    _status, after = filtered(client, f"BBOX({box})", UTM_42N)
    assert ids(after) == [i for i in ids(before) if i != hidden.public_id]
    assert after["numberMatched"] == before["numberMatched"] - 1


@pytest.mark.parametrize("crs", [CRS84, UTM_42N])
def test_a_polygon_reads_only_the_deposits_the_caller_may_see(demo, crs):
    """The keys a polygon's condition carries are found among the caller's deposits (the
    visibility rule's query), so a hidden deposit inside it is not even read."""
    from deposits.ogc import cql2
    from deposits.ogc.crs import SUPPORTED
    from kernel.visibility import ANONYMOUS, STAFF

    jilau = Deposit.objects.get(public_id=public_id(*JILAU))
    east, north = JILAU_42N
    corners = [(east - 5000, north - 5000), (east + 5000, north - 5000)]
    corners += [(east + 5000, north + 5000), (east - 5000, north + 5000), corners[0]]
    if crs == CRS84:
        lon, lat = JILAU[1:]
        corners = [(lon - 0.05, lat - 0.05), (lon + 0.05, lat - 0.05), (lon + 0.05, lat + 0.05)]
        corners += [(lon - 0.05, lat + 0.05), corners[0]]
    ring = ", ".join(f"{x} {y}" for x, y in corners)
    node = cql2.parse(f"S_INTERSECTS(geometry, POLYGON(({ring})))", cql2.TEXT_LANGUAGE)

    def keys(caller) -> list[int]:
        space = cql2.Space(Deposit.objects.visible_to(caller), SUPPORTED[crs])
        pending, found = [cql2.condition(node, space)], []
        while pending:  # the keys of the `pk__in` lookups in the condition's tree
            item = pending.pop()
            if isinstance(item, tuple):
                found += list(item[1]) if item[0] == "pk__in" else []
            else:
                pending += item.children
        return found

    assert jilau.pk in keys(ANONYMOUS)
    Deposit.objects.filter(pk=jilau.pk).update(visibility="internal")
    assert jilau.pk not in keys(ANONYMOUS)
    assert jilau.pk in keys(STAFF)


@pytest.mark.parametrize(
    ("query", "parameter", "reason"),
    [
        ({"filter-crs": UTM_42N}, "filter-crs", "Give it with a filter."),
        (
            {"filter": "S_INTERSECTS(geometry, BBOX(1,2,3,4))", "filter-crs": "EPSG:32642"},
            "filter-crs",
            "Unsupported CRS",
        ),
        (
            {"filter": "S_INTERSECTS(geometry, BBOX(1e12,1e12,2e12,2e12))", "filter-crs": UTM_42N},
            "filter",
            "outside the coordinates of its CRS",
        ),
        (
            {
                "filter": "S_INTERSECTS(geometry, BBOX(700000,4300000,400000,4500000))",
                "filter-crs": UTM_42N,
            },
            "filter",
            "lower corner first",
        ),
        (
            {"filter": "S_INTERSECTS(geometry, LINESTRING(1 2, 3 4))", "filter-crs": UTM_42N},
            "filter",
            "BBOX, a POINT or a POLYGON",
        ),
    ],
)
def test_a_bad_filter_crs_or_geometry_in_it_answers_400(client, db, query, parameter, reason):
    response = client.get(ITEMS, query, HTTP_ACCEPT="application/geo+json")
    assert response.status_code == 400
    body = response.content.decode()
    assert parameter in response.json()["parameters"] and reason in body


# --- pages keep their maps in WGS84


def map_rows(page: str) -> list:
    config = re.search(r'id="ogc-map-config"[^>]*>(.*?)</script>', page, re.S).group(1)
    return json.loads(config)["points"]["deposits"]


def test_a_page_in_utm_shows_utm_coordinates_and_maps_in_wgs84(client, demo):
    jilau = public_id(*JILAU)
    response = client.get(ITEMS, {"crs": UTM_42N, "limit": 10000, "f": "html"})
    assert response.status_code == 200
    assert response["Content-Crs"] == f"<{UTM_42N}>"
    page = response.content.decode()
    assert "389398.19, 4354549.45" in page  # the table shows the document's coordinates
    assert "EPSG:32642</code>" in page  # and names their CRS
    [row] = [row for row in map_rows(page) if row[0] == jilau]
    assert row[2:] == [39.3333, 67.7167]  # the map: latitude, longitude

    one = client.get(f"/ogc/collections/deposits/items/{jilau}", {"crs": UTM_42N, "f": "html"})
    assert one.status_code == 200
    assert "389398.19, 4354549.45 <code" in one.content.decode()
    assert "EPSG:32642</code>" in one.content.decode()
    [row] = map_rows(one.content.decode())
    assert row[2:] == [39.3333, 67.7167]


# --- bad input: a 400 naming the parameter, never a 500


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"crs": "EPSG:32642"}, "crs"),
        ({"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}, "crs"),
        ({"crs": "http://www.opengis.net/def/crs/EPSG/0/32641"}, "crs"),
        ({"crs": "32642"}, "crs"),
        ({"crs": "\x00"}, "crs"),
        ({"crs": "x" * 5000}, "crs"),
        ({"crs": [UTM_42N, UTM_43N]}, "crs"),
        ({"bbox-crs": "urn:ogc:def:crs:EPSG::4326"}, "bbox-crs"),
        ({"bbox-crs": "bogus", "bbox": "1,2,3,4"}, "bbox-crs"),
        ({"bbox-crs": UTM_42N, "bbox": "a,b,c,d"}, "bbox"),
        ({"bbox-crs": UTM_42N, "bbox": "300000,4300000,700000"}, "bbox"),
        ({"bbox-crs": UTM_42N, "bbox": "700000,4300000,300000,4500000"}, "bbox"),
        ({"bbox-crs": UTM_42N, "bbox": "nan,4300000,700000,4500000"}, "bbox"),
        ({"bbox-crs": UTM_42N, "bbox": "300000,4300000,inf,4500000"}, "bbox"),
        ({"bbox-crs": UTM_42N, "bbox": "-1e9,4300000,700000,4500000"}, "bbox"),
        ({"bbox-crs": UTM_43N, "bbox": "1e300,1e300,1e301,1e301"}, "bbox"),
        ({"bbox-crs": EPSG_4326, "bbox": "39,67,100,68"}, "bbox"),
        ({"bbox-crs": EPSG_4326, "bbox": "39,67,40,200"}, "bbox"),
    ],
)
def test_every_bad_crs_answers_400_naming_it(client, db, query, parameter):
    response = client.get(ITEMS, query, HTTP_ACCEPT="application/geo+json")
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "InvalidParameterValue"
    assert parameter in error["parameters"]
    if parameter.endswith("crs") and not isinstance(query[parameter], list):
        message = " ".join(error["parameters"][parameter])
        assert all(uri in message for uri in SUPPORTED)


@pytest.mark.parametrize("value", ["EPSG:4326", "http://www.opengis.net/def/crs/EPSG/0/2263"])
def test_a_bad_crs_on_one_feature_answers_400(client, demo, value):
    jilau = public_id(*JILAU)
    response = client.get(f"/ogc/collections/deposits/items/{jilau}", {"crs": value})
    assert response.status_code == 400
    assert "crs" in response.json()["parameters"]


def test_crs_is_unknown_where_no_coordinates_are_served(client, db):
    response = client.get("/ogc/collections", {"crs": UTM_42N})
    assert response.status_code == 400
    assert "crs" in response.json()["parameters"]
    one = client.get("/ogc/collections/deposits/items/TJD-000001", {"bbox-crs": UTM_42N})
    assert one.status_code == 400
    assert "bbox-crs" in one.json()["parameters"]
