"""API v1 deposits, reserves, regions, minerals, statistics: shape, filters, paging,
visibility, writes and their errors."""

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deposits.models import Deposit, DepositCommodity, Mineral, ReserveEstimate
from deposits.shares import refresh_kept
from reports.synthetic import reserve_identifiers
from tests.factories import (
    BeltFactory,
    CommodityFactory,
    DepositFactory,
    DistrictFactory,
    MineralFactory,
    RegionFactory,
    ReserveEstimateFactory,
    TopicFactory,
)
from tests.versions import if_match

pytestmark = pytest.mark.django_db

DEPOSITS = "/api/v1/deposits/"


def gold():
    return MineralFactory(code="gold", symbol="Au", name="Gold", name_ru="Золото")


def antimony():
    return MineralFactory(
        code="antimony", symbol="Sb", name="Antimony", group="rare", critical_lists=["US-2022"]
    )


def khatlon():
    return RegionFactory(code="TJ-KT", name="Khatlon", name_ru="Хатлонская область")


@pytest.fixture
def konimansur(db):
    """Silver (reported 70%) with lead and zinc, in Sughd, as in the demo registry."""
    deposit = DepositFactory(
        name="Konimansuri Kalon",
        aliases=["Konimansur", "Большой Конимансур"],
        latitude=Decimal("40.451"),
        longitude=Decimal("69.797"),
        deposit_type="silver-base-metal",
    )
    CommodityFactory(
        deposit=deposit,
        reported_share_pct=Decimal("70"),
        reported_share_source="Ministry of Industry, 2023",
    )
    for code, symbol in [("lead", "Pb"), ("zinc", "Zn")]:
        CommodityFactory(
            deposit=deposit,
            mineral=MineralFactory(code=code, symbol=symbol, name=code.title(), group="base"),
            role=DepositCommodity.Role.ASSOCIATED,
        )
    return deposit


def ids(response):
    assert response.status_code == 200, response.content
    return [record["id"] for record in response.json()["results"]]


# --- shape -------------------------------------------------------------------------


def test_root_lists_every_resource(api_client):
    response = api_client.get("/api/v1/")
    assert response.status_code == 200
    assert set(response.json()) >= {
        "regions",
        "minerals",
        "deposits",
        "reserves",
        "belts",
        "organizations",
        "people",
        "events",
        "topics",
        "memoranda",
        "initiatives",
        "stats/minerals",
        "stats/regions",
        "changes",
    }


def test_deposit_detail_has_the_contract_fields(api_client, konimansur):
    ReserveEstimateFactory(
        deposit=konimansur, quantity=Decimal("1500"), as_of="2020-01-01", source="GKZ protocol"
    )
    response = api_client.get(f"{DEPOSITS}{konimansur.public_id}/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == konimansur.public_id
    assert body["aliases"] == ["Konimansur", "Большой Конимансур"]
    assert body["region"] == "TJ-SU"
    assert body["latitude"] == 40.451 and body["longitude"] == 69.797
    assert body["status"] == "explored"
    commodities = {c["mineral"]: c for c in body["commodities"]}
    assert commodities["silver"]["role"] == "main"
    assert commodities["lead"]["role"] == "associated"
    # Silver has estimates now, so its share is computed (100% of the national total).
    assert commodities["silver"]["reserve_share_pct"] == "100.00"
    assert commodities["silver"]["share_basis"] == "computed"
    assert commodities["zinc"]["reserve_share_pct"] is None
    assert commodities["zinc"]["share_basis"] is None
    [reserve] = body["reserves"]
    assert reserve | {"id": None} == {
        "id": None,
        "mineral": "silver",
        "category": "C1",
        "balance": True,
        "quantity": "1500.000000",
        "unit": "t",
        "ore_tonnage": None,
        "grade": None,
        "grade_unit": "",
        "as_of": "2020-01-01",
        "as_of_precision": "day",
        "approved_by": "",
        "protocol": "",
        "source": "GKZ protocol",
        "protocol_date": None,
        "withdrawal": "",
        "withdrawn_on": None,
        "withdrawal_protocol": "",
        "in_force": True,
    }
    assert body["sources"] == ["test fixture"]
    assert {"created_at", "updated_at", "visibility", "belt", "exploration_level"} <= set(body)
    assert "pk" not in body and body["id"].startswith("TJD-")


def test_reported_share_when_no_estimates(api_client, konimansur):
    body = api_client.get(f"{DEPOSITS}{konimansur.public_id}/").json()
    silver = next(c for c in body["commodities"] if c["mineral"] == "silver")
    assert silver["reserve_share_pct"] == "70.00"
    assert silver["share_basis"] == "reported"


def test_unknown_deposit_is_a_json_404(api_client):
    response = api_client.get(f"{DEPOSITS}TJD-999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No Deposit matches the given query."}


def test_a_deposits_minerals_and_reserves_come_in_a_fixed_order(api_client, konimansur):
    """Minerals by role name ("associated" before "main", as the API has always listed
    them), then by mineral name; reserves by mineral name, category, newest first (undated
    last, on every engine), then as entered. The order is part of the document, and so of
    its ETag."""
    silver, lead = Mineral.objects.get(code="silver"), Mineral.objects.get(code="lead")
    estimates = [
        ReserveEstimateFactory(deposit=konimansur, mineral=mineral, category=category, as_of=as_of)
        for mineral, category, as_of in [
            (silver, "C2", "2022-01-01"),
            (silver, "C1", "2019-01-01"),
            (silver, "C1", "2021-01-01"),
            (lead, "C1", "2018-01-01"),
            (silver, "C1", "2021-01-01"),
            (silver, "C1", None),
        ]
    ]
    body = api_client.get(f"{DEPOSITS}{konimansur.public_id}/").json()
    assert [(c["mineral"], c["role"]) for c in body["commodities"]] == [
        ("lead", "associated"),
        ("zinc", "associated"),
        ("silver", "main"),
    ]
    in_order = [estimates[n].public_id for n in (3, 2, 4, 1, 5, 0)]
    assert [r["id"] for r in body["reserves"]] == in_order


@pytest.mark.parametrize(
    ("zone", "updated_at"),
    [("UTC", "2026-01-02T03:04:05Z"), ("Asia/Dushanbe", "2026-01-02T08:04:05.250000+05:00")],
)
def test_times_are_iso_8601_in_the_registrys_time_zone(api_client, settings, zone, updated_at):
    settings.TIME_ZONE = zone
    deposit = DepositFactory()
    moment = "2026-01-02T03:04:05Z" if zone == "UTC" else "2026-01-02T03:04:05.25Z"
    Deposit.objects.filter(pk=deposit.pk).update(updated_at=moment)
    body = api_client.get(f"{DEPOSITS}{deposit.public_id}/").json()
    assert body["updated_at"] == updated_at
    assert api_client.get(DEPOSITS).json()["results"][0]["updated_at"] == updated_at


def test_shares_have_two_decimals_rounded_half_up_and_figures_keep_their_scale(api_client):
    """Shares, reported or computed, are rounded to two decimals half up (12.345 ->
    12.35) by the share rule; reported shares and quantities are exact strings at their
    column's scale; coordinates are JSON numbers."""
    lead = MineralFactory(code="lead", symbol="Pb", name="Lead")
    for n, reported in enumerate(["12.345", "12.355", "12.365"]):
        CommodityFactory(
            deposit=DepositFactory(name=f"Lead {n}", latitude=Decimal("38.1234")),
            mineral=lead,
            reported_share_pct=Decimal(reported),
            reported_share_source="test",
        )
    for quantity in ["1", "2"]:  # a computed third: 33.333...%
        deposit = CommodityFactory(deposit=DepositFactory(name=f"Silver {quantity}")).deposit
        ReserveEstimateFactory(deposit=deposit, quantity=Decimal(quantity))
    results = api_client.get(DEPOSITS, {"ordering": "name"}).json()["results"]
    shares = [
        (c["reserve_share_pct"], c["reported_share_pct"], c["share_basis"])
        for d in results
        for c in d["commodities"]
    ]
    assert shares == [
        ("12.35", "12.345", "reported"),
        ("12.36", "12.355", "reported"),
        ("12.37", "12.365", "reported"),
        ("33.33", None, "computed"),
        ("66.67", None, "computed"),
    ]
    assert results[0]["latitude"] == 38.1234 and results[0]["longitude"] is None
    assert results[3]["reserves"][0]["quantity"] == "1.000000"


def test_a_record_is_narrowed_by_the_lists_filters_too(api_client, konimansur):
    url = f"{DEPOSITS}{konimansur.public_id}/"
    assert api_client.get(url, {"q": konimansur.name}).status_code == 200
    assert api_client.get(url, {"q": "zzz"}).status_code == 404
    assert api_client.get(url, {"q": "%"}).status_code == 404
    khatlon()
    assert api_client.get(url, {"region": "TJ-KT"}).status_code == 404


@pytest.mark.parametrize(
    ("headers", "query", "content_type"),
    [
        ({}, {}, "application/json"),
        ({"HTTP_ACCEPT": "*/*"}, {}, "application/json"),
        ({"HTTP_ACCEPT": "application/json"}, {}, "application/json"),
        ({"HTTP_ACCEPT": "text/csv"}, {}, "text/csv; charset=utf-8"),
        ({"HTTP_ACCEPT": "*/*"}, {"format": "csv"}, "text/csv; charset=utf-8"),
        ({"HTTP_ACCEPT": "application/geo+json"}, {}, "application/geo+json"),
        ({"HTTP_ACCEPT": "text/html"}, {}, "text/html; charset=utf-8"),
        ({}, {"format": "api"}, "text/html; charset=utf-8"),
    ],
)
def test_the_api_answers_in_the_format_asked_for(
    api_client, konimansur, headers, query, content_type
):
    """DRF's content negotiation: by the Accept header, `?format=` overriding it."""
    response = api_client.get(DEPOSITS, query, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type


def test_regions_and_minerals_by_code_with_visible_deposit_counts(api_client, konimansur):
    DepositFactory(visibility="internal")
    region = api_client.get("/api/v1/regions/TJ-SU/").json()
    assert region == {
        "code": "TJ-SU",
        "name": "Sughd",
        "name_ru": "Согдийская область",
        "name_tg": "Вилояти Суғд",
        "deposit_count": 1,
    }
    silver = api_client.get("/api/v1/minerals/silver/").json()
    assert silver["symbol"] == "Ag" and silver["group"] == "precious"
    assert silver["is_critical"] is False and silver["deposit_count"] == 1
    assert api_client.get("/api/v1/minerals/unobtainium/").status_code == 404


def test_belts_by_code(api_client):
    belt = BeltFactory()
    DepositFactory(belt=belt)
    body = api_client.get(f"/api/v1/belts/{belt.code}/").json()
    assert body["name"] == belt.name and body["deposit_count"] == 1


# --- filters -----------------------------------------------------------------------


def test_filter_by_mineral_repeated_means_or(api_client, konimansur):
    gold_deposit = CommodityFactory(mineral=gold()).deposit
    DepositFactory(name="No minerals")
    assert ids(api_client.get(DEPOSITS, {"mineral": "silver"})) == [konimansur.public_id]
    assert set(ids(api_client.get(DEPOSITS, {"mineral": ["silver", "gold"]}))) == {
        konimansur.public_id,
        gold_deposit.public_id,
    }


def test_filters_combine_with_and(api_client, konimansur):
    CommodityFactory(deposit=DepositFactory(region=khatlon()))  # silver in Khatlon
    assert ids(api_client.get(DEPOSITS, {"mineral": "silver", "region": "TJ-SU"})) == [
        konimansur.public_id
    ]


def test_filter_by_status_type_and_belt(api_client):
    belt = BeltFactory()
    producing = DepositFactory(status="producing", deposit_type="skarn", belt=belt)
    DepositFactory(status="prospect", deposit_type="porphyry")
    assert ids(api_client.get(DEPOSITS, {"status": "producing"})) == [producing.public_id]
    assert ids(api_client.get(DEPOSITS, {"deposit_type": "skarn"})) == [producing.public_id]
    assert ids(api_client.get(DEPOSITS, {"belt": belt.code})) == [producing.public_id]


def test_filter_by_critical(api_client, konimansur):
    critical = CommodityFactory(mineral=antimony()).deposit
    assert ids(api_client.get(DEPOSITS, {"critical": "true"})) == [critical.public_id]
    assert ids(api_client.get(DEPOSITS, {"critical": "false"})) == [konimansur.public_id]


def test_min_share_with_mineral(api_client, konimansur):
    small = CommodityFactory(reported_share_pct=Decimal("10"), reported_share_source="x").deposit
    assert ids(api_client.get(DEPOSITS, {"mineral": "silver", "min_share": "50"})) == [
        konimansur.public_id
    ]
    assert set(ids(api_client.get(DEPOSITS, {"mineral": "silver", "min_share": "5"}))) == {
        konimansur.public_id,
        small.public_id,
    }


@pytest.mark.parametrize("text", ["konimansur", "KONIMANSURI", "большой", "БОЛЬШОЙ КОНИМАНСУР"])
def test_q_searches_names_and_aliases_in_latin_and_cyrillic(api_client, konimansur, text):
    DepositFactory(name="Other")
    assert ids(api_client.get(DEPOSITS, {"q": text})) == [konimansur.public_id]


def test_bbox(api_client, konimansur):
    DepositFactory(latitude=Decimal("38.5"), longitude=Decimal("68.8"))  # Dushanbe area
    DepositFactory()  # no coordinates
    assert ids(api_client.get(DEPOSITS, {"bbox": "69,40,70,41"})) == [konimansur.public_id]


def test_updated_since(api_client, konimansur):
    Deposit.objects.filter(pk=konimansur.pk).update(updated_at="2020-01-01T00:00:00Z")
    recent = DepositFactory()
    assert ids(api_client.get(DEPOSITS, {"updated_since": "2024-01-01T00:00:00Z"})) == [
        recent.public_id
    ]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["Alpha", "Beta", "Gamma"]),
        ("-name", ["Gamma", "Beta", "Alpha"]),
        ("region", ["Beta", "Alpha", "Gamma"]),
        ("-region", ["Alpha", "Gamma", "Beta"]),
    ],
)
def test_ordering(api_client, ordering, expected):
    DepositFactory(name="Gamma")
    DepositFactory(name="Alpha")
    DepositFactory(name="Beta", region=khatlon())
    names = [d["name"] for d in api_client.get(DEPOSITS, {"ordering": ordering}).json()["results"]]
    assert names == expected


def test_ordering_by_updated_at(api_client):
    older, newer = DepositFactory(), DepositFactory()
    Deposit.objects.filter(pk=older.pk).update(updated_at="2020-01-01T00:00:00Z")
    assert ids(api_client.get(DEPOSITS, {"ordering": "updated_at"})) == [
        older.public_id,
        newer.public_id,
    ]
    assert ids(api_client.get(DEPOSITS, {"ordering": "-updated_at"}))[0] == newer.public_id


def test_visibility_filter_is_for_staff(api_client, staff_api_client, partner_client):
    internal = DepositFactory(visibility="internal")
    DepositFactory()
    assert ids(staff_api_client.get(DEPOSITS, {"visibility": "internal"})) == [internal.public_id]
    for client in (api_client, partner_client):
        response = client.get(DEPOSITS, {"visibility": "internal"})
        assert response.status_code == 400
        assert "visibility" in response.json()


def test_reserves_filters(api_client, konimansur):
    other = ReserveEstimateFactory(
        deposit=DepositFactory(region=khatlon()), mineral=gold(), category="C2"
    )
    mine = ReserveEstimateFactory(deposit=konimansur)
    listed = lambda **params: ids(api_client.get("/api/v1/reserves/", params))  # noqa: E731
    assert listed(mineral="silver") == [mine.public_id]
    assert listed(category="C2") == [other.public_id]
    assert listed(region="TJ-SU") == [mine.public_id]
    assert listed(deposit=konimansur.public_id) == [mine.public_id]
    assert sorted(listed(category=["C1", "C2"])) == sorted([mine.public_id, other.public_id])
    body = api_client.get(f"/api/v1/reserves/{mine.public_id}/").json()
    assert body["deposit"] == konimansur.public_id and body["mineral"] == "silver"


# --- bad parameters: 400 naming the parameter --------------------------------------


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"region": "TJ-XX"}, "region"),
        ({"mineral": "unobtainium"}, "mineral"),
        ({"status": "dreaming"}, "status"),
        ({"belt": "nowhere"}, "belt"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "70,41,69,40"}, "bbox"),
        ({"bbox": "0,95,1,96"}, "bbox"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"min_share": "lots", "mineral": "silver"}, "min_share"),
        ({"min_share": "120", "mineral": "silver"}, "min_share"),
        ({"min_share": "10"}, "min_share"),
        ({"critical": "maybe"}, "critical"),
        ({"ordering": "pk"}, "ordering"),
        ({"ordering": "-quantity"}, "ordering"),  # of which mineral?
        ({"include": "everything"}, "include"),
        ({"page": "two"}, "page"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "many"}, "page_size"),
        ({"format": "xml"}, "format"),
    ],
)
def test_invalid_parameter_is_a_400_naming_it(api_client, konimansur, params, name):
    response = api_client.get(DEPOSITS, params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert name in body and body[name][0]


# Numbers, moments and boxes at the ends of their ranges: one rule (kernel/parameters.py)
# on every surface, on SQLite and PostgreSQL.
EXTREME_PARAMETERS = [
    ({"updated_since": "0001-01-01"}, 200),
    ({"updated_since": "0001-01-01T00:00:00+14:00"}, 200),
    ({"updated_since": "9999-12-31T23:59:59-12:00"}, 200),
    ({"updated_since": "10000-01-01"}, "updated_since"),
    ({"updated_since": "2026-02-30"}, "updated_since"),
    ({"updated_since": "9" * 5000}, "updated_since"),
    ({"bbox": "-180,-90,180,90"}, 200),
    ({"bbox": "1e-999999999,0,1,1"}, 200),
    ({"bbox": "0.0000000000000000000000000000001,0,1,1"}, 200),
    ({"bbox": "1e999999999,0,1,1"}, "bbox"),
    ({"bbox": "NaN,0,1,1"}, "bbox"),
    ({"bbox": "inf,0,1,1"}, "bbox"),
    ({"min_share": "1e-999999999", "mineral": "silver"}, 200),
    ({"min_share": "1e999999999", "mineral": "silver"}, "min_share"),
    ({"page": "99999999999999999999999999"}, 404),
    ({"page": "1e3"}, "page"),
    ({"page": "-1"}, "page"),
    ({"page_size": "99999999999999999999999999"}, 200),
    ({"page_size": "1.5"}, "page_size"),
    ({"page_size": "１２"}, "page_size"),  # full-width digits are no number here
]


@pytest.mark.parametrize(("params", "expected"), EXTREME_PARAMETERS)
def test_parameters_at_their_limits_answer_200_or_a_400_naming_them(
    api_client, client, konimansur, params, expected
):
    response = api_client.get(DEPOSITS, params)
    if isinstance(expected, int):
        assert response.status_code == expected
    else:
        assert response.status_code == 400
        assert list(response.json()) == [expected]
    # The list page shows a refused filter in its form (and pages as it pleases).
    page = client.get("/deposits/", params)
    assert page.status_code == 200
    assert page.context["valid"] == (isinstance(expected, int) or expected.startswith("page"))


@pytest.mark.parametrize(("year", "expected"), [("1900", 200), ("99999999999999999999", 400)])
def test_the_statistics_top_and_a_year_follow_the_same_rule(api_client, year, expected):
    assert api_client.get("/api/v1/events/", {"year": year}).status_code == expected
    response = api_client.get("/api/v1/stats/minerals/", {"top": "9" * 400})
    assert response.status_code == 400
    assert list(response.json()) == ["top"]


@pytest.mark.parametrize("depth", [40, 5000, 100_000])
def test_a_deeply_nested_body_is_a_400_not_a_500(staff_api_client, konimansur, depth):
    url = f"{DEPOSITS}{konimansur.public_id}/"
    before = _snapshot()
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    for method in (staff_api_client.post, staff_api_client.patch):
        response = method(
            DEPOSITS if method == staff_api_client.post else url,
            body,
            content_type="application/json",
            headers=if_match(staff_api_client, url),
        )
        assert response.status_code == 400, response.content
        assert "32 levels" in response.json()["detail"]
    assert _snapshot() == before


def test_a_body_nested_as_deep_as_allowed_reaches_the_fields(staff_api_client, konimansur):
    """Brackets inside strings do not count, and 32 levels are read."""
    url = f"{DEPOSITS}{konimansur.public_id}/"
    body = '{"name": "' + "[[[[{{{{" * 10 + '", "aliases": ' + "[" * 31 + "]" * 31 + "}"
    response = staff_api_client.patch(
        url, body, content_type="application/json", headers=if_match(staff_api_client, url)
    )
    assert response.status_code == 400
    assert "aliases" in response.json()


def test_a_body_larger_than_the_limit_is_not_read_past_it(settings):
    """Without a Content-Length the middleware cannot refuse it first; the parser stops."""
    from django.core.exceptions import RequestDataTooBig

    from kernel.api.parsers import BoundedJSONParser

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    with pytest.raises(RequestDataTooBig):
        BoundedJSONParser().parse(io.BytesIO(b'{"name": "' + b"x" * 2000 + b'"}'))


def test_reserves_unknown_deposit_or_hidden_deposit_is_a_400(api_client):
    hidden = DepositFactory(visibility="internal")
    for value in ["TJD-424242", hidden.public_id]:
        response = api_client.get("/api/v1/reserves/", {"deposit": value})
        assert response.status_code == 400
        assert "deposit" in response.json()


def test_page_past_the_end_is_a_404(api_client, konimansur):
    response = api_client.get(DEPOSITS, {"page": 9})
    assert response.status_code == 404
    assert "detail" in response.json()


# --- paging ------------------------------------------------------------------------


def test_walking_next_visits_each_record_once(api_client):
    # Same region for all: ordering=region alone would not be a stable order.
    created = {DepositFactory(name=f"Site {i % 3}").public_id for i in range(23)}
    seen, url = [], f"{DEPOSITS}?ordering=region&page_size=5"
    while url:
        body = api_client.get(url).json()
        assert body["count"] == 23
        seen += [record["id"] for record in body["results"]]
        url = body["next"]
    assert len(seen) == 23 and set(seen) == created


def test_default_page_size_is_50_and_large_sizes_are_clamped(api_client, settings):
    Deposit.objects.bulk_create(
        [Deposit(name=f"Bulk {i:04d}", public_id=f"TJD-9{i:05d}") for i in range(1005)]
    )
    assert len(api_client.get(DEPOSITS).json()["results"]) == 50
    response = api_client.get(DEPOSITS, {"page_size": 5000})
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 1000 and body["count"] == 1005
    assert "page=2" in body["next"]


def _walk(client, url, rel="next") -> list[str]:
    seen = []
    while url:
        body = client.get(url).json()
        ids = [record.get("id", record.get("code")) for record in body["results"]]
        seen += ids if rel == "next" else list(reversed(ids))
        url = body[rel]
    return seen if rel == "next" else list(reversed(seen))


@pytest.mark.parametrize("ordering", ["region", "-name", "-updated_at,name", "name"])
def test_walking_next_by_cursor_visits_each_record_once_in_the_pages_order(api_client, ordering):
    RegionFactory(code="TJ-KT", name="Khatlon")
    for i in range(23):
        DepositFactory(name=f"Site {i % 3}", region=None if i % 4 else RegionFactory())
    by_page = _walk(api_client, f"{DEPOSITS}?ordering={ordering}&page_size=23")
    first = api_client.get(DEPOSITS, {"ordering": ordering, "page_size": 5, "cursor": ""}).json()
    assert first["count"] == 23 and first["previous"] is None
    assert "cursor=" in first["next"] and "page=" not in first["next"]
    assert f"ordering={ordering.replace(',', '%2C')}" in first["next"]
    seen = _walk(api_client, f"{DEPOSITS}?ordering={ordering}&page_size=5&cursor=")
    assert seen == by_page


def test_previous_by_cursor_walks_back(api_client):
    for i in range(12):
        DepositFactory(name=f"Site {i:02d}")
    url = f"{DEPOSITS}?page_size=5&cursor="
    while (body := api_client.get(url).json())["next"]:
        url = body["next"]
    assert [r["name"] for r in body["results"]] == ["Site 10", "Site 11"]
    assert _walk(api_client, body["previous"], rel="previous") == [
        d.public_id for d in Deposit.objects.order_by("name")[:10]
    ]


def test_a_cursor_walk_neither_skips_nor_repeats_records_added_or_removed(api_client):
    sites = {letter: DepositFactory(name=f"{letter} site") for letter in "ABCDEFGH"}
    first = api_client.get(DEPOSITS, {"page_size": 3, "cursor": ""}).json()
    assert [r["name"] for r in first["results"]] == ["A site", "B site", "C site"]
    DepositFactory(name="Az added")
    sites["B"].delete()
    sites["C"].delete()  # the record the cursor points at
    DepositFactory(name="Dz added")
    sites["F"].delete()
    names = []
    url = first["next"]
    while url:
        body = api_client.get(url).json()
        names += [r["name"] for r in body["results"]]
        url = body["next"]
    assert names == ["D site", "Dz added", "E site", "G site", "H site"]


def test_other_lists_page_by_cursor_too(api_client):
    for code in ("silver", "gold", "lead"):
        MineralFactory(code=code, name=code.title(), symbol=code[:2].title())
    seen = _walk(api_client, "/api/v1/minerals/?page_size=2&cursor=")
    assert seen == ["gold", "lead", "silver"]


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "", "page": 2},
        {"cursor": "garbage"},
        {"cursor": "", "ordering": "-share", "mineral": "silver"},
        {"cursor": "", "q": "konimansur"},
    ],
)
def test_a_cursor_the_list_cannot_take_is_a_400_naming_it(api_client, konimansur, params):
    response = api_client.get(DEPOSITS, params)
    assert response.status_code == 400
    assert list(response.json()) == ["cursor"]


def test_a_cursor_of_another_order_is_a_400(api_client, konimansur):
    DepositFactory(name="Other")
    body = api_client.get(DEPOSITS, {"page_size": 1, "cursor": ""}).json()
    response = api_client.get(body["next"] + "&ordering=-name")
    assert response.status_code == 400
    assert list(response.json()) == ["cursor"]


def test_a_cursor_page_takes_the_queries_of_a_numbered_page(
    api_client, konimansur, django_assert_num_queries
):
    for i in range(6):
        DepositFactory(name=f"Site {i}")
    body = api_client.get(DEPOSITS, {"page_size": 3, "cursor": ""}).json()
    # count, deposits (the page chosen in a subquery), minerals with shares, reserves
    with django_assert_num_queries(4):
        response = api_client.get(body["next"])
    assert len(response.json()["results"]) == 3


def test_every_list_is_paged(api_client):
    for path in ["regions", "minerals", "belts", "reserves", "stats/minerals", "stats/regions"]:
        body = api_client.get(f"/api/v1/{path}/").json()
        assert set(body) == {"count", "next", "previous", "results"}, path


def _list_queries(client, page_size):
    with CaptureQueriesContext(connection) as context:
        response = client.get(DEPOSITS, {"page_size": page_size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    return len(context.captured_queries)


def test_deposit_list_query_count_does_not_grow_with_page_size(
    api_client, django_assert_num_queries
):
    minerals = [MineralFactory(), gold(), antimony()]
    # Written in bulk, as generate_synthetic writes (one save each would take most of a
    # minute), then the share rule's sums refreshed as after any bulk load.
    deposits = Deposit.objects.bulk_create(
        Deposit(name=f"Deposit {i:04d}", public_id=public_id)
        for i, public_id in enumerate(reserve_identifiers(Deposit.ID_PREFIX, 1000))
    )
    DepositCommodity.objects.bulk_create(
        DepositCommodity(deposit=deposit, mineral=minerals[i % 3])
        for i, deposit in enumerate(deposits)
    )
    estimates = [
        ReserveEstimate(
            deposit=deposit,
            mineral=minerals[i % 3],
            category="C1",
            balance=True,
            quantity=Decimal(i),
            unit="t",
        )
        for i, deposit in enumerate(deposits)
        if i % 2
    ]
    for estimate, public_id in zip(
        estimates, reserve_identifiers(ReserveEstimate.ID_PREFIX, len(estimates)), strict=True
    ):
        estimate.public_id = public_id
    ReserveEstimate.objects.bulk_create(estimates)
    refresh_kept()
    # count, deposits (region, district and belt joined), commodities with their shares,
    # reserves
    with django_assert_num_queries(4):
        api_client.get(DEPOSITS, {"page_size": 10})
    with django_assert_num_queries(4):
        api_client.get(DEPOSITS, {"page_size": 1000})
    assert _list_queries(api_client, 10) == _list_queries(api_client, 1000)


def test_a_record_takes_three_queries(api_client, konimansur, django_assert_num_queries):
    ReserveEstimateFactory(deposit=konimansur)
    # the deposit (region, district and belt joined), its minerals with their shares,
    # its reserves
    with django_assert_num_queries(3):
        response = api_client.get(f"{DEPOSITS}{konimansur.public_id}/")
    assert response.status_code == 200


def test_query_count_with_a_partner_key_and_filters(partner_client, django_assert_num_queries):
    for i in range(30):
        CommodityFactory(deposit=DepositFactory(name=f"D{i}"))
    # + key lookup, + last use of the key, + mineral and region codes validated, + what
    # the key's clauses open, summed once for the shares' denominators
    with django_assert_num_queries(9):
        response = partner_client.get(DEPOSITS, {"mineral": "silver", "region": "TJ-SU"})
    assert response.json()["count"] == 30


# --- visibility --------------------------------------------------------------------


@pytest.fixture
def three_levels(db):
    return {
        level: CommodityFactory(deposit=DepositFactory(name=level, visibility=level)).deposit
        for level in ("public", "partners", "internal")
    }


@pytest.mark.parametrize(
    ("client_name", "visible"),
    [
        ("api_client", {"public"}),
        ("partner_client", {"public", "partners"}),
        ("staff_api_client", {"public", "partners", "internal"}),
        ("viewer_api_client", {"public", "partners", "internal"}),
    ],
)
def test_each_caller_sees_its_levels_on_every_deposit_surface(
    request, three_levels, client_name, visible
):
    client = request.getfixturevalue(client_name)
    ReserveEstimateFactory(deposit=three_levels["internal"])
    body = client.get(DEPOSITS).json()
    assert {d["name"] for d in body["results"]} == visible
    assert body["count"] == len(visible)
    for level, deposit in three_levels.items():
        status = client.get(f"{DEPOSITS}{deposit.public_id}/").status_code
        assert status == (200 if level in visible else 404)
    assert client.get("/api/v1/regions/TJ-SU/").json()["deposit_count"] == len(visible)
    assert client.get("/api/v1/minerals/silver/").json()["deposit_count"] == len(visible)
    silver = client.get("/api/v1/stats/minerals/silver/").json()
    assert {d["name"] for d in silver["deposits"]} == visible
    assert silver["deposit_count"] == len(visible)
    reserves = client.get("/api/v1/reserves/").json()
    assert reserves["count"] == (1 if "internal" in visible else 0)


def test_statistics_count_only_visible_deposits_in_totals(api_client, partner_client):
    for visibility, quantity in [("public", 100), ("partners", 50)]:
        deposit = CommodityFactory(deposit=DepositFactory(visibility=visibility)).deposit
        ReserveEstimateFactory(deposit=deposit, quantity=Decimal(quantity))
    anonymous = api_client.get("/api/v1/stats/minerals/silver/").json()
    partner = partner_client.get("/api/v1/stats/minerals/silver/").json()
    assert anonymous["totals"] == [
        {
            "category": "C1",
            "balance": True,
            "unit": "t",
            "quantity": "100.000000",
            "deposit_count": 1,
        }
    ]
    assert partner["totals"][0]["quantity"] == "150.000000"
    # Shares are of what the caller may see, like the totals beside them: the public
    # deposit holds all of the public reserves and two thirds of those a partner sees.
    assert anonymous["deposits"][0]["reserve_share_pct"] == "100.00"
    assert partner["deposits"][0]["reserve_share_pct"] == "66.67"


def test_statistics_rank_deposits_by_share(api_client, konimansur):
    small = CommodityFactory(reported_share_pct=Decimal("5"), reported_share_source="x").deposit
    unknown = CommodityFactory().deposit
    ranked = api_client.get("/api/v1/stats/minerals/silver/").json()["deposits"]
    assert [d["id"] for d in ranked] == [
        konimansur.public_id,
        small.public_id,
        unknown.public_id,
    ]
    assert ranked[0]["share_basis"] == "reported"
    region = api_client.get("/api/v1/stats/regions/TJ-SU/").json()
    assert region["deposit_count"] == 3
    silver = next(m for m in region["minerals"] if m["mineral"] == "silver")
    assert silver["deposits"][0]["id"] == konimansur.public_id


# --- conditional requests ----------------------------------------------------------


def test_etag_and_304_on_detail_and_list(api_client, konimansur):
    for url in [f"{DEPOSITS}{konimansur.public_id}/", DEPOSITS, "/api/v1/regions/"]:
        first = api_client.get(url)
        etag = first["ETag"]
        assert etag.startswith('"')
        again = api_client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again["ETag"] == etag
        assert api_client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_etag_changes_when_the_record_changes(api_client, konimansur):
    url = f"{DEPOSITS}{konimansur.public_id}/"
    etag = api_client.get(url)["ETag"]
    konimansur.name = "Konimansur Kalon"
    konimansur.save()
    assert api_client.get(url, headers={"If-None-Match": etag}).status_code == 200


# --- writes ------------------------------------------------------------------------


NEW_DEPOSIT = {
    "name": "Bolshoi Kanimansur North",
    "aliases": ["Большой Канимансур Северный"],
    "region": "TJ-SU",
    "latitude": 40.5,
    "longitude": 69.8,
    "status": "prospect",
    "sources": ["Field report 2024"],
    "commodities": [
        {"mineral": "silver", "role": "main"},
        {"mineral": "lead", "role": "associated"},
    ],
}


def test_staff_key_creates_a_deposit_with_history_attributed(staff_api_client, konimansur):
    response = staff_api_client.post(DEPOSITS, NEW_DEPOSIT, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("TJD-")
    assert {(c["mineral"], c["role"]) for c in body["commodities"]} == {
        ("silver", "main"),
        ("lead", "associated"),
    }
    deposit = Deposit.objects.get(public_id=body["id"])
    assert deposit.history.get().history_user.username == "editor"
    assert {c.history.get().history_user.username for c in deposit.commodities.all()} == {"editor"}


def test_russian_and_tajik_names_are_written_and_read(staff_api_client, api_client, konimansur):
    url = f"{DEPOSITS}{konimansur.public_id}/"
    names = {"name_ru": "Большой Конимансур", "name_tg": "Конимансури Калон"}
    response = staff_api_client.patch(
        url, names, format="json", headers=if_match(staff_api_client, url)
    )
    assert response.status_code == 200, response.content
    body = api_client.get(url).json()
    assert {key: body[key] for key in names} == names
    assert list(body)[:4] == ["id", "name", "name_ru", "name_tg"]
    found = api_client.get(DEPOSITS, {"q": "конимансури калон"}).json()["results"]
    assert [d["id"] for d in found] == [konimansur.public_id]
    too_long = staff_api_client.patch(
        url, {"name_ru": "я" * 161}, format="json", headers=if_match(staff_api_client, url)
    )
    assert too_long.status_code == 400 and "name_ru" in too_long.json()


def test_staff_key_updates_and_deletes(staff_api_client, konimansur):
    url = f"{DEPOSITS}{konimansur.public_id}/"
    response = staff_api_client.patch(
        url, {"status": "producing"}, format="json", headers=if_match(staff_api_client, url)
    )
    assert response.status_code == 200 and response.json()["status"] == "producing"
    assert konimansur.history.first().history_user.username == "editor"
    # Replacing the minerals: lead and zinc go, silver stays (no history churn for it).
    silver = konimansur.commodities.get(mineral__code="silver")
    response = staff_api_client.patch(
        url,
        {
            "commodities": [
                {
                    "mineral": "silver",
                    "role": "main",
                    "reported_share_pct": "70.000",
                    "reported_share_source": "Ministry of Industry, 2023",
                }
            ]
        },
        format="json",
        headers=if_match(staff_api_client, url),
    )
    assert response.status_code == 200
    assert list(konimansur.commodities.values_list("mineral__code", flat=True)) == ["silver"]
    assert silver.history.count() == 1
    assert staff_api_client.delete(url, headers=if_match(staff_api_client, url)).status_code == 204
    assert not Deposit.objects.filter(pk=konimansur.pk).exists()
    assert Deposit.history.filter(id=konimansur.pk, history_type="-").get().history_user


def _snapshot():
    return (
        list(Deposit.objects.values()),
        list(DepositCommodity.objects.values()),
        list(ReserveEstimate.objects.values()),
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"latitude": 95}, "latitude"),
        ({"latitude": 55}, "latitude"),
        ({"longitude": None, "latitude": 40.1}, "longitude"),
        ({"region": "TJ-XX"}, "region"),
        ({"status": "dreaming"}, "status"),
        ({"name": ""}, "name"),
        ({"aliases": "not a list"}, "aliases"),
        ({"name": "Konimansur\u202eriaD"}, "name"),
        ({"name_ru": "Кони\u200bмансур"}, "name_ru"),
        ({"name_tg": "Конимансур\x00"}, "name_tg"),
        ({"aliases": ["Konimansur", "Big\u2066Konimansur"]}, "aliases"),
        ({"visibility": "secret"}, "visibility"),
        ({"commodities": [{"mineral": "unobtainium"}]}, "commodities"),
        ({"commodities": [{"mineral": "silver"}, {"mineral": "silver"}]}, "commodities"),
        (
            {"commodities": [{"mineral": "silver", "reported_share_pct": "40"}]},
            "commodities",
        ),
        (
            {
                "commodities": [
                    {"mineral": "silver", "reported_share_pct": "101", "reported_share_source": "x"}
                ]
            },
            "commodities",
        ),
    ],
)
def test_invalid_deposit_write_is_a_400_naming_the_field_and_changes_nothing(
    staff_api_client, konimansur, change, field
):
    before = _snapshot()
    created = staff_api_client.post(DEPOSITS, {**NEW_DEPOSIT, **change}, format="json")
    url = f"{DEPOSITS}{konimansur.public_id}/"
    version = if_match(staff_api_client, url)
    updated = staff_api_client.patch(url, change, format="json", headers=version)
    for response in (created, updated):
        assert response.status_code == 400, response.content
        assert field in response.json()
    assert _snapshot() == before


def test_reported_shares_past_100_percent_are_refused_like_in_the_admin(
    staff_api_client, konimansur
):
    before = _snapshot()
    response = staff_api_client.post(
        DEPOSITS,
        {
            **NEW_DEPOSIT,
            "commodities": [
                {"mineral": "silver", "reported_share_pct": "40", "reported_share_source": "x"}
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "past 100%" in response.json()["commodities"][0]["reported_share_pct"][0]
    assert _snapshot() == before


def test_district_must_lie_in_the_region(staff_api_client, konimansur):
    DistrictFactory()  # TJ-SU-10 in Sughd
    khatlon()
    url = f"{DEPOSITS}{konimansur.public_id}/"
    response = staff_api_client.patch(
        url,
        {"region": "TJ-KT", "district": "TJ-SU-10"},
        format="json",
        headers=if_match(staff_api_client, url),
    )
    assert response.status_code == 400 and "district" in response.json()


def test_malformed_json_is_a_400(staff_api_client):
    response = staff_api_client.generic(
        "POST", DEPOSITS, "{not json", content_type="application/json"
    )
    assert response.status_code == 400 and "detail" in response.json()


def test_reserve_estimate_writes_and_errors(staff_api_client, konimansur):
    payload = {
        "deposit": konimansur.public_id,
        "mineral": "silver",
        "category": "C1",
        "balance": True,
        "quantity": "1200.5",
        "unit": "t",
        "source": "GKZ protocol 12",
    }
    response = staff_api_client.post("/api/v1/reserves/", payload, format="json")
    assert response.status_code == 201, response.content
    estimate = ReserveEstimate.objects.get(public_id=response.json()["id"])
    assert estimate.history.get().history_user.username == "editor"
    before = _snapshot()
    for change, field in [
        ({"quantity": "-5"}, "quantity"),
        ({"unit": ""}, "unit"),
        ({"unit": "pood"}, "unit"),
        ({"category": "Z9"}, "category"),
        ({"deposit": "TJD-424242"}, "deposit"),
        ({"quantity": None, "ore_tonnage": None, "grade": None}, "quantity"),
        ({"grade": "5", "grade_unit": ""}, "grade_unit"),
    ]:
        response = staff_api_client.post("/api/v1/reserves/", {**payload, **change}, format="json")
        assert response.status_code == 400, (change, response.content)
        assert field in response.json(), (change, response.json())
        url = f"/api/v1/reserves/{estimate.public_id}/"
        response = staff_api_client.patch(
            url, change, format="json", headers=if_match(staff_api_client, url)
        )
        assert response.status_code == 400 and field in response.json()
    assert _snapshot() == before


def test_writes_need_a_staff_key_with_the_model_permission(
    api_client, partner_client, viewer_api_client, konimansur
):
    url = f"{DEPOSITS}{konimansur.public_id}/"
    before = _snapshot()
    assert api_client.post(DEPOSITS, NEW_DEPOSIT, format="json").status_code == 401
    assert api_client.patch(url, {"name": "x"}, format="json").status_code == 401
    assert api_client.delete(url).status_code == 401
    for client in (partner_client, viewer_api_client):
        assert client.post(DEPOSITS, NEW_DEPOSIT, format="json").status_code == 403
        assert client.patch(url, {"name": "x"}, format="json").status_code == 403
        assert client.put(url, NEW_DEPOSIT, format="json").status_code == 403
        assert client.delete(url).status_code == 403
        assert client.post("/api/v1/reserves/", {}, format="json").status_code == 403
    assert _snapshot() == before


def test_regions_and_minerals_are_read_only(staff_api_client):
    assert staff_api_client.post("/api/v1/regions/", {}, format="json").status_code in (403, 405)
    assert staff_api_client.post("/api/v1/minerals/", {}, format="json").status_code in (403, 405)


def test_reference_tables_cannot_be_changed_over_the_api(staff_api_client, konimansur):
    """Regions, minerals and belts are read-only (no version to check); districts are
    not served at all. They change in the admin, under its own version check."""
    BeltFactory(code="kurama")
    for url in ("/api/v1/regions/TJ-SU/", "/api/v1/minerals/silver/", "/api/v1/belts/kurama/"):
        headers = if_match(staff_api_client, url)
        for method in ("put", "patch", "delete"):
            response = getattr(staff_api_client, method)(url, {}, format="json", headers=headers)
            assert response.status_code in (403, 405), (url, method)
    assert staff_api_client.get("/api/v1/districts/").status_code == 404


@pytest.mark.parametrize("header", [None, "*", "", "not-an-etag"])
def test_an_update_or_delete_without_a_version_is_a_428_and_changes_nothing(
    staff_api_client, konimansur, header
):
    url = f"{DEPOSITS}{konimansur.public_id}/"
    headers = {} if header is None else {"If-Match": header}
    before = _snapshot()
    for method, data in [
        ("patch", {"name": "Mine"}),
        ("put", {**NEW_DEPOSIT, "name": "Mine"}),
        ("delete", None),
    ]:
        response = getattr(staff_api_client, method)(url, data, format="json", headers=headers)
        assert response.status_code == 428, (method, response.content)
        assert "If-Match" in response.json()["detail"]
    assert _snapshot() == before


def test_every_record_type_needs_a_version_to_be_changed(
    staff_api_client, key_client, cooperation_editor, konimansur
):
    """The rule is the base viewset's: reserves and cooperation records answer 428 too."""
    estimate = ReserveEstimateFactory(deposit=konimansur)
    topic = TopicFactory()
    cooperation = key_client(user=cooperation_editor)
    for client, url in [
        (staff_api_client, f"/api/v1/reserves/{estimate.public_id}/"),
        (cooperation, f"/api/v1/topics/{topic.public_id}/"),
    ]:
        assert client.patch(url, {}, format="json").status_code == 428, url
        assert client.delete(url).status_code == 428, url
        version = if_match(client, url)
        assert client.patch(url, {}, format="json", headers=version).status_code == 200


def test_a_list_of_etags_matches_if_any_is_current(staff_api_client, konimansur):
    url = f"{DEPOSITS}{konimansur.public_id}/"
    current = if_match(staff_api_client, url)["If-Match"]
    stale_only = {"If-Match": '"stale-1", "stale-2"'}
    response = staff_api_client.patch(url, {"name": "Mine"}, format="json", headers=stale_only)
    assert response.status_code == 412
    with_current = {"If-Match": f'"stale-1", {current}'}
    response = staff_api_client.patch(
        url, {"status": "producing"}, format="json", headers=with_current
    )
    assert response.status_code == 200 and response.json()["status"] == "producing"


def test_stale_if_match_is_a_412_and_changes_nothing(staff_api_client, konimansur):
    url = f"{DEPOSITS}{konimansur.public_id}/"
    etag = staff_api_client.get(url)["ETag"]
    # Someone else edits the deposit after we read it.
    konimansur.status = "producing"
    konimansur.save()
    before = _snapshot()
    for method, data in [
        ("patch", {"name": "Mine"}),
        ("put", {**NEW_DEPOSIT, "name": "Mine"}),
        ("delete", None),
    ]:
        response = getattr(staff_api_client, method)(
            url, data, format="json", headers={"If-Match": etag}
        )
        assert response.status_code == 412, method
        assert "detail" in response.json()
    assert _snapshot() == before


def test_current_if_match_lets_the_write_through(staff_api_client, konimansur):
    url = f"{DEPOSITS}{konimansur.public_id}/"
    etag = staff_api_client.get(url)["ETag"]
    response = staff_api_client.patch(
        url, {"status": "producing"}, format="json", headers={"If-Match": etag}
    )
    assert response.status_code == 200
    assert response["ETag"] if response.has_header("ETag") else True
    next_etag = staff_api_client.get(url)["ETag"]
    assert next_etag != etag
