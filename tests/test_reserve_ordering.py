"""Sorting the deposit list by reserve share and by reserves in force (`ordering=share`,
`ordering=quantity`), in the API and on the list page.

The figures are the share rule's (deposits.shares) as the caller reads them, as of the
day asked: per mineral when one is filtered, the largest share of any mineral without
one; quantities of the one filtered mineral only. A deposit without the figure comes
last in either direction; equal figures by name, then identifier; nothing a caller may
not see moves its order. The registry is `reserves_registry` (tests/conftest.py).
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deposits.models import ReserveEstimate
from tests.factories import CommodityFactory, DepositFactory, MineralFactory, ReserveEstimateFactory
from tests.test_pages import LIST_QUERIES

pytestmark = pytest.mark.django_db

DEPOSITS = "/api/v1/deposits/"
LIST = "/deposits/"

# Silver, largest share first, as each caller reads it now. Reported Ridge's reported
# "over 22%" stands beside the computed shares (each says its basis); Kaltasay has none.
# Of the public 293.31 t: Konchoch 51.14%, Kumarkh 31.81%, Altyn-Topkan 17.05%.
PUBLIC_BY_SHARE = ["Konchoch", "Kumarkh", "Reported Ridge", "Altyn-Topkan", "Kaltasay"]
# Of 593.31 t: Shared 50.56%, Konchoch 25.28%, Kumarkh 15.73%, Altyn-Topkan 8.43%.
PARTNERS_BY_SHARE = [
    "Shared silver",
    "Konchoch",
    "Reported Ridge",
    "Kumarkh",
    "Altyn-Topkan",
    "Kaltasay",
]
# Of 1,393.31 t: Hidden 57.42%, Shared 21.53%, Konchoch 10.77%, Kumarkh 6.70%, ...
STAFF_BY_SHARE = [
    "Hidden silver",
    "Reported Ridge",
    "Shared silver",
    "Konchoch",
    "Kumarkh",
    "Altyn-Topkan",
    "Kaltasay",
]


def names(client, **params) -> list[str]:
    response = client.get(DEPOSITS, {**params, "page_size": 100})
    assert response.status_code == 200, response.content
    return [deposit["name"] for deposit in response.json()["results"]]


def page_names(client, **params) -> list[str]:
    response = client.get(LIST, params)
    assert response.status_code == 200
    assert response.context["valid"], response.context["form"].errors
    return [deposit.name for deposit in response.context["page"].object_list]


# --- the API ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_name", "expected"),
    [
        ("api_client", PUBLIC_BY_SHARE),
        ("partner_client", PARTNERS_BY_SHARE),
        ("staff_api_client", STAFF_BY_SHARE),
    ],
)
def test_each_caller_sorts_by_the_shares_it_reads(
    request, reserves_registry, client_name, expected
):
    client = request.getfixturevalue(client_name)
    assert names(client, mineral="silver", ordering="-share") == expected
    # Smallest first: the unknown share still comes last.
    ascending = names(client, mineral="silver", ordering="share")
    assert ascending == [*reversed(expected[:-1]), "Kaltasay"]


def test_the_order_by_share_is_the_rankings_order(api_client, reserves_registry):
    ranking = api_client.get("/api/v1/stats/minerals/silver/", {"top": 100}).json()["deposits"]
    ranked = [deposit["name"] for deposit in ranking]
    listed = names(api_client, mineral="silver", ordering="-share")
    assert listed[: len(ranked)] == ranked


def test_quantity_is_the_balance_reserves_in_force_in_kilograms(api_client, reserves_registry):
    # Konchoch 150 t (its C2 and P1 not counted), Kumarkh 3,000,000 oz t = 93.31 t,
    # Altyn-Topkan 50 t (its P2 500 t not counted); then the deposits with none, by name.
    largest = names(api_client, mineral="silver", ordering="-quantity")
    assert largest == ["Konchoch", "Kumarkh", "Altyn-Topkan", "Kaltasay", "Reported Ridge"]
    smallest = names(api_client, mineral="silver", ordering="quantity")
    assert smallest == ["Altyn-Topkan", "Kumarkh", "Konchoch", "Kaltasay", "Reported Ridge"]


@pytest.mark.parametrize(
    ("as_of", "ordering", "expected"),
    [
        # Konchoch's 100 t of 2010 alone was in force: 100%; Altyn-Topkan's reported 20%.
        ("2012-01-01", "-share", ["Konchoch", "Reported Ridge", "Altyn-Topkan"]),
        # 100 t and 50 t: 66.67% and 33.33%; Kumarkh's ounces were not yet estimated.
        ("2016-06-30", "-share", ["Konchoch", "Altyn-Topkan", "Reported Ridge"]),
        ("2016-06-30", "-quantity", ["Konchoch", "Altyn-Topkan"]),
        ("2012-01-01", "-quantity", ["Konchoch"]),
    ],
)
def test_the_order_is_of_the_figures_as_of_the_day(
    api_client, reserves_registry, as_of, ordering, expected
):
    listed = names(api_client, mineral="silver", ordering=ordering, as_of=as_of)
    assert listed[: len(expected)] == expected
    unknown = [name for name in listed if name not in expected]
    assert unknown == sorted(unknown)  # then those without a figure that day, by name


def test_without_a_mineral_the_largest_share_of_any_mineral(api_client, reserves_registry):
    # Golden Valley holds all the public gold.
    assert names(api_client, ordering="-share") == ["Golden Valley", *PUBLIC_BY_SHARE]
    assert names(api_client, mineral=["silver", "gold"], ordering="-share") == [
        "Golden Valley",
        *PUBLIC_BY_SHARE,
    ]


def test_a_hidden_estimate_moves_nothing_in_a_public_order(
    api_client, staff_api_client, reserves_registry
):
    orders = [{"mineral": "silver", "ordering": o} for o in ("-share", "share", "-quantity")]
    orders.append({"ordering": "-share"})
    before = [api_client.get(DEPOSITS, params).content for params in orders]
    staff_before = names(staff_api_client, mineral="silver", ordering="-share")
    hidden = ReserveEstimate.objects.get(deposit=reserves_registry["Hidden silver"])
    # The internal deposit falls from 57.42% to 0.84% for staff, and Konchoch rises from
    # 10.77% to 25.07%, past Reported Ridge's 22%: an order of staff shares would move.
    hidden.quantity = Decimal(5)
    hidden.save()
    assert [api_client.get(DEPOSITS, params).content for params in orders] == before
    assert names(staff_api_client, mineral="silver", ordering="-share") != staff_before


def test_equal_figures_are_ordered_by_name_then_identifier(api_client, reserves_registry):
    antimony = MineralFactory(code="antimony", symbol="Sb", name="Antimony")
    twins = []
    for name in ("Twin", "Beta", "Twin", "Alpha"):
        deposit = DepositFactory(name=name)
        CommodityFactory(deposit=deposit, mineral=antimony)
        ReserveEstimateFactory(deposit=deposit, mineral=antimony, quantity=Decimal(10))
        twins.append(deposit)
    first_twin, second_twin = sorted(
        (d for d in twins if d.name == "Twin"), key=lambda d: d.public_id
    )
    expected = ["Alpha", "Beta", first_twin.public_id, second_twin.public_id]
    for ordering in ("share", "-share", "quantity", "-quantity"):
        response = api_client.get(DEPOSITS, {"mineral": "antimony", "ordering": ordering})
        listed = [d["id"] if d["name"] == "Twin" else d["name"] for d in response.json()["results"]]
        assert listed == expected, ordering


def test_walking_a_sorted_list_visits_each_deposit_once(api_client, reserves_registry):
    seen, url = [], f"{DEPOSITS}?mineral=silver&ordering=-quantity&page_size=2"
    while url:
        body = api_client.get(url).json()
        seen += [deposit["name"] for deposit in body["results"]]
        url = body["next"]
    assert seen == names(api_client, mineral="silver", ordering="-quantity")
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"ordering": "quantity"}, "needs exactly one mineral"),
        ({"ordering": "-quantity", "mineral": ["silver", "gold"]}, "needs exactly one mineral"),
        ({"ordering": "name,quantity"}, "needs exactly one mineral"),
        ({"ordering": "-shares", "mineral": "silver"}, ""),
        ({"ordering": "reserves", "mineral": "silver"}, ""),
    ],
)
def test_a_sort_that_cannot_be_made_is_a_400_naming_ordering(
    api_client, client, pages_settings, reserves_registry, params, reason
):
    for export in ({}, {"format": "csv"}, {"format": "geojson"}):
        response = api_client.get(DEPOSITS, {**params, **export})
        assert response.status_code == 400
        body = response.json()
        assert list(body) == ["ordering"]
        assert reason in body["ordering"][0]
    page = client.get(LIST, params)
    assert page.status_code == 200 and not page.context["valid"]
    html = page.content.decode()
    assert 'role="alert"' in html and reason in html
    assert client.get("/deposits/export.csv", params).status_code == 400


def test_an_unknown_mineral_is_the_error_not_the_sort(api_client, reserves_registry):
    response = api_client.get(DEPOSITS, {"mineral": "unobtainium", "ordering": "quantity"})
    assert response.status_code == 400
    assert list(response.json()) == ["mineral"]


def _queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(DEPOSITS, params).status_code == 200
    return len(context.captured_queries)


def test_sorting_by_a_figure_adds_no_query(api_client, reserves_registry):
    # the mineral validated, count, deposits, their minerals with shares, their reserves
    assert _queries(api_client, mineral="silver") == 5
    for ordering in ("-share", "share", "-quantity", "quantity"):
        assert _queries(api_client, mineral="silver", ordering=ordering) == 5, ordering
    assert _queries(api_client, ordering="-share") == 4
    # As of a day: the day's national totals are read once more, for the shares the list
    # is sorted by (the page's own shares read them too); a quantity needs no total.
    day = {"mineral": "silver", "as_of": "2016-06-30"}
    assert _queries(api_client, **day) == 6
    assert _queries(api_client, **day, ordering="-share") == 7
    assert _queries(api_client, **day, ordering="-quantity") == 6


def test_the_sorted_list_query_count_does_not_grow_with_rows(api_client, reserves_registry):
    few = _queries(api_client, mineral="silver", ordering="-share", page_size=100)
    silver = reserves_registry["Konchoch"].commodities.get().mineral
    for n in range(20):
        deposit = DepositFactory(name=f"More silver {n}")
        CommodityFactory(deposit=deposit, mineral=silver)
        ReserveEstimateFactory(deposit=deposit, mineral=silver, quantity=Decimal(n + 1))
    assert _queries(api_client, mineral="silver", ordering="-share", page_size=100) == few


# --- the list page ---------------------------------------------------------------------


@pytest.fixture
def pages(pages_settings):
    return pages_settings


def test_the_page_sorts_by_share_and_quantity_like_the_api(
    client, api_client, pages, reserves_registry
):
    for ordering in ("-share", "share", "-quantity", "quantity"):
        params = {"mineral": "silver", "ordering": ordering}
        assert page_names(client, **params) == names(api_client, **params)
    assert page_names(client, ordering="-share") == names(api_client, ordering="-share")
    assert page_names(client, mineral="silver", ordering="-share", as_of="2016-06-30") == names(
        api_client, mineral="silver", ordering="-share", as_of="2016-06-30"
    )


def test_the_page_shows_the_quantity_it_sorts_by(client, pages, reserves_registry):
    response = client.get(LIST, {"mineral": "silver", "ordering": "-quantity"})
    html = response.content.decode()
    assert "Silver reserves in force, A+B+C1 (t)" in html
    quantities = {d.name: d.reserve_quantity for d in response.context["page"].object_list}
    assert quantities["Konchoch"] == Decimal(150)
    assert quantities["Kumarkh"].quantize(Decimal("0.0000001")) == Decimal("93.3104304")
    assert quantities["Reported Ridge"] is None
    assert ">93.310<" in html and ">150<" in html
    assert "Sorted by the balance reserves (A+B+C1) of Silver in force. Largest first." in html
    # As of 2016 Konchoch held its 100 t of 2010.
    response = client.get(
        LIST, {"mineral": "silver", "ordering": "-quantity", "as_of": "2016-06-30"}
    )
    quantities = {d.name: d.reserve_quantity for d in response.context["page"].object_list}
    assert quantities["Konchoch"] == Decimal(100) and quantities["Kumarkh"] is None


def test_the_quantity_column_needs_one_mineral(client, pages, reserves_registry):
    for params in ({}, {"mineral": ["silver", "gold"]}):
        html = client.get(LIST, params).content.decode()
        assert "reserves in force, A+B+C1" not in html
        assert "ordering=-quantity" not in html
    html = client.get(LIST, {"mineral": "gold"}).content.decode()
    assert "Gold reserves in force, A+B+C1 (kg)" in html


@pytest.mark.parametrize(
    ("params", "aria", "link"),
    [
        # An analyst asks for the largest first: the first click sorts descending.
        ({"mineral": "silver"}, "none", "ordering=-share"),
        ({"mineral": "silver", "ordering": "-share"}, "descending", "ordering=share"),
        ({"mineral": "silver", "ordering": "share"}, "ascending", "ordering=-share"),
    ],
)
def test_the_share_header_sorts_largest_first(client, pages, reserves_registry, params, aria, link):
    response = client.get(LIST, params)
    column = response.context["sort_columns"]["share"]
    assert column["aria"] == aria
    assert f"?mineral=silver&amp;{link}" in response.content.decode()


def test_the_page_says_what_a_share_sort_orders_by(client, pages, reserves_registry):
    def note(**params):
        return client.get(LIST, params).context["sort_note"]

    assert note(mineral="silver", ordering="-share").startswith(
        "Sorted by the share of Silver in the national reserves. Largest first."
    )
    assert note(ordering="share").startswith(
        "Sorted by each deposit's largest share of any of its minerals"
    )
    assert "Smallest first." in note(ordering="share")
    assert "largest share of the chosen minerals" in note(
        mineral=["silver", "gold"], ordering="-share"
    )
    assert note(mineral="silver", ordering="-name") == ""


def test_the_sorted_page_keeps_its_query_count(client, pages, reserves_registry):
    def count(**params) -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(LIST, params).status_code == 200
        return len(context.captured_queries)

    # tests/test_pages.py: LIST_QUERIES, one for the mineral validated and two for the
    # choices' counts (a registry this small is counted)
    assert count(mineral="silver") == LIST_QUERIES + 3
    for ordering in ("-share", "share", "-quantity", "quantity"):
        assert count(mineral="silver", ordering=ordering) == LIST_QUERIES + 3, ordering
    assert count(ordering="-share") == LIST_QUERIES + 2
