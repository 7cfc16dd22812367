"""Statistics of API v1 (deposits/api/stats.py): each mineral's ranking lists its first
`top` deposits by reserve share and counts them all; a page takes a fixed number of
queries."""

from decimal import Decimal

import pytest

from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MineralFactory,
    RegionFactory,
    ReserveEstimateFactory,
)

pytestmark = pytest.mark.django_db

STATS = "/api/v1/stats"


@pytest.fixture(autouse=True)
def uncached(settings):
    settings.API_CACHE_SECONDS = 0


def _deposit(name, tonnes=None, mineral=None, visibility="public", region=None, **commodity):
    deposit = DepositFactory(
        name=name, visibility=visibility, region=region or RegionFactory(code="TJ-SU")
    )
    mineral = mineral or MineralFactory()
    CommodityFactory(deposit=deposit, mineral=mineral, **commodity)
    if tonnes is not None:
        ReserveEstimateFactory(deposit=deposit, mineral=mineral, quantity=Decimal(tonnes))
    return deposit


@pytest.fixture
def shares(db):
    """Silver: computed shares with ties, an off-balance figure, kilotonnes, hidden
    deposits. Lead: published shares only. Zinc: no share anywhere."""
    khatlon = RegionFactory(code="TJ-KT", name="Khatlon")
    _deposit("Hidden", 600, visibility="internal")
    _deposit("Partner", 100, visibility="partners")
    alpha = _deposit("Alpha")
    ReserveEstimateFactory(deposit=alpha, quantity=Decimal("0.3"), unit="kt")  # 300 t
    bravo = _deposit("Bravo", 300)
    ReserveEstimateFactory(deposit=bravo, quantity=Decimal(500), category="C2")  # no share
    ReserveEstimateFactory(deposit=bravo, quantity=Decimal(500), balance=False)  # no share
    _deposit("Near", "100.01")  # 6.2507%: ranks as 6.25, by name among the 6.25s
    _deposit("Twin", 100)
    _deposit("Twin", 100)
    _deposit("Zeta", region=khatlon)
    _deposit("alpha")  # code point order, as Python compares: "Zeta" < "alpha" < "Ёлка"
    _deposit("Ёлка")
    lead = MineralFactory(code="lead", symbol="Pb", name="Lead")
    for name, share in [("Lead low", "12.345"), ("Lead high", "12.355"), ("Lead five", "5")]:
        _deposit(name, mineral=lead, reported_share_pct=Decimal(share), reported_share_source="x")
    _deposit("Aardvark", mineral=lead, role="associated")
    zinc = MineralFactory(code="zinc", symbol="Zn", name="Zinc")
    for name in ["Zn b", "Zn a", "Zn c"]:
        _deposit(name, mineral=zinc)
    DepositFactory(name="Bare", region=RegionFactory(code="TJ-SU"))  # no minerals


def ranking(body):
    return [(d["name"], d["reserve_share_pct"], d["share_basis"]) for d in body["deposits"]]


SILVER_FOR_STAFF = [
    ("Hidden", "37.50", "computed"),
    ("Alpha", "18.75", "computed"),
    ("Bravo", "18.75", "computed"),
    ("Near", "6.25", "computed"),
    ("Partner", "6.25", "computed"),
    ("Twin", "6.25", "computed"),
    ("Twin", "6.25", "computed"),
    # no estimates of their own and no published share: nothing is known
    ("Zeta", None, None),
    ("alpha", None, None),
    ("Ёлка", None, None),
]


# What a partner reads: the shares of the 1,000.01 t of public and partner deposits.
SILVER_FOR_PARTNERS = [
    ("Alpha", "30.00", "computed"),
    ("Bravo", "30.00", "computed"),
    ("Near", "10.00", "computed"),
    ("Partner", "10.00", "computed"),
    ("Twin", "10.00", "computed"),
    ("Twin", "10.00", "computed"),
    *SILVER_FOR_STAFF[-3:],
]
# What anyone reads: the shares of the 900.01 t of public deposits.
SILVER_FOR_EVERYONE = [
    ("Alpha", "33.33", "computed"),
    ("Bravo", "33.33", "computed"),
    ("Near", "11.11", "computed"),
    ("Twin", "11.11", "computed"),
    ("Twin", "11.11", "computed"),
    *SILVER_FOR_STAFF[-3:],
]


@pytest.mark.parametrize(
    ("client_name", "expected"),
    [
        ("api_client", SILVER_FOR_EVERYONE),
        ("partner_client", SILVER_FOR_PARTNERS),
        ("staff_api_client", SILVER_FOR_STAFF),
    ],
)
def test_deposits_rank_by_share_then_name_then_identifier(request, shares, client_name, expected):
    client = request.getfixturevalue(client_name)
    silver = client.get(f"{STATS}/minerals/silver/", {"top": 1000}).json()
    # Hidden deposits are neither ranked nor counted, nor are their reserves in the
    # total a share is of (deposits.shares).
    assert ranking(silver) == expected
    assert silver["deposit_count"] == len(expected)
    twins = [d["id"] for d in silver["deposits"] if d["name"] == "Twin"]
    assert twins == sorted(twins)
    assert {d["region"] for d in silver["deposits"]} == {"TJ-SU", "TJ-KT"}


def test_published_shares_rank_unrounded_and_no_share_comes_last(api_client, shares):
    lead = api_client.get(f"{STATS}/minerals/lead/").json()
    assert ranking(lead) == [
        ("Lead high", "12.36", "reported"),  # 12.355 and 12.345, rounded half up
        ("Lead low", "12.35", "reported"),
        ("Lead five", "5.00", "reported"),
        ("Aardvark", None, None),
    ]
    assert lead["deposits"][-1]["role"] == "associated"
    zinc = api_client.get(f"{STATS}/minerals/zinc/").json()
    assert ranking(zinc) == [("Zn a", None, None), ("Zn b", None, None), ("Zn c", None, None)]


def test_a_ranking_lists_top_deposits_and_counts_them_all(staff_api_client, shares):
    for top, listed in [(None, 10), (3, 3), (1, 1), (1000, 10)]:
        params = {"top": top} if top else {}
        silver = staff_api_client.get(f"{STATS}/minerals/silver/", params).json()
        assert ranking(silver) == SILVER_FOR_STAFF[:listed]
        assert silver["deposit_count"] == 10
    page = staff_api_client.get(f"{STATS}/minerals/", {"top": 2}).json()["results"]
    assert {m["mineral"]: len(m["deposits"]) for m in page} == {"silver": 2, "lead": 2, "zinc": 2}
    assert {m["mineral"]: m["deposit_count"] for m in page} == {"silver": 10, "lead": 4, "zinc": 3}


def test_a_region_ranks_the_minerals_of_its_own_deposits(api_client, shares):
    sughd = api_client.get(f"{STATS}/regions/TJ-SU/", {"top": 2}).json()
    assert sughd["deposit_count"] == 15  # visible deposits in Sughd, "Bare" included
    minerals = {m["mineral"]: m for m in sughd["minerals"]}
    assert [m["mineral"] for m in sughd["minerals"]] == ["lead", "silver", "zinc"]  # by name
    assert ranking(minerals["silver"]) == SILVER_FOR_EVERYONE[:2]
    assert minerals["silver"]["deposit_count"] == 7  # Zeta lies in Khatlon
    assert minerals["silver"]["totals"] == [
        {
            "category": "C1",
            "balance": True,
            "unit": "kt",
            "quantity": "0.300000",
            "deposit_count": 1,
        },
        {
            "category": "C1",
            "balance": True,
            "unit": "t",
            "quantity": "600.010000",
            "deposit_count": 4,
        },
        {
            "category": "C1",
            "balance": False,
            "unit": "t",
            "quantity": "500.000000",
            "deposit_count": 1,
        },
        {
            "category": "C2",
            "balance": True,
            "unit": "t",
            "quantity": "500.000000",
            "deposit_count": 1,
        },
    ]
    listed = api_client.get(f"{STATS}/regions/", {"top": 1}).json()["results"]
    khatlon = next(r for r in listed if r["region"] == "TJ-KT")
    assert [(m["mineral"], ranking(m)) for m in khatlon["minerals"]] == [
        ("silver", [("Zeta", None, None)])
    ]


@pytest.mark.parametrize("top", ["ten", "2.5", "0", "-1", "1001", " "])
@pytest.mark.parametrize("url", ["/minerals/", "/minerals/silver/", "/regions/", "/regions/TJ-SU/"])
def test_a_bad_top_is_a_400_naming_it(api_client, shares, url, top):
    response = api_client.get(f"{STATS}{url}", {"top": top})
    assert response.status_code == 400
    [reason] = response.json()["top"]
    assert "number" in reason


# --- a fixed number of queries ------------------------------------------------------


def _grow(n):
    silver, lead = MineralFactory(), MineralFactory(code="lead", symbol="Pb", name="Lead")
    for i in range(n):
        deposit = _deposit(
            f"Grown {i}", 10 + i, visibility=("public", "partners", "internal")[i % 3]
        )
        CommodityFactory(deposit=deposit, mineral=lead, reported_share_pct=Decimal(i % 7))
        ReserveEstimateFactory(deposit=deposit, mineral=silver, category="P1")


# The caller's key (with its user); the rankings of every mineral on the page with their
# counts in one query, the totals by category in another, the closed balance years in one.
QUERIES = {
    "/minerals/": 6,  # key, count, page, rankings, totals, closures
    "/minerals/silver/": 5,  # key, mineral, rankings, totals, closures
    "/regions/": 8,  # key, count, page, deposit counts, rankings, minerals, totals, closures
    "/regions/TJ-SU/": 7,  # key, region, deposit counts, rankings, minerals, totals, closures
}


@pytest.mark.parametrize(("url", "queries"), QUERIES.items())
def test_statistics_take_a_fixed_number_of_queries(
    staff_api_client, django_assert_num_queries, url, queries
):
    _grow(6)
    staff_api_client.get(f"{STATS}{url}")  # the key's last use is recorded once
    with django_assert_num_queries(queries):
        few = staff_api_client.get(f"{STATS}{url}", {"top": 2})
    _grow(30)
    with django_assert_num_queries(queries):
        many = staff_api_client.get(f"{STATS}{url}", {"top": 1000})
    assert few.status_code == many.status_code == 200
