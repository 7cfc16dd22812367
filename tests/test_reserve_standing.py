"""A deposit's document tells its estimates in force from its history, on every surface it
is shown (the API's deposit, the deposit page, the passport), as of any day: each estimate
is flagged by the one rule (`ReserveEstimate.objects.in_force(on)`), and one taken out of
force by a protocol says how, when and by which protocol.

Konchoch's silver: C1 100 t in 2010, re-estimated at 150 t in 2020, which the GKZ wrote off
on 1 March 2023 (protocol 45); C2 30 t since 2015."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deposits.models import ReserveEstimate
from deposits.querysets import document_estimates
from tests.factories import CommodityFactory, DepositFactory, MineralFactory
from tests.test_paper import pdf_text

pytestmark = pytest.mark.django_db

WRITTEN_OFF = datetime.date(2023, 3, 1)
PROTOCOL = "GKZ RT protocol 45"


@pytest.fixture(autouse=True)
def _pages(pages_settings):
    pass


@pytest.fixture
def konchoch():
    silver = MineralFactory()
    deposit = DepositFactory(name="Konchoch")
    CommodityFactory(deposit=deposit, mineral=silver)

    def estimate(category, quantity, day, **fields):
        return ReserveEstimate.objects.create(
            deposit=deposit,
            mineral=silver,
            category=category,
            balance=True,
            quantity=Decimal(quantity),
            unit="t",
            as_of=datetime.date.fromisoformat(day),
            approved_by="GKZ RT",
            source=f"State Balance {day[:4]}",
            **fields,
        )

    estimate("C1", "100", "2010-05-01", protocol="12")
    estimate(
        "C1",
        "150",
        "2020-03-01",
        protocol="31",
        protocol_date=datetime.date(2020, 3, 1),
        withdrawal="written_off",
        withdrawn_on=WRITTEN_OFF,
        withdrawal_protocol=PROTOCOL,
    )
    estimate("C2", "30", "2015-01-01")
    return deposit


def flags(estimates) -> dict:
    return {(e.category, e.quantity.normalize()): e.in_force for e in estimates}


@pytest.mark.parametrize(
    "day",
    [
        None,
        datetime.date(2012, 1, 1),
        datetime.date(2016, 6, 30),
        datetime.date(2021, 1, 1),
        datetime.date(2023, 2, 28),
        WRITTEN_OFF,
    ],
)
def test_the_flag_is_the_rules_answer_on_every_day(konchoch, day):
    """`in_force` is true exactly for the estimates `in_force(day)` returns; the document
    lists every estimate recorded by then (every one without a day)."""
    listed = list(document_estimates(day).filter(deposit=konchoch))
    rule = set(ReserveEstimate.objects.in_force(day).filter(deposit=konchoch))
    assert {e for e in listed if e.in_force} == rule
    recorded = konchoch.reserves.all()
    if day is not None:
        recorded = recorded.filter(as_of__lte=day)
    assert set(listed) == set(recorded)


def test_history_and_withdrawal_as_of_several_days(konchoch):
    def on(day):
        return flags(document_estimates(day).filter(deposit=konchoch))

    assert on(datetime.date(2012, 1, 1)) == {("C1", Decimal(100)): True}
    assert on(datetime.date(2021, 1, 1)) == {
        ("C1", Decimal(100)): False,  # replaced by the 2020 re-estimate
        ("C1", Decimal(150)): True,  # its write-off came later
        ("C2", Decimal(30)): True,
    }
    assert (
        on(WRITTEN_OFF)
        == on(None)
        == {
            ("C1", Decimal(100)): False,  # a withdrawal never brings an older figure back
            ("C1", Decimal(150)): False,
            ("C2", Decimal(30)): True,
        }
    )


# --- the API ---------------------------------------------------------------------------


def reserves(api_client, deposit, **params) -> dict:
    response = api_client.get(f"/api/v1/deposits/{deposit.public_id}/", params)
    assert response.status_code == 200
    return {(r["category"], r["quantity"]): r for r in response.json()["reserves"]}


def test_the_api_document_marks_history_and_withdrawals(api_client, konchoch):
    now = reserves(api_client, konchoch)
    written_off = now[("C1", "150.000000")]
    assert {name: written_off[name] for name in ReserveEstimate.STANDING} == {
        "protocol_date": "2020-03-01",
        "withdrawal": "written_off",
        "withdrawn_on": "2023-03-01",
        "withdrawal_protocol": PROTOCOL,
    }
    assert {key: r["in_force"] for key, r in now.items()} == {
        ("C1", "100.000000"): False,
        ("C1", "150.000000"): False,
        ("C2", "30.000000"): True,
    }
    assert now[("C1", "100.000000")]["withdrawal"] == ""  # replaced, not withdrawn

    # As of 2021: the 150 t was in force then; its later write-off is recorded beside it.
    then = reserves(api_client, konchoch, as_of="2021-01-01")
    assert {key: r["in_force"] for key, r in then.items()} == {
        ("C1", "100.000000"): False,
        ("C1", "150.000000"): True,
        ("C2", "30.000000"): True,
    }
    assert then[("C1", "150.000000")]["withdrawn_on"] == "2023-03-01"
    # Before the re-estimate existed, it is not in the document.
    assert list(reserves(api_client, konchoch, as_of="2012-01-01")) == [("C1", "100.000000")]


def test_the_list_says_the_same_as_the_record_at_the_same_cost(api_client, konchoch):
    def listed(**params):
        with CaptureQueriesContext(connection) as queries:
            response = api_client.get("/api/v1/deposits/", params)
        (document,) = response.json()["results"]
        return {(r["category"], r["quantity"], r["in_force"]) for r in document["reserves"]}, len(
            queries
        )

    now, cost_now = listed()
    then, cost_then = listed(as_of="2021-01-01")
    assert now == {(k[0], k[1], r["in_force"]) for k, r in reserves(api_client, konchoch).items()}
    assert ("C1", "150.000000", True) in then
    # More deposits, more history: the same number of queries.
    for name in ("Jilau", "Altyn-Topkan"):
        other = DepositFactory(name=name)
        CommodityFactory(deposit=other, mineral=MineralFactory())
        for year in (2001, 2011):
            ReserveEstimate.objects.create(
                deposit=other,
                mineral=MineralFactory(),
                category="C1",
                balance=True,
                quantity=Decimal(year - 2000),
                unit="t",
                as_of=datetime.date(year, 1, 1),
                source="test",
            )
    for params, cost in (({}, cost_now), ({"as_of": "2021-01-01"}, cost_then)):
        with CaptureQueriesContext(connection) as queries:
            assert api_client.get("/api/v1/deposits/", params).status_code == 200
        assert len(queries) == cost


def test_the_reserves_list_flags_them_too_and_a_write_answers_the_new_standing(
    api_client, staff_api_client, konchoch
):
    def listed(**params):
        response = api_client.get("/api/v1/reserves/", {"deposit": konchoch.public_id, **params})
        return {(r["category"], r["quantity"]): r["in_force"] for r in response.json()["results"]}

    assert listed() == {
        ("C1", "100.000000"): False,
        ("C1", "150.000000"): False,
        ("C2", "30.000000"): True,
    }
    # As of a day, the list holds the estimates in force on it: every one flagged so.
    assert listed(as_of="2021-01-01") == {("C1", "150.000000"): True, ("C2", "30.000000"): True}

    c2 = konchoch.reserves.get(category="C2")
    url = f"/api/v1/reserves/{c2.public_id}/"
    etag = staff_api_client.get(url)["ETag"]
    assert staff_api_client.get(url).json()["in_force"] is True
    withdrawal = {
        "withdrawal": "superseded",
        "withdrawn_on": "2024-01-10",
        "withdrawal_protocol": PROTOCOL,
    }
    response = staff_api_client.patch(url, withdrawal, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["in_force"] is False  # the answer is the record as now read
    assert staff_api_client.get(url).json()["in_force"] is False

    created = staff_api_client.post(
        "/api/v1/reserves/",
        {
            "deposit": konchoch.public_id,
            "mineral": "silver",
            "category": "C2",
            "balance": True,
            "quantity": "35",
            "unit": "t",
            "as_of": "2024-02-01",
            "source": "GKZ RT protocol 50",
        },
        format="json",
    )
    assert created.status_code == 201 and created.json()["in_force"] is True


# --- the page and the passport -------------------------------------------------------------


def page_text(client, deposit, **params) -> str:
    response = client.get(reverse("deposit-detail", args=[deposit.public_id]), params)
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_the_page_lists_history_apart_saying_what_took_each_out_of_force(client, konchoch):
    response = client.get(reverse("deposit-detail", args=[konchoch.public_id]))
    in_force = [(m.code, [e.quantity for e in rows]) for m, rows in response.context["reserves"]]
    history = [
        (m.code, [e.quantity for e in rows]) for m, rows in response.context["reserve_history"]
    ]
    assert in_force == [("silver", [Decimal(30)])]
    assert history == [("silver", [Decimal(150), Decimal(100)])]  # newest first
    html = page_text(client, konchoch)
    assert "Reserve history" in html and "Silver: history, not in force" in html
    assert f"Written off on March 1, 2023, {PROTOCOL}" in html
    assert "Replaced by a newer estimate" in html


def test_the_page_as_of_a_day_before_the_write_off(client, konchoch):
    response = client.get(
        reverse("deposit-detail", args=[konchoch.public_id]), {"as_of": "2021-01-01"}
    )
    ((_silver, in_force),) = response.context["reserves"]
    assert [e.quantity for e in in_force] == [Decimal(150), Decimal(30)]  # C1, then C2
    ((_silver, history),) = response.context["reserve_history"]
    assert [e.quantity for e in history] == [Decimal(100)]
    html = page_text(client, konchoch, as_of="2021-01-01")
    # In force on that day, its later write-off said beside its date.
    assert f"Written off on March 1, 2023, {PROTOCOL}" in html
    assert "Replaced by a newer estimate" in html
    # The passport is offered as of the same day.
    passport = reverse("deposit-passport", args=[konchoch.public_id])
    assert f"{passport}?as_of=2021-01-01" in html


def test_a_deposit_whose_estimates_are_all_history_says_so(client, konchoch):
    konchoch.reserves.filter(category="C2").update(
        withdrawal="superseded", withdrawn_on=WRITTEN_OFF, withdrawal_protocol=PROTOCOL
    )
    html = page_text(client, konchoch)
    assert "No reserve estimate is in force." in html
    assert f"Superseded on March 1, 2023, {PROTOCOL}" in html


def passport(client, deposit, **params):
    return client.get(reverse("deposit-passport", args=[deposit.public_id]), params)


def test_the_passport_carries_the_history_apart(client, konchoch):
    text = pdf_text(passport(client, konchoch).content)
    in_force, history = text.split("Reserve history", 1)
    assert "30 t" in in_force and "150 t" not in in_force
    assert "150 t" in history and "100 t" in history
    assert f"Written off on March 1, 2023, {PROTOCOL}" in history
    assert "Replaced by a newer estimate" in history


def test_the_passport_as_of_a_day(client, konchoch):
    text = pdf_text(passport(client, konchoch, as_of="2021-01-01").content)
    assert "Figures as of Jan. 1, 2021" in text
    in_force, history = text.split("Reserve history", 1)
    assert "150 t" in in_force and f"Written off on March 1, 2023, {PROTOCOL}" in in_force
    assert "100 t" in history and "150 t" not in history


@pytest.mark.parametrize("day", ["2023-02-30", "9999-12-31", "x"])
def test_the_passport_refuses_a_bad_day(client, konchoch, day):
    response = passport(client, konchoch, as_of=day)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode()
