"""The OGC service read by the real clients GIS users have: GDAL (ogrinfo, ogr2ogr, the
engine under QGIS) and OWSLib, against a live server holding the demo registry.

GDAL comes from Debian's gdal-bin (installed by .ci/run), OWSLib from the dev extra.
Without ogrinfo the GDAL tests skip locally and fail in CI (CI=true).
"""

import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from owslib.ogcapi.features import Features

from deposits.models import Deposit
from kernel.models import Visibility
from tests.factories import PartnerOrganisationFactory, issue_api_key

# serialized_rollback: the staff groups made by migrations survive for the tests that follow.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# A page size well below the demo registry's size, so copies must follow `next` links.
PAGE_SIZE = 7


@pytest.fixture
def server(live_server, monkeypatch):
    """The live server's address, reached directly even where a proxy is configured."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return live_server.url


@pytest.fixture
def demo(server, load_demo_registry):
    """The demo registry in the live server's database; returns the server's address."""
    load_demo_registry()
    return server


@pytest.fixture
def ogr():
    """The path of ogrinfo and ogr2ogr; a missing GDAL fails in CI and skips locally."""
    tools = {name: shutil.which(name) for name in ("ogrinfo", "ogr2ogr")}
    if not all(tools.values()):
        reason = "GDAL's ogrinfo/ogr2ogr are missing: install Debian's gdal-bin package"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return tools


def run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def feature_count(ogrinfo_output: str) -> int:
    [count] = re.findall(r"^Feature Count: (\d+)$", ogrinfo_output, re.MULTILINE)
    return int(count)


def get_json(url: str, **headers) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def rest_ids(server: str, key: str | None = None, **filters) -> list[str]:
    """The deposit identifiers the REST API lists for the same filters and caller."""
    headers = {"Authorization": f"Token {key}"} if key else {}
    query = urlencode({**filters, "page_size": 1000}, doseq=True)
    status, document = get_json(f"{server}/api/v1/deposits/?{query}", **headers)
    assert status == 200, document
    assert document["next"] is None
    return [deposit["id"] for deposit in document["results"]]


def test_ogrinfo_reports_as_many_features_as_the_rest_api(demo, ogr):
    output = run(ogr["ogrinfo"], "-ro", "-so", f"OAPIF:{demo}/ogc", "deposits")
    public = len(rest_ids(demo))
    assert public == Deposit.objects.filter(visibility=Visibility.PUBLIC).count() > 0
    assert feature_count(output) == public
    assert "Geometry: Point" in output
    assert "main_minerals: String" in output


def test_ogr2ogr_copies_every_feature_to_a_geopackage_page_by_page(demo, ogr, tmp_path):
    # The service pages as asked: a copy of more than PAGE_SIZE features followed `next`.
    _status, page = get_json(f"{demo}/ogc/collections/deposits/items?limit={PAGE_SIZE}")
    assert page["numberReturned"] == PAGE_SIZE < page["numberMatched"]

    copy = tmp_path / "deposits.gpkg"
    run(
        ogr["ogr2ogr"],
        "-f",
        "GPKG",
        str(copy),
        f"OAPIF:{demo}/ogc",
        "deposits",
        "-oo",
        f"PAGE_SIZE={PAGE_SIZE}",
    )
    output = run(ogr["ogrinfo"], "-ro", "-so", str(copy), "deposits")
    assert feature_count(output) == page["numberMatched"] == len(rest_ids(demo))


def test_gdal_reads_partner_records_with_the_key_in_the_address_or_a_header(demo, ogr):
    partner_only = Deposit.objects.order_by("pk")[:3]
    Deposit.objects.filter(pk__in=[d.pk for d in partner_only]).update(
        visibility=Visibility.PARTNERS
    )
    key = issue_api_key(organisation=PartnerOrganisationFactory())
    public, partner = len(rest_ids(demo)), len(rest_ids(demo, key))
    assert partner == public + 3

    anonymous = run(ogr["ogrinfo"], "-ro", "-so", f"OAPIF:{demo}/ogc", "deposits")
    assert feature_count(anonymous) == public
    in_address = run(ogr["ogrinfo"], "-ro", "-so", f"OAPIF:{demo}/ogc?api_key={key}", "deposits")
    assert feature_count(in_address) == partner
    in_header = run(
        ogr["ogrinfo"],
        "--config",
        "GDAL_HTTP_HEADERS",
        f"Authorization: Token {key}",
        "-ro",
        "-so",
        f"OAPIF:{demo}/ogc",
        "deposits",
    )
    assert feature_count(in_header) == partner


def test_ogr2ogr_with_api_key_follows_pages_and_stays_authenticated(demo, ogr, tmp_path):
    Deposit.objects.filter(pk=Deposit.objects.order_by("pk")[0].pk).update(
        visibility=Visibility.PARTNERS
    )
    key = issue_api_key(organisation=PartnerOrganisationFactory())
    copy = tmp_path / "partner.gpkg"
    run(
        ogr["ogr2ogr"],
        "-f",
        "GPKG",
        str(copy),
        f"OAPIF:{demo}/ogc?api_key={key}",
        "deposits",
        "-oo",
        f"PAGE_SIZE={PAGE_SIZE}",
    )
    output = run(ogr["ogrinfo"], "-ro", "-so", str(copy), "deposits")
    assert feature_count(output) == len(rest_ids(demo, key))


def test_owslib_lists_the_collection_and_reads_what_the_rest_api_lists(demo):
    service = Features(f"{demo}/ogc/")
    assert "deposits" in service.feature_collections()
    assert "deposits-silver" in service.feature_collections()
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
        in service.conformance()["conformsTo"]
    )
    assert service.api()["openapi"].startswith("3.0")
    queryables = service.collection_queryables("deposits")
    assert {"mineral", "region", "status", "critical", "name", "geometry"} <= set(
        queryables["properties"]
    )

    north = [67.3, 38.9, 71.0, 41.1]  # Sughd and the north of the RRS
    items = service.collection_items("deposits", bbox=north, mineral="gold", limit=1000)
    ids = sorted(feature["id"] for feature in items["features"])
    expected = sorted(rest_ids(demo, bbox=",".join(map(str, north)), mineral="gold"))
    assert ids == expected
    assert len(ids) > 1
    assert items["numberMatched"] == len(expected)
    for feature in items["features"]:
        longitude, latitude = feature["geometry"]["coordinates"]
        assert 67.3 <= longitude <= 71.0 and 38.9 <= latitude <= 41.1
        assert "gold" in feature["properties"]["minerals"].split(", ")

    everything = service.collection_items("deposits", limit=1000)
    assert everything["numberReturned"] == len(rest_ids(demo))
    one = service.collection_item("deposits", ids[0])
    assert one["id"] == ids[0]


UTM_42N = "http://www.opengis.net/def/crs/EPSG/0/32642"
UTM_43N = "http://www.opengis.net/def/crs/EPSG/0/32643"


def gdal_open_options(ogrinfo: str, driver: str) -> set[str]:
    output = run(ogrinfo, "--format", driver)
    return set(re.findall(r'<Option name="([A-Z_]+)"', output))


def test_gdal_reads_the_layer_in_utm_with_its_crs_open_option(demo, ogr):
    """GDAL 3.7 and later ask the service for the layer in a CRS it lists (`-oo CRS=`)."""
    if "CRS" not in gdal_open_options(ogr["ogrinfo"], "OAPIF"):
        pytest.skip("this GDAL's OAPIF driver has no CRS open option (GDAL >= 3.7 has)")
    jilau = Deposit.objects.get(name="Jilau").public_id
    output = run(
        ogr["ogrinfo"],
        "-ro",
        "-al",
        "-oo",
        "CRS=EPSG:32642",
        "-where",
        f"id = '{jilau}'",
        f"OAPIF:{demo}/ogc",
        "deposits",
    )
    assert "32642" in output
    assert "POINT (389398.19 4354549.45)" in output  # tests/test_ogc_crs.py, JILAU_42N


def test_utm_features_equal_gdals_own_reprojection_of_the_layer(demo, ogr, tmp_path):
    """The service's UTM 42N coordinates are those GDAL computes itself from the CRS84
    layer (ogr2ogr -t_srs, through the PROJ of Debian's GDAL), to the centimetre."""
    copy = tmp_path / "utm.geojson"
    run(
        ogr["ogr2ogr"],
        "-f",
        "GeoJSON",
        str(copy),
        f"OAPIF:{demo}/ogc",
        "deposits",
        "-t_srs",
        "EPSG:32642",
        "-lco",
        "RFC7946=NO",
    )
    by_gdal = {
        feature["properties"]["id"]: feature["geometry"]
        for feature in json.loads(copy.read_text())["features"]
    }
    status, served = get_json(f"{demo}/ogc/collections/deposits/items?limit=1000&crs={UTM_42N}")
    assert status == 200
    assert len(served["features"]) == len(by_gdal) == len(rest_ids(demo))
    located = 0
    for feature in served["features"]:
        gdal = by_gdal[feature["id"]]
        if feature["geometry"] is None:
            assert gdal is None
            continue
        located += 1
        for ours, theirs in zip(
            feature["geometry"]["coordinates"], gdal["coordinates"], strict=True
        ):
            assert abs(ours - theirs) <= 0.005
    assert located > 10


def test_owslib_reads_features_in_utm_within_a_utm_box(demo):
    service = Features(f"{demo}/ogc/")
    # Around Aqarkhar (GBAO), 388684.23 E 4199171.06 N in UTM 43N (tests/test_ogc_crs.py).
    box = [380000, 4190000, 400000, 4210000]
    items = service.collection_items(
        "deposits", bbox=box, crs=UTM_43N, limit=1000, **{"bbox-crs": UTM_43N}
    )
    aqarkhar = Deposit.objects.get(name="Aqarkhar").public_id
    assert [feature["id"] for feature in items["features"]] == [aqarkhar]
    assert items["features"][0]["geometry"]["coordinates"] == [388684.23, 4199171.06]


def test_owslib_filters_by_a_utm_polygon_with_filter_crs(demo):
    """A polygon drawn in UTM 43N around Aqarkhar, as a GIS engineer draws one on a
    survey map, selects it; the same polygon read as CRS84 coordinates selects nothing."""
    service = Features(f"{demo}/ogc/")
    ring = "380000 4190000, 400000 4190000, 400000 4210000, 380000 4210000, 380000 4190000"
    polygon = f"S_INTERSECTS(geometry, POLYGON(({ring})))"
    items = service.collection_items(
        "deposits", filter=polygon, crs=UTM_43N, limit=1000, **{"filter-crs": UTM_43N}
    )
    aqarkhar = Deposit.objects.get(name="Aqarkhar").public_id
    assert [feature["id"] for feature in items["features"]] == [aqarkhar]
    assert items["features"][0]["geometry"]["coordinates"] == [388684.23, 4199171.06]


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=many",
        "offset=-1",
        "bbox=67,38,71",
        "bbox=71,38,67,41",
        "datetime=soon",
        "datetime=2025-02-01/2025-01-01",
        "mineral=unobtainium",
        "region=TJ-XX",
        "status=abandoned",
        "critical=perhaps",
        "sortby=colour",
        "filter=colour%3D'red'",
        "filter-lang=cql-text",
        "properties=colour",
        "f=xml",
        "crs=EPSG:32642",
        "bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857",
        "filter-crs=http://www.opengis.net/def/crs/EPSG/0/32643",
    ],
)
def test_every_bad_parameter_answers_400_with_a_json_error(server, query):
    status, error = get_json(f"{server}/ogc/collections/deposits/items?{query}")
    assert status == 400
    assert error["code"] == "InvalidParameterValue"
    assert query.split("=")[0] in error["parameters"]


def items_matched(server: str, **params) -> int:
    status, document = get_json(f"{server}/ogc/collections/deposits/items?{urlencode(params)}")
    assert status == 200, document
    return document["numberMatched"]


@pytest.mark.parametrize(
    ("where", "rest"),
    [
        ("region = 'TJ-SU' AND status = 'producing'", {"region": "TJ-SU", "status": "producing"}),
        ("name LIKE 'K%' OR critical = 1", None),
    ],
)
def test_ogrinfo_where_selects_what_the_filter_and_the_rest_api_select(demo, ogr, where, rest):
    command = [ogr["ogrinfo"], "--debug", "on", "-ro", "-so", "-where", where]
    result = subprocess.run(
        [*command, f"OAPIF:{demo}/ogc", "deposits"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    cql = where.replace("critical = 1", "critical = true")
    matched = items_matched(demo, filter=cql)
    assert feature_count(result.stdout) == matched > 0
    if rest is not None:
        assert matched == len(rest_ids(demo, **rest))
        # GDAL sends the equalities to the server (as the queryables' parameters, or as a
        # CQL2 filter where it speaks CQL2) rather than reading every deposit.
        fetched = [line for line in result.stderr.splitlines() if "HTTP: Fetch(" in line]
        assert any("region=TJ-SU" in line or "filter=" in line for line in fetched), fetched


def test_owslib_filters_and_sorts_on_the_server(demo):
    service = Features(f"{demo}/ogc/")
    north = [67.3, 38.9, 71.0, 41.1]
    box = ", ".join(map(str, north))
    items = service.collection_items(
        "deposits",
        filter=f"mineral = 'gold' AND S_INTERSECTS(geometry, BBOX({box}))",
        sortby=("name", "desc"),
        limit=1000,
    )
    expected = rest_ids(demo, bbox=",".join(map(str, north)), mineral="gold", ordering="-name")
    assert [feature["id"] for feature in items["features"]] == expected
    assert len(expected) > 1
    names = [feature["properties"]["name"] for feature in items["features"]]
    assert names == sorted(names, reverse=True)
