"""CQL2 `filter`, `sortby` and `properties` of the OGC items (OGC API - Features Parts 3
and 8), read with Django's test client against the demo registry: each filter selects
what the REST API's filters select for the same caller (or, where the API has no such
filter, the demo deposits the condition names), and every bad value is a 400 naming its
parameter."""

import datetime
import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import shapely.geometry

from deposits.models import Deposit
from kernel.models import Visibility
from tests.factories import DepositFactory, issue_api_key

pytestmark = pytest.mark.django_db

ITEMS = "/ogc/collections/deposits/items"
NORTH = "67.3,38.9,71.0,41.1"  # Sughd and the north of the RRS


@pytest.fixture
def demo(demo_for_module, db):
    """The demo registry, loaded once for the module (tests/conftest.py)."""


def items(client, **params) -> dict:
    response = client.get(ITEMS, {"limit": 10000, **params})
    assert response.status_code == 200, response.content
    return response.json()


def ids(client, **params) -> list[str]:
    return sorted(f["id"] for f in items(client, **params)["features"])


def rest_ids(api_client, **params) -> list[str]:
    query = urlencode({**params, "page_size": 1000}, doseq=True)
    response = api_client.get(f"/api/v1/deposits/?{query}")
    assert response.status_code == 200, response.content
    document = response.json()
    assert document["next"] is None
    return sorted(d["id"] for d in document["results"])


def public(**lookups) -> list[str]:
    deposits = Deposit.objects.filter(visibility=Visibility.PUBLIC, **lookups)
    return sorted(deposits.values_list("public_id", flat=True))


# --- the filter selects what the REST API selects ----------------------------------------


@pytest.mark.parametrize(
    ("cql", "rest"),
    [
        ("region = 'TJ-SU'", {"region": "TJ-SU"}),
        ("region = 'TJ-SU' OR region = 'TJ-KT'", {"region": ["TJ-SU", "TJ-KT"]}),
        ("status IN ('producing', 'explored')", {"status": ["producing", "explored"]}),
        ("mineral = 'gold'", {"mineral": "gold"}),
        ("mineral IN ('gold', 'silver')", {"mineral": ["gold", "silver"]}),
        ("mineral = 'gold' AND region = 'TJ-SU'", {"mineral": "gold", "region": "TJ-SU"}),
        ("critical = true", {"critical": "true"}),
        ("NOT (critical = true)", {"critical": "false"}),
        ("deposit_type = 'Igneous'", {"deposit_type": "Igneous"}),
        (f"S_INTERSECTS(geometry, BBOX({NORTH}))", {"bbox": NORTH}),
        (
            f"S_WITHIN(geometry, BBOX({NORTH})) AND mineral = 'gold'",
            {"bbox": NORTH, "mineral": "gold"},
        ),
        (
            "updated_at >= TIMESTAMP('2000-01-01T00:00:00Z')",
            {"updated_since": "2000-01-01T00:00:00Z"},
        ),
    ],
)
def test_a_filter_selects_what_the_rest_api_selects(client, api_client, demo, cql, rest):
    expected = rest_ids(api_client, **rest)
    assert expected
    assert ids(client, filter=cql) == expected


@pytest.mark.parametrize(
    ("text", "as_json"),
    [
        ("region = 'TJ-SU'", {"op": "=", "args": [{"property": "region"}, "TJ-SU"]}),
        ("name LIKE 'K%'", {"op": "like", "args": [{"property": "name"}, "K%"]}),
        (
            "status IN ('producing', 'explored')",
            {"op": "in", "args": [{"property": "status"}, ["producing", "explored"]]},
        ),
        (
            "name BETWEEN 'A' AND 'Czz'",
            {"op": "between", "args": [{"property": "name"}, "A", "Czz"]},
        ),
        (
            f"S_INTERSECTS(geometry, BBOX({NORTH}))",
            {
                "op": "s_intersects",
                "args": [{"property": "geometry"}, {"bbox": [67.3, 38.9, 71.0, 41.1]}],
            },
        ),
        (
            "NOT (critical = true) AND (region = 'TJ-KT' OR district IS NULL)",
            {
                "op": "and",
                "args": [
                    {"op": "not", "args": [{"op": "=", "args": [{"property": "critical"}, True]}]},
                    {
                        "op": "or",
                        "args": [
                            {"op": "=", "args": [{"property": "region"}, "TJ-KT"]},
                            {"op": "isNull", "args": [{"property": "district"}]},
                        ],
                    },
                ],
            },
        ),
        (
            "CASEI(name) LIKE CASEI('k%')",
            {"op": "like", "args": [{"op": "casei", "args": [{"property": "name"}]}, "k%"]},
        ),
    ],
)
def test_cql2_json_selects_what_the_same_cql2_text_selects(client, demo, text, as_json):
    selected = ids(client, filter=text)
    assert selected
    assert ids(client, filter=json.dumps(as_json), **{"filter-lang": "cql2-json"}) == selected


def test_like_matches_percent_and_underscore(client, demo):
    names = dict(Deposit.objects.values_list("public_id", "name"))

    def matching(pattern: str, flags=0) -> list[str]:
        return sorted(pk for pk, name in names.items() if re.fullmatch(pattern, name, flags))

    assert ids(client, filter="name LIKE 'K%'") == matching("K.*") != []
    assert ids(client, filter="name LIKE '_a%'") == matching(".a.*") != []
    assert ids(client, filter="name LIKE '%salt'") == matching(".*salt") != []
    assert ids(client, filter="name NOT LIKE 'K%'") == sorted(set(names) - set(matching("K.*")))
    # LIKE tells case; CASEI does not.
    assert ids(client, filter="name LIKE 'k%'") == []
    assert ids(client, filter="CASEI(name) LIKE CASEI('k%')") == matching("K.*")
    assert ids(client, filter="CASEI(name) = CASEI('PAKRUT')") == public(name="Pakrut")


def test_between_and_comparisons_on_the_last_change(client, demo):
    first, second, third = Deposit.objects.order_by("pk")[:3]
    for deposit, day in ((first, "2024-06-01"), (second, "2025-01-01"), (third, "2025-03-15")):
        moment = datetime.datetime.fromisoformat(f"{day}T12:00:00+00:00")
        Deposit.objects.filter(pk=deposit.pk).update(updated_at=moment)
    assert ids(
        client, filter="updated_at BETWEEN DATE('2024-01-01') AND DATE('2025-01-01')"
    ) == sorted([first.public_id, second.public_id])
    assert ids(client, filter="updated_at < TIMESTAMP('2025-01-01T12:00:00Z')") == [first.public_id]
    assert ids(client, filter="updated_at <= TIMESTAMP('2025-01-01T12:00:00Z')") == sorted(
        [first.public_id, second.public_id]
    )
    assert ids(client, filter="updated_at = DATE('2025-03-15')") == [third.public_id]
    assert ids(client, filter="updated_at < DATE('2025-03-15')") == sorted(
        [first.public_id, second.public_id]
    )
    json_filter = {"op": "t_before", "args": [{"property": "updated_at"}, {"date": "2025-01-01"}]}
    assert ids(client, filter=json.dumps(json_filter), **{"filter-lang": "cql2-json"}) == [
        first.public_id
    ]


def test_a_comparison_with_a_null_property_is_neither_true_nor_false(client, demo):
    with_status = Deposit.objects.exclude(status="")
    assert ids(client, filter="NOT status = 'producing'") == sorted(
        with_status.exclude(status="producing").values_list("public_id", flat=True)
    )
    assert ids(client, filter="status <> 'producing'") == ids(
        client, filter="NOT status = 'producing'"
    )
    assert ids(client, filter="status IS NULL") == public(status="")
    assert ids(client, filter="district IS NOT NULL") == public(district__isnull=False)


def test_s_intersects_a_polygon_selects_the_deposits_inside_it(client, demo):
    triangle = shapely.geometry.Polygon([(67.5, 38.5), (71.5, 39.0), (69.0, 41.0), (67.5, 38.5)])
    inside = sorted(
        d.public_id
        for d in Deposit.objects.exclude(latitude=None)
        if triangle.contains(shapely.geometry.Point(float(d.longitude), float(d.latitude)))
    )
    assert inside
    wkt = "POLYGON((67.5 38.5, 71.5 39.0, 69.0 41.0, 67.5 38.5))"
    assert ids(client, filter=f"S_INTERSECTS(geometry, {wkt})") == inside
    as_json = {
        "op": "s_intersects",
        "args": [{"property": "geometry"}, shapely.geometry.mapping(triangle)],
    }
    assert ids(client, filter=json.dumps(as_json), **{"filter-lang": "cql2-json"}) == inside


def test_the_filter_ands_with_the_query_parameters(client, api_client, demo):
    expected = rest_ids(api_client, mineral="gold", region="TJ-SU", bbox=NORTH)
    assert ids(client, filter="region = 'TJ-SU'", mineral="gold", bbox=NORTH) == expected
    assert ids(client, filter="mineral = 'gold'", region="TJ-SU") == rest_ids(
        api_client, mineral="gold", region="TJ-SU"
    )


def test_every_other_queryable_is_a_query_parameter_too(client, demo):
    name = "Khodzhamunyn, Khodzhasartys"  # a comma is part of the name, not a list
    assert ids(client, name=name) == public(name=name) != []
    assert ids(client, district="Ayni") == public(district__name="Ayni") != []
    assert ids(client, deposit_type="Igneous") == public(deposit_type="Igneous")


# --- visibility ----------------------------------------------------------------------------


def test_a_filter_never_reveals_hidden_deposits_nor_counts_them(client, api_client, demo):
    hidden = DepositFactory(name="Internal Sughd gold", visibility=Visibility.INTERNAL)
    Deposit.objects.filter(pk=hidden.pk).update(
        region=Deposit.objects.filter(region__code="TJ-SU").first().region
    )
    by_name = items(client, filter="name = 'Internal Sughd gold'")
    assert by_name["numberMatched"] == 0 and by_name["features"] == []
    assert items(client, filter="name LIKE 'Internal%'")["numberMatched"] == 0
    sughd = items(client, filter="region = 'TJ-SU'")
    assert sughd["numberMatched"] == len(rest_ids(api_client, region="TJ-SU"))
    assert hidden.public_id not in [f["id"] for f in sughd["features"]]
    assert items(client, filter="NOT (name = 'x')")["numberMatched"] == len(rest_ids(api_client))

    staff = issue_api_key(user=_staff())
    seen = client.get(
        ITEMS, {"filter": "name = 'Internal Sughd gold'"}, HTTP_AUTHORIZATION=f"Token {staff}"
    ).json()
    assert [f["id"] for f in seen["features"]] == [hidden.public_id]


def _staff():
    from tests.factories import UserFactory

    return UserFactory(username="ogc-staff", is_staff=True)


# --- sortby and properties ----------------------------------------------------------------


def test_sortby_orders_as_the_rest_apis_ordering(client, api_client, demo):
    def names(**params):
        return [f["properties"]["name"] for f in items(client, **params)["features"]]

    def rest_names(ordering):
        response = api_client.get("/api/v1/deposits/", {"ordering": ordering, "page_size": 1000})
        return [d["name"] for d in response.json()["results"]]

    assert names(sortby="-name") == rest_names("-name")
    assert names(sortby="+name") == names() == rest_names("name")
    ordered = items(client, sortby="region,-name")["features"]
    keys = [(f["properties"]["region"] or "", f["properties"]["name"]) for f in ordered]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)
    assert [f["properties"]["region"] for f in ordered] == [
        f["properties"]["region"] for f in items(client, sortby="region")["features"]
    ]


def test_sortby_breaks_ties_by_the_key_so_pages_do_not_overlap(client, demo):
    whole = [f["id"] for f in items(client, sortby="status")["features"]]
    paged = []
    for offset in range(0, len(whole), 7):
        paged += [
            f["id"] for f in items(client, sortby="status", limit=7, offset=offset)["features"]
        ]
    assert paged == whole


def test_properties_trims_the_features_to_the_named_properties(client, demo):
    features = items(client, properties="name,region")["features"]
    assert features
    for feature in features:
        assert set(feature["properties"]) == {"name", "region"}
        assert feature["id"] and "geometry" in feature
    page = client.get(ITEMS, {"properties": "region", "f": "html"})
    assert page.status_code == 200


def test_the_next_link_keeps_filter_sortby_and_properties(client, demo):
    params = {
        "filter": json.dumps({"op": "=", "args": [{"property": "region"}, "TJ-SU"]}),
        "filter-lang": "cql2-json",
        "sortby": "-name",
        "properties": "name",
        "limit": 5,
    }
    document = client.get(ITEMS, params).json()
    [next_link] = [link for link in document["links"] if link["rel"] == "next"]
    kept = parse_qs(urlsplit(next_link["href"]).query)
    for name in ("filter", "filter-lang", "sortby", "properties"):
        assert kept[name] == [str(params[name])]
    following = client.get(next_link["href"]).json()
    assert [f["properties"]["name"] for f in following["features"]] == [
        f["properties"]["name"] for f in items(client, **{**params, "limit": 10000})["features"]
    ][5:10]


def test_conformance_and_queryables_declare_the_filter(client, demo):
    conforms = client.get("/ogc/conformance").json()["conformsTo"]
    for name in (
        "ogcapi-features-3/1.0/conf/filter",
        "ogcapi-features-3/1.0/conf/features-filter",
        "cql2/1.0/conf/cql2-text",
        "cql2/1.0/conf/cql2-json",
        "cql2/1.0/conf/basic-cql2",
    ):
        assert f"http://www.opengis.net/spec/{name}" in conforms
    queryables = client.get("/ogc/collections/deposits/queryables").json()["properties"]
    assert {
        "name",
        "region",
        "district",
        "status",
        "deposit_type",
        "mineral",
        "critical",
        "created_at",
        "updated_at",
        "geometry",
    } <= set(queryables)
    assert queryables["updated_at"]["format"] == "date-time"


def test_the_sortables_name_what_sortby_takes_as_the_queryables_describe_it(client, demo):
    collection = client.get("/ogc/collections/deposits-silver").json()
    rel = "http://www.opengis.net/def/rel/ogc/1.0/sortables"
    (link,) = [item for item in collection["links"] if item["rel"] == rel]
    assert link["href"] == "http://testserver/ogc/collections/deposits-silver/sortables"
    answer = client.get(link["href"])
    assert answer["Content-Type"] == "application/schema+json"
    sortables = answer.json()["properties"]
    queryables = client.get("/ogc/collections/deposits-silver/queryables").json()["properties"]
    assert list(sortables) == [
        "name",
        "region",
        "district",
        "status",
        "deposit_type",
        "created_at",
        "updated_at",
    ]
    assert all(sortables[name] == queryables[name] for name in sortables)
    for name in sortables:  # each one sorts, and nothing else does
        assert client.get(ITEMS, {"sortby": f"-{name}"}).status_code == 200
    assert client.get(ITEMS, {"sortby": "mineral"}).status_code == 400
    conforms = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting" in conforms
    paths = client.get("/ogc/api", {"f": "json"}).json()["paths"]
    assert "/collections/{collectionId}/sortables" in paths
    page = client.get("/ogc/collections/deposits/sortables", {"f": "html"})
    assert page.status_code == 200
    assert "Properties to sort by" in page.content.decode()
    assert client.get("/ogc/collections/nothing/sortables").status_code == 404


@pytest.mark.parametrize(
    "cql",
    [
        "updated_at < TIMESTAMP('0001-01-01T00:00:00Z')",
        "updated_at < DATE('9999-12-31')",
        "updated_at <= DATE('9999-12-31')",
        "S_INTERSECTS(geometry, BBOX(-180, -90, 180, 90))",
        "S_INTERSECTS(geometry, POINT(69.797 40.451))",
        "name = ''",
        "name LIKE '%\\%%'",
    ],
)
def test_filters_at_their_limits_answer(client, demo, cql):
    assert client.get(ITEMS, {"filter": cql}).status_code == 200


def test_a_filter_adds_conditions_not_queries(client, demo):
    """Every kind of condition is part of the page's queries; a polygon alone reads the
    deposits in its bounding box once, for GEOS to test their points."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(**params) -> int:
        with CaptureQueriesContext(connection) as captured:
            items(client, limit=20, **params)
        return len(captured)

    every_kind = (
        "(mineral IN ('gold', 'silver') OR critical = true) AND NOT (status = 'closed') "
        "AND updated_at > DATE('2000-01-01') AND CASEI(name) LIKE '%a%' AND "
        "S_INTERSECTS(geometry, POLYGON((67 37, 75 37, 75 41, 67 41, 67 37)))"
    )
    plain = queries()
    assert queries(filter=every_kind, sortby="-updated_at", properties="name") == plain + 1
    assert queries(filter=every_kind.rsplit(" AND S_INTERSECTS", 1)[0]) == plain


def test_the_guides_examples_are_filters_the_service_applies(client, demo):
    from pathlib import Path

    guide = Path(__file__).resolve().parent.parent / "docs" / "ogc.md"
    section = guide.read_text().split("### Filtering with CQL2", 1)[1]
    examples = section.split("```", 2)[1].strip().splitlines()
    assert len(examples) > 5
    for example in examples:
        assert client.get(ITEMS, {"filter": example}).status_code == 200, example
    as_json = section.split("The same as CQL2 JSON:", 1)[1].split("`")[1]
    selected = ids(client, filter=examples[0])
    assert ids(client, filter=as_json, **{"filter-lang": "cql2-json"}) == selected != []


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"filter": "name = "}, "filter"),  # malformed
        ({"filter": "name = 'x' AND"}, "filter"),
        ({"filter": "(name = 'x'"}, "filter"),
        ({"filter": "{not json", "filter-lang": "cql2-json"}, "filter"),
        (
            {"filter": '{"op": "=", "args": [{"property": "name"}]}', "filter-lang": "cql2-json"},
            "filter",
        ),
        ({"filter": '"a value"', "filter-lang": "cql2-json"}, "filter"),
        ({"filter": "colour = 'red'"}, "filter"),  # unknown property
        ({"filter": "S_TOUCHES(geometry, BBOX(67, 38, 71, 41))"}, "filter"),  # unknown operator
        (
            {
                "filter": '{"op": "a_contains", "args": [{"property": "name"}, ["x"]]}',
                "filter-lang": "cql2-json",
            },
            "filter",
        ),
        ({"filter": "name + 1 = 2"}, "filter"),
        ({"filter": "critical = 'yes'"}, "filter"),  # wrong value type
        ({"filter": "name = 5"}, "filter"),
        ({"filter": "updated_at > 5"}, "filter"),
        ({"filter": "updated_at > TIMESTAMP('2025-01-01T00:00:00')"}, "filter"),
        ({"filter": "mineral LIKE 'g%'"}, "filter"),
        ({"filter": "S_INTERSECTS(geometry, BBOX(71, 38, 67, 41))"}, "filter"),
        ({"filter": "S_INTERSECTS(geometry, BBOX(1000, 38, 1001, 41))"}, "filter"),
        ({"filter": "S_INTERSECTS(geometry, POINT(69 1e300))"}, "filter"),
        ({"filter": '{"filter-lang": "cql2-text"}', "filter-lang": "cql2-json"}, "filter"),
        (
            {
                "filter": '{"op": "=", "args": [{"property": "geometry"}, NaN]}',
                "filter-lang": "cql2-json",
            },
            "filter",
        ),
        ({"filter": "S_INTERSECTS(geometry, LINESTRING(67 38, 71 41))"}, "filter"),
        (
            {"filter": "S_INTERSECTS(geometry, POLYGON((67 38, 71 41, 71 38, 67 41, 67 38)))"},
            "filter",
        ),
        ({"filter": "name = '" + "x" * 5000 + "'"}, "filter"),  # 5,000 characters and more
        ({"filter": "name = 'x' OR (name = 'y' AND (" * 15 + "name = 'z'" + "))" * 15}, "filter"),
        ({"filter": "[" * 2000 + "]" * 2000, "filter-lang": "cql2-json"}, "filter"),
        (
            {
                "filter": '{"op": "not", "args": [' * 40
                + '{"op": "=", "args": [{"property": "name"}, "x"]}'
                + "]}" * 40,
                "filter-lang": "cql2-json",
            },
            "filter",
        ),
        ({"filter": "name = 'x'", "filter-lang": "cql-text"}, "filter-lang"),  # unknown language
        ({"filter-lang": "cql2-text"}, "filter-lang"),
        ({"sortby": "colour"}, "sortby"),
        ({"sortby": "name,-share"}, "sortby"),
        ({"properties": "name,colour"}, "properties"),
        ({"updated_at": "yesterday"}, "updated_at"),
    ],
)
def test_every_bad_filter_sortby_or_properties_is_a_400_naming_it(client, demo, params, named):
    response = client.get(ITEMS, params)
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] == "InvalidParameterValue"
    assert list(error["parameters"]) == [named]
    assert error["parameters"][named][0]
