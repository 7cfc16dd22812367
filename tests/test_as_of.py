"""Figures as of a date (`as_of`): the estimates in force on that day, the shares and
totals they make, on every surface; today's figures as recorded now; bad days refused.

Konchoch: C1 100 t of silver in 2010, re-estimated at 150 t in 2020; Altyn-Topkan: 50 t
in 2015 (a source reported 20% before); an internal deposit with 800 t since 2014, which
an anonymous reader never sees nor counts."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from deposits.models import DepositCommodity, ReserveEstimate
from deposits.shares import (
    national_totals,
    recorded_on,
    summed_national_totals,
    with_shares,
)
from kernel.models import Visibility
from kernel.visibility import ANONYMOUS, STAFF
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MineralFactory,
    RegionFactory,
    ReserveEstimateFactory,
)

pytestmark = pytest.mark.django_db

BEFORE_ALTYN_TOPKAN = "2012-01-01"
BETWEEN = "2016-06-30"
AFTER = "2021-01-01"


def estimate(deposit, mineral, quantity, day, unit="t", category="C1"):
    return ReserveEstimateFactory(
        deposit=deposit,
        mineral=mineral,
        category=category,
        quantity=Decimal(quantity),
        unit=unit,
        as_of=datetime.date.fromisoformat(day),
    )


@pytest.fixture
def silver_registry():
    region = RegionFactory(code="TJ-SU", name="Sughd")
    silver = MineralFactory(code="silver", symbol="Ag", name="Silver", unit="t")
    konchoch = DepositFactory(name="Konchoch", region=region)
    altyn = DepositFactory(name="Altyn-Topkan", region=region)
    hidden = DepositFactory(name="Hidden silver", region=region, visibility=Visibility.INTERNAL)
    CommodityFactory(deposit=konchoch, mineral=silver)
    CommodityFactory(
        deposit=altyn,
        mineral=silver,
        reported_share_pct=Decimal("20"),
        reported_share_source="a published source",
    )
    CommodityFactory(deposit=hidden, mineral=silver)
    estimate(konchoch, silver, "100", "2010-05-01")
    estimate(konchoch, silver, "150", "2020-03-01")
    estimate(altyn, silver, "50", "2015-01-01")
    estimate(hidden, silver, "800", "2014-01-01")
    return {"silver": silver, "konchoch": konchoch, "altyn": altyn, "hidden": hidden}


def shares(caller, on):
    visible = DepositCommodity.objects.visible_to(caller).select_related("deposit")
    rows = with_shares(visible.filter(mineral__code="silver"), caller, on)
    return {row.deposit.name: (row.share_pct, row.share_basis) for row in rows}


# The rule itself


def test_shares_as_of_several_dates(silver_registry):
    day = datetime.date.fromisoformat
    assert shares(ANONYMOUS, day(BEFORE_ALTYN_TOPKAN)) == {
        "Konchoch": (Decimal("100.00"), "computed"),
        # No estimate in force yet: the reported share stands.
        "Altyn-Topkan": (Decimal("20.00"), "reported"),
    }
    assert shares(ANONYMOUS, day(BETWEEN)) == {
        "Konchoch": (Decimal("66.67"), "computed"),
        "Altyn-Topkan": (Decimal("33.33"), "computed"),
    }
    assert shares(ANONYMOUS, day(AFTER)) == {
        "Konchoch": (Decimal("75.00"), "computed"),
        "Altyn-Topkan": (Decimal("25.00"), "computed"),
    }
    silver = silver_registry["silver"].pk
    assert national_totals(ANONYMOUS, on=day(BETWEEN)) == {silver: Decimal("150000")}
    assert national_totals(ANONYMOUS, on=day(AFTER)) == {silver: Decimal("200000")}
    # Staff count the internal deposit too.
    assert national_totals(STAFF, on=day(AFTER)) == {silver: Decimal("1000000")}
    assert shares(STAFF, day(AFTER))["Konchoch"] == (Decimal("15.00"), "computed")


def test_before_any_estimate_nothing_is_computed(silver_registry):
    assert shares(ANONYMOUS, datetime.date(2000, 1, 1)) == {
        "Konchoch": (None, None),
        "Altyn-Topkan": (Decimal("20.00"), "reported"),
    }
    assert national_totals(ANONYMOUS, on=datetime.date(2000, 1, 1)) == {}


@pytest.mark.parametrize("caller", [ANONYMOUS, STAFF])
def test_the_kept_sums_are_the_same_definition_as_of_today(silver_registry, caller):
    """The kept sums (as recorded now) and the sums as of a date are one definition: read
    through the as-of path for today, every share and total is the kept one, troy ounces
    and a three-way split included."""
    gold = MineralFactory(code="gold", symbol="Au", name="Gold")
    for quantity, unit in (("1000000", "oz t"), ("31103.4768", "kg"), ("7", "t")):
        deposit = DepositFactory()
        CommodityFactory(deposit=deposit, mineral=gold)
        estimate(deposit, gold, quantity, "2019-01-01", unit=unit, category="B")
    today = timezone.localdate()
    kept = {
        (row.deposit_id, row.mineral_id): (row.share_pct, row.share_basis, row.share_scope)
        for row in with_shares(DepositCommodity.objects.all(), caller)
    }
    computed = {
        (row.deposit_id, row.mineral_id): (row.share_pct, row.share_basis, row.share_scope)
        for row in with_shares(DepositCommodity.objects.all(), caller, on=today)
    }
    assert kept == computed
    assert national_totals(caller) == national_totals(caller, on=today)
    assert national_totals(caller) == summed_national_totals(caller)


def test_today_is_the_figures_as_recorded_now():
    today = timezone.localdate()
    assert recorded_on(None) is None
    assert recorded_on(today) is None
    assert recorded_on(today - datetime.timedelta(days=1)) == today - datetime.timedelta(days=1)


# The API


def silver_shares(document):
    (silver,) = [c for c in document["commodities"] if c["mineral"] == "silver"]
    return silver["reserve_share_pct"], silver["share_basis"], silver["share_scope"]


@pytest.mark.parametrize(
    ("as_of", "konchoch", "altyn"),
    [
        (BEFORE_ALTYN_TOPKAN, ("100.00", "computed"), ("20.00", "reported")),
        (BETWEEN, ("66.67", "computed"), ("33.33", "computed")),
        (AFTER, ("75.00", "computed"), ("25.00", "computed")),
    ],
)
def test_api_deposit_list_and_detail_as_of(silver_registry, api_client, as_of, konchoch, altyn):
    response = api_client.get("/api/v1/deposits/", {"mineral": "silver", "as_of": as_of})
    assert response.status_code == 200
    assert response["As-Of"] == as_of
    listed = {d["name"]: silver_shares(d)[:2] for d in response.json()["results"]}
    assert listed == {"Konchoch": konchoch, "Altyn-Topkan": altyn}  # never the internal one

    public_id = silver_registry["konchoch"].public_id
    detail = api_client.get(f"/api/v1/deposits/{public_id}/", {"as_of": as_of})
    assert detail["As-Of"] == as_of
    assert silver_shares(detail.json())[:2] == konchoch


def test_api_detail_lists_the_estimates_in_force_on_the_day(silver_registry, api_client):
    public_id = silver_registry["konchoch"].public_id
    as_of = api_client.get(f"/api/v1/deposits/{public_id}/", {"as_of": BETWEEN}).json()
    assert [(r["quantity"], r["as_of"]) for r in as_of["reserves"]] == [
        ("100.000000", "2010-05-01")
    ]
    # Without a day: every estimate recorded, as the document always listed them.
    now = api_client.get(f"/api/v1/deposits/{public_id}/").json()
    assert len(now["reserves"]) == 2


def test_api_reserves_as_of_lists_the_estimates_in_force(silver_registry, api_client, editor):
    response = api_client.get("/api/v1/reserves/", {"as_of": BETWEEN})
    assert response.status_code == 200
    assert response["As-Of"] == BETWEEN
    listed = {(r["deposit"], r["quantity"]) for r in response.json()["results"]}
    assert listed == {
        (silver_registry["konchoch"].public_id, "100.000000"),
        (silver_registry["altyn"].public_id, "50.000000"),
    }
    assert len(api_client.get("/api/v1/reserves/").json()["results"]) == 3


def test_api_mineral_statistics_as_of(silver_registry, api_client):
    response = api_client.get("/api/v1/stats/minerals/silver/", {"as_of": BETWEEN})
    assert response.status_code == 200
    assert response["As-Of"] == BETWEEN
    data = response.json()
    assert [(d["name"], d["reserve_share_pct"]) for d in data["deposits"]] == [
        ("Konchoch", "66.67"),
        ("Altyn-Topkan", "33.33"),
    ]
    assert [(t["category"], t["quantity"]) for t in data["totals"]] == [("C1", "150.000000")]

    after = api_client.get("/api/v1/stats/minerals/silver/", {"as_of": AFTER}).json()
    assert [(t["category"], t["quantity"]) for t in after["totals"]] == [("C1", "200.000000")]
    assert after["deposits"][0]["reserve_share_pct"] == "75.00"


def test_api_region_statistics_as_of(silver_registry, api_client):
    response = api_client.get("/api/v1/stats/regions/TJ-SU/", {"as_of": BETWEEN})
    assert response["As-Of"] == BETWEEN
    (silver,) = response.json()["minerals"]
    assert [t["quantity"] for t in silver["totals"]] == ["150.000000"]
    assert [d["reserve_share_pct"] for d in silver["deposits"]] == ["66.67", "33.33"]


def test_min_share_reads_the_shares_as_of_the_day(silver_registry, api_client):
    def names(**params):
        response = api_client.get("/api/v1/deposits/", {"mineral": "silver", **params})
        return {d["name"] for d in response.json()["results"]}

    assert names(min_share="70") == {"Konchoch"}
    assert names(min_share="70", as_of=BETWEEN) == set()
    assert names(min_share="30", as_of=BETWEEN) == {"Konchoch", "Altyn-Topkan"}
    assert names(min_share="99", as_of=BEFORE_ALTYN_TOPKAN) == {"Konchoch"}


def test_staff_as_of_shares_count_the_internal_deposit(silver_registry, staff_api_client):
    response = staff_api_client.get("/api/v1/deposits/", {"mineral": "silver", "as_of": AFTER})
    listed = {d["name"]: silver_shares(d) for d in response.json()["results"]}
    assert listed["Konchoch"] == ("15.00", "computed", "all")
    assert listed["Hidden silver"] == ("80.00", "computed", "all")


def test_an_anonymous_as_of_answer_never_shows_the_internal_deposit(silver_registry, api_client):
    hidden = silver_registry["hidden"]
    for url in (
        "/api/v1/deposits/",
        "/api/v1/reserves/",
        "/api/v1/stats/minerals/silver/",
        "/ogc/collections/deposits/items",
    ):
        body = api_client.get(url, {"as_of": AFTER}).content.decode()
        assert hidden.public_id not in body
        assert "Hidden silver" not in body
        # Its 800 t, as tonnes or kilograms, anywhere but inside a time's fraction of a
        # second (a created_at's microseconds may hold the digits).
        assert not re.search(r"(?<![\d.])800(?:000)?(?!\d)", body)
    detail = api_client.get(f"/api/v1/deposits/{hidden.public_id}/", {"as_of": AFTER})
    assert detail.status_code == 404


def test_as_of_today_and_no_day_answer_the_same_figures(silver_registry, api_client):
    today = timezone.localdate().isoformat()
    now = api_client.get("/api/v1/stats/minerals/silver/")
    asked = api_client.get("/api/v1/stats/minerals/silver/", {"as_of": today})
    assert now["As-Of"] == asked["As-Of"] == today
    assert now.json() == asked.json()
    listed = api_client.get("/api/v1/deposits/", {"mineral": "silver", "as_of": today}).json()
    assert {d["name"]: silver_shares(d)[0] for d in listed["results"]} == {
        "Konchoch": "75.00",
        "Altyn-Topkan": "25.00",
    }


def test_as_of_answers_are_cached_apart_with_their_own_etags(
    silver_registry, api_client, either_cache
):
    url = "/api/v1/stats/minerals/silver/"
    first = api_client.get(url, {"as_of": BETWEEN})
    now = api_client.get(url)
    assert first["ETag"] != now["ETag"]
    # From the cache: the same answer and day for each.
    again = api_client.get(url, {"as_of": BETWEEN})
    assert again.content == first.content and again["ETag"] == first["ETag"]
    assert again["As-Of"] == BETWEEN
    assert api_client.get(url)["As-Of"] == timezone.localdate().isoformat()
    unchanged = api_client.get(url, {"as_of": BETWEEN}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert unchanged.status_code == 304


def test_the_as_of_default_keeps_its_query_count(silver_registry, api_client, settings):
    settings.API_CACHE_SECONDS = 0

    def queries(url, params=None):
        with CaptureQueriesContext(connection) as captured:
            assert api_client.get(url, params).status_code == 200
        return len(captured)

    for url in ("/api/v1/deposits/", "/api/v1/stats/minerals/"):
        # As of a past day: the day's national totals are read once more, nothing per row.
        assert queries(url, {"as_of": BETWEEN}) <= queries(url) + 1


def test_api_csv_export_as_of(silver_registry, api_client):
    response = api_client.get("/api/v1/deposits/", {"format": "csv", "as_of": BETWEEN})
    assert response.status_code == 200
    assert response["As-Of"] == BETWEEN
    body = b"".join(response.streaming_content).decode()
    assert "66.67" in body and "33.33" in body


# Bad days


BAD_DAYS = [
    "2023-13-01",  # no such month
    "2023-02-30",  # no such day
    "31.12.2023",
    "2023-1-5",
    "20231231",
    "2023-12-31T00:00:00",
    "yesterday",
    "2023-12-31\x00",
    "١٢٣٤-١٢-٣١",  # digits, but not ASCII ones
    "1899-12-31",  # before the registry's first day
    "9999-12-31",  # after today
    "2" * 5000,
]


@pytest.mark.parametrize("day", BAD_DAYS)
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/deposits/",
        "/api/v1/deposits/{id}/",
        "/api/v1/reserves/",
        "/api/v1/stats/minerals/",
        "/api/v1/stats/regions/TJ-SU/",
    ],
)
def test_a_bad_day_is_a_400_naming_the_parameter(silver_registry, api_client, url, day):
    url = url.format(id=silver_registry["konchoch"].public_id)
    response = api_client.get(url, {"as_of": day})
    assert response.status_code == 400
    assert list(response.json()) == ["as_of"]


def test_tomorrow_is_refused_with_the_reason(api_client):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = api_client.get("/api/v1/stats/minerals/", {"as_of": tomorrow.isoformat()})
    assert response.status_code == 400
    assert "up to today" in response.json()["as_of"][0]


@pytest.mark.parametrize("day", ["2023-02-30", "9999-12-31", "x"])
def test_ogc_refuses_a_bad_day_naming_it(silver_registry, api_client, day):
    response = api_client.get("/ogc/collections/deposits/items", {"as_of": day})
    assert response.status_code == 400
    assert list(response.json()["parameters"]) == ["as_of"]


@pytest.mark.parametrize("page", ["deposit", "mineral", "region"])
def test_a_page_shows_a_bad_day_as_a_form_error(silver_registry, client, page):
    url = {
        "deposit": f"/deposits/{silver_registry['konchoch'].public_id}/",
        "mineral": "/minerals/silver/",
        "region": "/regions/TJ-SU/",
    }[page]
    response = client.get(url, {"as_of": "2023-02-30"})
    assert response.status_code == 400
    form = response.context["as_of_form"]
    assert form.errors["as_of"] == ["2023-02-30 is not a day of the calendar."]
    assert 'class="errorlist"' in response.content.decode()


# OGC and the pages


def test_ogc_items_as_of(silver_registry, api_client):
    response = api_client.get("/ogc/collections/deposits-silver/items", {"as_of": BETWEEN})
    assert response.status_code == 200
    features = {f["properties"]["name"]: f["properties"] for f in response.json()["features"]}
    assert set(features) == {"Konchoch", "Altyn-Topkan"}
    assert features["Konchoch"]["share_pct"] == 66.67
    assert features["Altyn-Topkan"]["share_pct"] == 33.33
    assert {p["as_of"] for p in features.values()} == {BETWEEN}

    public_id = silver_registry["konchoch"].public_id
    item = api_client.get(f"/ogc/collections/deposits-silver/items/{public_id}", {"as_of": AFTER})
    assert item.json()["properties"]["share_pct"] == 75.0
    assert item.json()["properties"]["as_of"] == AFTER
    now = api_client.get(f"/ogc/collections/deposits-silver/items/{public_id}").json()
    assert now["properties"]["as_of"] == timezone.localdate().isoformat()


def test_mineral_page_as_of(silver_registry, client):
    response = client.get("/minerals/silver/", {"as_of": BETWEEN})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Figures as of June 30, 2016" in page
    ranking = [(row.deposit.name, row.share_pct) for row in response.context["ranking"]]
    assert ranking == [("Konchoch", Decimal("66.67")), ("Altyn-Topkan", Decimal("33.33"))]
    assert [row["quantity"] for row in response.context["totals"]] == [Decimal(150)]
    assert f'?as_of={BETWEEN}">' in page  # the PDF and XLSX carry the day
    assert 'type="date"' in page


def test_mineral_spreadsheet_states_the_day(silver_registry, client):
    from deposits.pages.mineral import as_of_note

    assert as_of_note({"as_of": datetime.date(2023, 12, 31)}) == "Figures as of Dec. 31, 2023"
    response = client.get("/minerals/silver/report.xlsx", {"as_of": BETWEEN})
    assert response.status_code == 200


def test_deposit_page_as_of(silver_registry, client):
    public_id = silver_registry["konchoch"].public_id
    response = client.get(f"/deposits/{public_id}/", {"as_of": BETWEEN})
    assert response.status_code == 200
    assert "Figures as of June 30, 2016" in response.content.decode()
    (silver,) = response.context["commodities"]
    assert silver.share_pct == Decimal("66.67")
    ((_, estimates),) = response.context["reserves"]
    assert [e.quantity for e in estimates] == [Decimal("100")]
    now = client.get(f"/deposits/{public_id}/")
    today = timezone.localdate()
    assert f"Figures as of {date_format(today, 'DATE_FORMAT')}" in now.content.decode()
    (silver,) = now.context["commodities"]
    assert silver.share_pct == Decimal("75.00")


def test_region_page_states_the_day(silver_registry, client):
    response = client.get("/regions/TJ-SU/", {"as_of": BETWEEN})
    assert response.status_code == 200
    assert "Figures as of June 30, 2016" in response.content.decode()


def test_an_estimate_of_the_day_itself_is_in_force_on_it(silver_registry, api_client):
    response = api_client.get("/api/v1/stats/minerals/silver/", {"as_of": "2015-01-01"})
    assert response.json()["deposits"][0]["reserve_share_pct"] == "66.67"
    assert (
        ReserveEstimate.objects.in_force(datetime.date(2014, 12, 31))
        .filter(deposit=silver_registry["altyn"])
        .count()
        == 0
    )


def test_deposit_list_page_and_its_export_as_of(silver_registry, client):
    response = client.get("/deposits/", {"mineral": "silver", "as_of": BETWEEN})
    assert response.status_code == 200
    shares = {
        deposit.name: [c.share_pct for c in deposit.commodities.all()]
        for deposit in response.context["page"]
    }
    assert shares == {"Konchoch": [Decimal("66.67")], "Altyn-Topkan": [Decimal("33.33")]}
    assert 'type="date"' in response.content.decode()
    export = client.get("/deposits/export.csv", {"mineral": "silver", "as_of": BETWEEN})
    assert export.status_code == 200
    assert "66.67" in b"".join(export.streaming_content).decode()
    refused = client.get("/deposits/", {"as_of": "2023-02-30"})
    assert refused.context["form"].errors["as_of"] == ["2023-02-30 is not a day of the calendar."]


def summed_totals(queries) -> list[str]:
    """The national totals' sums among `queries` (not a deposit mineral's own kilograms,
    which are a subquery of the minerals' read)."""
    return [q["sql"] for q in queries if TOTALS_SUM.match(q["sql"])]


# SQLite writes the sum inside a cast.
TOTALS_SUM = re.compile(
    r'SELECT "deposits_reserveestimate"\."mineral_id" AS "mineral_id", \(?(CAST\()?SUM\('
)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_totals_as_of_a_day_are_summed_once_until_the_registry_changes(silver_registry, api_client):
    """Committed reads: the first list as of a day sums the national totals on that day, the
    next reuses them while nothing is written, and a re-estimate dated before the day is
    counted by the read after its commit; another caller's totals are its own."""

    def listed():
        with CaptureQueriesContext(connection) as read:
            response = api_client.get("/api/v1/deposits/", {"mineral": "silver", "as_of": BETWEEN})
        return {d["name"]: silver_shares(d)[0] for d in response.json()["results"]}, read

    first, read = listed()
    assert first == {"Konchoch": "66.67", "Altyn-Topkan": "33.33"}
    assert len(summed_totals(read)) == 1
    again, read = listed()
    assert again == first and summed_totals(read) == []

    # Altyn-Topkan re-estimated at 100 t on 2016-01-01, before the day asked.
    estimate(silver_registry["altyn"], silver_registry["silver"], "100", "2016-01-01")
    after, read = listed()
    assert after == {"Konchoch": "50.00", "Altyn-Topkan": "50.00"}
    assert len(summed_totals(read)) == 1
    silver, day = silver_registry["silver"].pk, datetime.date.fromisoformat(BETWEEN)
    assert national_totals(STAFF, on=day) == {silver: Decimal("1000000")}  # 100 + 100 + 800 t
    assert national_totals(ANONYMOUS, on=day) == {silver: Decimal("200000")}
