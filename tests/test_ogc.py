"""The OGC API - Features service under /ogc/: documents, media types, links, paging,
filters, errors and visibility, read with Django's test client."""

import datetime
import logging
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.validation import validate_schema

from deposits.models import Deposit, DepositCommodity
from kernel.models import ApiKey, Visibility
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MineralFactory,
    RegionFactory,
    issue_api_key,
)

pytestmark = pytest.mark.django_db

OGC = "/ogc/"
ITEMS = "/ogc/collections/deposits/items"
JSON = "application/json"
GEOJSON = "application/geo+json"
CONFORMANCE = {
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting",
}


def at(day: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T12:00:00+00:00")


@pytest.fixture
def registry(db):
    """Five deposits: three public (one without coordinates), one for partners, one internal."""
    silver = MineralFactory()
    gold = MineralFactory(code="gold", symbol="Au", name="Gold")
    antimony = MineralFactory(
        code="antimony", symbol="Sb", name="Antimony", group="rare", critical_lists=["US-2022"]
    )
    lead = MineralFactory(code="lead", symbol="Pb", name="Lead", group="base")
    khatlon = RegionFactory(code="TJ-KT", name="Khatlon")

    konimansur = DepositFactory(
        name="Konimansuri Kalon",
        aliases=["Konimansur", "Большой Конимансур"],
        latitude=Decimal("40.451"),
        longitude=Decimal("69.797"),
    )
    CommodityFactory(
        deposit=konimansur,
        mineral=silver,
        reported_share_pct=Decimal("70"),
        reported_share_source="Ministry of Industry, 2023",
    )
    CommodityFactory(deposit=konimansur, mineral=lead, role=DepositCommodity.Role.ASSOCIATED)
    pakrut = DepositFactory(
        name="Pakrut",
        region=khatlon,
        status=Deposit.Status.PRODUCING,
        latitude=Decimal("38.9"),
        longitude=Decimal("69.3"),
    )
    CommodityFactory(deposit=pakrut, mineral=gold)
    dzhizhikrut = DepositFactory(name="Dzhizhikrut", status=Deposit.Status.PROSPECT)
    CommodityFactory(deposit=dzhizhikrut, mineral=antimony)
    hidden_gold = DepositFactory(
        name="Partner gold",
        visibility=Visibility.PARTNERS,
        latitude=Decimal("39.0"),
        longitude=Decimal("70.0"),
    )
    CommodityFactory(deposit=hidden_gold, mineral=gold)
    internal = DepositFactory(name="Internal antimony", visibility=Visibility.INTERNAL)
    CommodityFactory(deposit=internal, mineral=antimony)

    dates = {
        konimansur: "2024-06-01",
        pakrut: "2025-01-01",
        dzhizhikrut: "2025-03-15",
        hidden_gold: "2025-01-01",
        internal: "2025-01-01",
    }
    for deposit, day in dates.items():
        Deposit.objects.filter(pk=deposit.pk).update(updated_at=at(day))
        deposit.refresh_from_db()
    return {
        "konimansur": konimansur,
        "pakrut": pakrut,
        "dzhizhikrut": dzhizhikrut,
        "partner": hidden_gold,
        "internal": internal,
    }


@pytest.fixture
def partner_key(partner_org):
    return issue_api_key(organisation=partner_org)


@pytest.fixture
def staff_key(editor):
    return issue_api_key(user=editor)


def get(client, url, **params):
    return client.get(url, params)


def names(response) -> list[str]:
    return [f["properties"]["name"] for f in response.json()["features"]]


def link(document, rel) -> dict:
    [found] = [item for item in document["links"] if item["rel"] == rel]
    return found


def query_of(href: str) -> dict:
    return parse_qs(urlsplit(href).query)


# --- landing page, conformance, service description ----------------------------------


def test_landing_page_links_each_resource_with_its_type(client):
    response = client.get(OGC)
    assert response.status_code == 200
    assert response["Content-Type"] == JSON
    document = response.json()
    types = sorted((item["rel"], item["type"]) for item in document["links"])
    assert types == [
        ("alternate", "text/html"),
        ("conformance", JSON),
        ("data", JSON),
        ("self", JSON),
        ("service-desc", "application/vnd.oai.openapi+json;version=3.0"),
        ("service-doc", "text/html"),
        ("service-doc", "text/html"),
    ]
    assert link(document, "data")["href"] == "http://testserver/ogc/collections"
    assert link(document, "alternate")["href"] == "http://testserver/ogc/?f=html"


def test_the_address_without_slash_leads_to_the_landing_page(client):
    response = client.get("/ogc")
    assert response.status_code == 301
    assert response["Location"] == "/ogc/"


def test_conformance_lists_exactly_the_classes_met(client):
    response = client.get("/ogc/conformance")
    assert response["Content-Type"] == JSON
    conforms_to = response.json()["conformsTo"]
    assert set(conforms_to) == CONFORMANCE
    assert len(conforms_to) == len(CONFORMANCE)


def test_service_description_is_valid_openapi_3_0(client):
    service_desc = link(client.get(OGC).json(), "service-desc")["href"]
    response = client.get(service_desc)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    document = response.json()
    validate_schema(document)
    assert document["openapi"].startswith("3.0")
    assert "/collections/{collectionId}/items" in document["paths"]
    parameters = document["components"]["parameters"]
    assert {"limit", "offset", "bbox", "datetime", "mineral", "region", "status"} <= set(parameters)
    assert parameters["limit"]["schema"]["maximum"] == 10_000


def test_service_docs_are_the_guide_and_the_operations_page(client):
    docs = [item for item in client.get(OGC).json()["links"] if item["rel"] == "service-doc"]
    assert [d["href"] for d in docs] == [
        "http://testserver/ogc/api?f=html",
        "http://testserver/docs/ogc/",
    ]
    operations, guide = (client.get(d["href"]) for d in docs)
    assert operations.status_code == guide.status_code == 200
    assert operations["Content-Type"].startswith("text/html")
    assert "/collections/{collectionId}/items" in operations.content.decode()
    assert "Add WFS / OGC API" in guide.content.decode()


def test_the_former_service_page_leads_to_the_operations_page(client):
    response = client.get("/ogc/api.html")
    assert response.status_code == 301
    assert response["Location"] == "/ogc/api?f=html"


# --- collections --------------------------------------------------------------------


def test_collections_list_all_deposits_then_each_mineral_with_visible_deposits(client, registry):
    response = client.get("/ogc/collections")
    assert response["Content-Type"] == JSON
    collections = response.json()["collections"]
    # gold is visible through Pakrut; the partner and internal deposits add nothing.
    assert [c["id"] for c in collections] == [
        "deposits",
        "deposits-antimony",
        "deposits-gold",
        "deposits-lead",
        "deposits-silver",
    ]
    for collection in collections:
        assert collection["itemType"] == "feature"
        items = {
            item["type"]: item["href"] for item in collection["links"] if item["rel"] == "items"
        }
        url = f"http://testserver/ogc/collections/{collection['id']}/items"
        assert items == {GEOJSON: url, "text/html": f"{url}?f=html"}
        queryables = link(collection, "http://www.opengis.net/def/rel/ogc/1.0/queryables")
        assert queryables["type"] == "application/schema+json"


def test_collection_extent_is_the_crs84_bbox_of_the_visible_located_deposits(client, registry):
    response = client.get("/ogc/collections/deposits")
    assert response.status_code == 200
    document = response.json()
    assert document["title"] and document["description"]
    spatial = document["extent"]["spatial"]
    assert spatial["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    # Konimansur and Pakrut; the partner deposit at (70.0, 39.0) is hidden from anonymous.
    assert spatial["bbox"] == [[69.3, 38.9, 69.797, 40.451]]
    assert document["extent"]["temporal"]["interval"] == [
        ["2024-06-01T12:00:00Z", "2025-03-15T12:00:00Z"]
    ]


def test_collection_of_one_mineral(client, registry):
    document = client.get("/ogc/collections/deposits-gold").json()
    assert document["id"] == "deposits-gold"
    assert document["extent"]["spatial"]["bbox"] == [[69.3, 38.9, 69.3, 38.9]]
    assert names(client.get("/ogc/collections/deposits-gold/items")) == ["Pakrut"]


def test_unknown_collection_is_a_404_in_json(client, registry):
    for url in ("/ogc/collections/minerals", "/ogc/collections/deposits-unobtainium/items"):
        response = client.get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == JSON
        assert response.json()["code"] == "NotFound"


def test_unknown_path_under_ogc_is_a_404_in_json(client):
    response = client.get("/ogc/collections/deposits/tiles")
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


# --- items --------------------------------------------------------------------------


def test_items_are_a_geojson_feature_collection_in_crs84(client, registry):
    response = client.get(ITEMS)
    assert response.status_code == 200
    assert response["Content-Type"] == GEOJSON
    document = response.json()
    assert document["type"] == "FeatureCollection"
    assert document["numberMatched"] == 3
    assert document["numberReturned"] == 3
    assert document["timeStamp"].endswith("Z")
    datetime.datetime.fromisoformat(document["timeStamp"])
    by_name = {f["properties"]["name"]: f for f in document["features"]}
    assert list(by_name) == ["Dzhizhikrut", "Konimansuri Kalon", "Pakrut"]  # by name
    konimansur = by_name["Konimansuri Kalon"]
    assert konimansur["id"] == registry["konimansur"].public_id
    assert konimansur["geometry"] == {"type": "Point", "coordinates": [69.797, 40.451]}
    # A deposit without coordinates is served with a null geometry (counts match the API).
    assert by_name["Dzhizhikrut"]["geometry"] is None


def test_feature_properties_are_flat_for_a_gis_attribute_table(client, registry):
    feature = client.get(f"{ITEMS}?mineral=silver").json()["features"][0]
    properties = feature["properties"]
    assert all(not isinstance(v, list | dict) for v in properties.values())
    assert properties["name"] == "Konimansuri Kalon"
    assert properties["aliases"] == "Konimansur; Большой Конимансур"
    assert properties["region"] == "TJ-SU"
    assert properties["minerals"] == "silver, lead"
    assert properties["main_minerals"] == "silver"
    assert properties["associated_minerals"] == "lead"
    assert properties["main_mineral"] == "silver"
    assert properties["main_share_pct"] == 70.0
    assert properties["main_share_basis"] == "reported"
    assert properties["reserve_shares"] == "silver 70.00% (reported)"
    assert properties["critical"] is False
    assert properties["url"] == f"http://testserver/deposits/{feature['id']}/"
    assert properties["updated_at"] == "2024-06-01T12:00:00Z"


def test_features_of_a_mineral_collection_carry_that_minerals_share(client, registry):
    feature = client.get("/ogc/collections/deposits-silver/items").json()["features"][0]
    assert feature["properties"]["share_pct"] == 70.0
    assert feature["properties"]["share_basis"] == "reported"
    lead = client.get("/ogc/collections/deposits-lead/items").json()["features"][0]
    assert lead["properties"]["share_pct"] is None


def test_feature_count_equals_the_rest_apis_count(client, api_client, registry):
    api_count = api_client.get("/api/v1/deposits/").json()["count"]
    assert client.get(ITEMS).json()["numberMatched"] == api_count == 3


# --- paging -------------------------------------------------------------------------


def test_next_links_walk_every_page_keeping_the_filters(client, registry):
    href = f"http://testserver{ITEMS}?limit=1&status=explored,prospect,producing"
    seen, pages = [], 0
    while href:
        document = client.get(href).json()
        pages += 1
        seen += [f["id"] for f in document["features"]]
        assert document["numberMatched"] == 3
        assert document["numberReturned"] == len(document["features"]) == 1
        assert all(item["type"] for item in document["links"])
        following = [item for item in document["links"] if item["rel"] == "next"]
        if following:
            assert following[0]["type"] == GEOJSON
            assert query_of(following[0]["href"])["status"] == ["explored,prospect,producing"]
        href = following[0]["href"] if following else None
    assert pages == 3
    assert len(set(seen)) == 3


def test_prev_link_goes_back_one_page(client, registry):
    document = client.get(ITEMS, {"limit": 1, "offset": 2, "region": "TJ-SU"}).json()
    assert document["numberMatched"] == 2
    assert document["numberReturned"] == 0  # past the end: an empty page, not an error
    prev = link(document, "prev")
    assert prev["type"] == GEOJSON
    assert query_of(prev["href"]) == {"limit": ["1"], "offset": ["1"], "region": ["TJ-SU"]}
    assert not [item for item in document["links"] if item["rel"] == "next"]
    first = client.get(ITEMS, {"limit": 1}).json()
    assert not [item for item in first["links"] if item["rel"] == "prev"]
    assert link(first, "self")["type"] == GEOJSON


@pytest.mark.parametrize("offset", [2, 2**63, 10**30])
def test_an_offset_past_the_end_is_an_empty_page(client, registry, offset):
    """Even past the range of SQL's integers: an empty page, not a server error."""
    response = client.get(ITEMS, {"limit": 1, "offset": offset, "region": "TJ-SU"})
    assert response.status_code == 200
    document = response.json()
    assert (document["numberMatched"], document["numberReturned"]) == (2, 0)
    assert document["features"] == []
    assert query_of(link(document, "self")["href"])["offset"] == [str(offset)]


def test_limit_defaults_to_100_and_a_larger_limit_than_10000_is_clamped(client, registry):
    default = client.get(ITEMS, {"offset": 1}).json()
    assert query_of(link(default, "self")["href"])["limit"] == ["100"]
    clamped = client.get(ITEMS, {"limit": 50_000, "offset": 1})
    assert clamped.status_code == 200
    assert query_of(link(clamped.json(), "prev")["href"])["limit"] == ["10000"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "ten"},
        {"limit": "-5"},
        {"offset": "-1"},
        {"offset": "1.5"},
        {"bbox": "69,38,70"},
        {"bbox": "69,38,west,41"},
        {"bbox": "70,38,69,41"},
        {"bbox": "69,-91,70,41"},
        {"datetime": "yesterday"},
        {"datetime": "2025-13-01"},
        {"datetime": "2025-01-01T00:00:00"},  # no time zone
        {"datetime": "2025-02-01/2025-01-01"},
        {"datetime": "2025-01-01/2025-02-01/2025-03-01"},
        {"mineral": "unobtainium"},
        {"region": "TJ-XX"},
        {"status": "abandoned"},
        {"critical": "maybe"},
        {"f": "xml"},
        {"sortby": "colour"},
        {"filter": "colour='red'"},
        {"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3857"},  # not supported
        {"format": "csv"},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()),
)
def test_a_bad_or_unknown_parameter_is_a_400_naming_it(client, registry, params):
    response = client.get(ITEMS, params)
    assert response.status_code == 400
    assert response["Content-Type"] == JSON
    error = response.json()
    assert error["code"] == "InvalidParameterValue"
    [name] = params
    assert list(error["parameters"]) == [name]
    assert name in error["description"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"datetime": "0001-01-01"}, 200),
        ({"datetime": "0001-01-01T00:00:00+14:00/.."}, 200),
        ({"datetime": "../9999-12-31T23:59:59-12:00"}, 200),
        ({"datetime": "9999-12-31"}, 200),
        ({"datetime": "10000-01-01"}, 400),
        ({"datetime": "9" * 5000}, 400),
        ({"bbox": "1e-999999999,0,1,1"}, 200),
        ({"bbox": "1e999999999,0,1,1"}, 400),
        ({"bbox": "NaN,0,1,1"}, 400),
        ({"limit": "99999999999999999999999999"}, 200),
        ({"limit": "1e3"}, 400),
        ({"offset": "99999999999999999999999999"}, 200),
        ({"offset": "１"}, 400),
    ],
    ids=lambda p: "&".join(f"{k}={v[:30]}" for k, v in p.items()) if isinstance(p, dict) else p,
)
def test_parameters_at_their_limits_are_read_by_the_shared_rule(client, registry, params, status):
    response = client.get(ITEMS, params)
    assert response.status_code == status, response.content[:300]
    if status == 400:
        assert list(response.json()["parameters"]) == list(params)


def test_a_parameter_given_twice_is_a_400_unless_it_is_a_list(client, registry):
    response = client.get(f"{ITEMS}?limit=1&limit=2")
    assert response.status_code == 400
    assert list(response.json()["parameters"]) == ["limit"]
    assert names(client.get(f"{ITEMS}?mineral=silver&mineral=gold")) == [
        "Konimansuri Kalon",
        "Pakrut",
    ]


def test_other_endpoints_refuse_unknown_parameters_too(client, registry):
    for url in (OGC, "/ogc/conformance", "/ogc/collections", "/ogc/collections/deposits"):
        assert client.get(url, {"foo": "1"}).status_code == 400
        assert client.get(url, {"f": "json"}).status_code == 200


# --- filters ------------------------------------------------------------------------


def test_bbox_is_longitude_first_and_excludes_deposits_without_coordinates(client, registry):
    assert names(client.get(ITEMS, {"bbox": "69.7,40.4,69.8,40.5"})) == ["Konimansuri Kalon"]
    assert names(client.get(ITEMS, {"bbox": "40.4,69.7,40.5,69.8"})) == []  # latitude first
    assert names(client.get(ITEMS, {"bbox": "67,36,76,42"})) == ["Konimansuri Kalon", "Pakrut"]
    # Six numbers (with heights) are accepted; the heights are ignored.
    assert names(client.get(ITEMS, {"bbox": "69.2,38.8,0,69.4,39,100"})) == ["Pakrut"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-01T12:00:00Z", ["Konimansuri Kalon"]),
        ("2024-06-01T12:00:01Z", []),
        ("2025-01-01", ["Pakrut"]),
        ("2024-06-01/2025-01-01", ["Konimansuri Kalon", "Pakrut"]),
        ("../2025-01-01", ["Konimansuri Kalon", "Pakrut"]),
        ("/2024-12-31", ["Konimansuri Kalon"]),
        ("2025-01-01T12:00:00Z/..", ["Dzhizhikrut", "Pakrut"]),
        ("2025-01-02/", ["Dzhizhikrut"]),
        ("2025-01-01T17:00:00+05:00/2025-01-01T17:00:00+05:00", ["Pakrut"]),
        ("../..", ["Dzhizhikrut", "Konimansuri Kalon", "Pakrut"]),
    ],
)
def test_datetime_filters_on_the_last_change(client, registry, value, expected):
    response = client.get(ITEMS, {"datetime": value})
    assert response.status_code == 200, response.json()
    assert names(response) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"mineral": "silver"}, ["Konimansuri Kalon"]),
        ({"mineral": "lead"}, ["Konimansuri Kalon"]),  # associated minerals count
        ({"mineral": "silver,gold"}, ["Konimansuri Kalon", "Pakrut"]),
        ({"region": "TJ-KT"}, ["Pakrut"]),
        ({"region": "TJ-SU,TJ-KT"}, ["Dzhizhikrut", "Konimansuri Kalon", "Pakrut"]),
        ({"status": "producing"}, ["Pakrut"]),
        ({"status": "prospect,explored"}, ["Dzhizhikrut", "Konimansuri Kalon"]),
        ({"critical": "true"}, ["Dzhizhikrut"]),
        ({"critical": "false"}, ["Konimansuri Kalon", "Pakrut"]),
        ({"mineral": "gold", "region": "TJ-SU"}, []),  # AND across parameters
    ],
)
def test_each_queryable_is_a_query_parameter(client, registry, params, expected):
    assert names(client.get(ITEMS, params)) == expected


def test_empty_queryables_filter_nothing(client, registry):
    params = {"mineral": "", "region": ",", "status": " ", "critical": "", "bbox": ""}
    assert names(client.get(ITEMS, params)) == ["Dzhizhikrut", "Konimansuri Kalon", "Pakrut"]


def test_queryables_are_a_json_schema_of_the_filters(client, registry):
    response = client.get("/ogc/collections/deposits/queryables")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/schema+json"
    schema = response.json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "http://testserver/ogc/collections/deposits/queryables"
    assert schema["type"] == "object"
    properties = schema["properties"]
    assert list(properties) == [
        *("name", "region", "district", "status", "deposit_type", "mineral", "critical"),
        *("created_at", "updated_at", "geometry"),
    ]
    assert properties["mineral"]["enum"] == ["antimony", "gold", "lead", "silver"]
    assert properties["critical"]["type"] == "boolean"
    assert "producing" in properties["status"]["enum"]


# --- one feature --------------------------------------------------------------------


def test_a_feature_has_its_id_and_links(client, registry):
    public_id = registry["pakrut"].public_id
    response = client.get(f"{ITEMS}/{public_id}")
    assert response.status_code == 200
    assert response["Content-Type"] == GEOJSON
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["id"] == public_id
    assert feature["geometry"]["coordinates"] == [69.3, 38.9]
    self_link = link(feature, "self")
    assert self_link == {
        "rel": "self",
        "type": GEOJSON,
        "title": self_link["title"],
        "href": f"http://testserver{ITEMS}/{public_id}",
    }
    alternates = {
        item["href"]: item["type"] for item in feature["links"] if item["rel"] == "alternate"
    }
    assert alternates == {
        f"http://testserver{ITEMS}/{public_id}?f=html": "text/html",  # this feature as a page
        f"http://testserver/deposits/{public_id}/": "text/html",  # the deposit's own page
    }
    assert link(feature, "collection")["href"] == "http://testserver/ogc/collections/deposits"


def test_a_feature_outside_its_collection_or_unknown_is_a_404(client, registry):
    pakrut = registry["pakrut"].public_id
    assert client.get(f"/ogc/collections/deposits-gold/items/{pakrut}").status_code == 200
    assert client.get(f"/ogc/collections/deposits-silver/items/{pakrut}").status_code == 404
    response = client.get(f"{ITEMS}/TJD-999999")
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


# --- visibility and keys --------------------------------------------------------------


def test_hidden_records_answer_404_to_anonymous_callers(client, registry):
    for name in ("partner", "internal"):
        response = client.get(f"{ITEMS}/{registry[name].public_id}")
        assert response.status_code == 404


def test_a_partner_key_in_the_header_shows_partner_records(client, registry, partner_key):
    auth = {"HTTP_AUTHORIZATION": f"Token {partner_key}"}
    document = client.get(ITEMS, {"limit": 1}, **auth).json()
    assert document["numberMatched"] == 4
    # The key came in a header: no link repeats it.
    assert partner_key not in str(document)
    partner = registry["partner"].public_id
    assert client.get(f"{ITEMS}/{partner}", **auth).status_code == 200
    assert client.get(f"{ITEMS}/{registry['internal'].public_id}", **auth).status_code == 404
    extent = client.get("/ogc/collections/deposits", **auth).json()["extent"]["spatial"]
    assert extent["bbox"] == [[69.3, 38.9, 70.0, 40.451]]


def test_a_partner_key_as_api_key_shows_partner_records_and_links_carry_it(
    client, registry, partner_key
):
    document = client.get(ITEMS, {"limit": 1, "api_key": partner_key}).json()
    assert document["numberMatched"] == 4
    following = link(document, "next")["href"]
    assert query_of(following)["api_key"] == [partner_key]
    assert client.get(following).json()["numberMatched"] == 4
    landing = client.get(OGC, {"api_key": partner_key}).json()
    assert query_of(link(landing, "data")["href"])["api_key"] == [partner_key]
    partner = registry["partner"].public_id
    assert client.get(f"{ITEMS}/{partner}", {"api_key": partner_key}).status_code == 200


def test_a_staff_key_shows_every_record(client, registry, staff_key):
    document = client.get(ITEMS, HTTP_AUTHORIZATION=f"Token {staff_key}").json()
    assert document["numberMatched"] == 5
    visibility = {
        f["properties"]["name"]: f["properties"]["visibility"] for f in document["features"]
    }
    assert visibility["Internal antimony"] == "internal"


@pytest.mark.parametrize("where", ["header", "parameter"])
def test_an_invalid_or_revoked_key_is_a_401_in_json(client, registry, partner_key, where):
    ApiKey.objects.find(partner_key).revoke()
    for key in ("not-a-key", partner_key):
        if where == "header":
            response = client.get(ITEMS, HTTP_AUTHORIZATION=f"Token {key}")
        else:
            response = client.get(ITEMS, {"api_key": key})
        assert response.status_code == 401
        assert response["Content-Type"] == JSON
        error = response.json()
        assert error["code"] == "InvalidApiKey"
        assert key not in str(error)


def test_the_header_wins_over_api_key(client, registry, partner_key):
    response = client.get(
        ITEMS, {"api_key": "not-a-key"}, HTTP_AUTHORIZATION=f"Token {partner_key}"
    )
    assert response.json()["numberMatched"] == 4
    assert "api_key" not in str(response.json()["links"])


def test_the_api_key_never_reaches_the_logs(client, registry, partner_key, caplog):
    caplog.set_level(logging.DEBUG)
    client.get(ITEMS, {"api_key": partner_key, "limit": 1})
    client.get(ITEMS, {"api_key": partner_key, "limit": "x"})  # 400, logged as a warning
    client.get(f"{ITEMS}/TJD-999999", {"api_key": partner_key})  # 404
    ApiKey.objects.find(partner_key).revoke()
    client.get(ITEMS, {"api_key": partner_key})  # 401
    assert caplog.records  # Django logged the failed requests...
    for record in caplog.records:  # ...without the key
        assert partner_key not in record.getMessage()
        assert partner_key not in str(record.args)


# --- queries ------------------------------------------------------------------------


# The count, the page's keys, its rows, their minerals with their shares.
PAGE_QUERIES = 4


@pytest.mark.parametrize("limit", [1, 3, 100])
def test_an_items_page_takes_a_fixed_number_of_queries(
    client, registry, limit, django_assert_num_queries
):
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(ITEMS, {"limit": limit})
    assert response.json()["numberReturned"] == min(limit, 3)


def test_the_page_reads_its_rows_by_their_keys(client, registry, partner_key):
    """The page's keys are chosen under the caller's visibility and the filters; its rows
    are then read by those keys, given as values (the database looks each up by its
    index rather than test every deposit against a subquery)."""
    params = {"api_key": partner_key, "status": "producing", "limit": 2}
    with CaptureQueriesContext(connection) as read:
        response = client.get(ITEMS, params)
    assert names(response) == ["Pakrut"]
    pakrut = Deposit.objects.get(name="Pakrut").pk
    page = next(q["sql"] for q in read if 'AS "public_id"' in q["sql"])
    assert re.search(rf'"deposits_deposit"\."id" IN \({pakrut}\)', page), page


def test_queries_with_a_partner_key_and_every_filter(
    client, registry, partner_key, django_assert_num_queries
):
    params = {
        "api_key": partner_key,
        "mineral": "gold",
        "region": "TJ-KT,TJ-SU",
        "status": "producing",
        "critical": "false",
        "bbox": "67,36,76,42",
        "datetime": "2025-01-01/..",
    }
    # the key and its first-use stamp; the mineral and region codes of the filter form;
    # what the key's clauses open, summed once for the shares; then those of any page
    with django_assert_num_queries(5 + PAGE_QUERIES):
        response = client.get(ITEMS, params)
    assert names(response) == ["Pakrut"]
