"""The data-quality report names every record that needs a clerk's attention."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from reports.quality import findings
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MemorandumFactory,
    MineralFactory,
    RegionFactory,
    ReserveEstimateFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 27)


def report(today=TODAY):
    return [(f.check, f.record, f.message) for f in findings(today)]


def test_a_clean_registry_has_no_findings():
    DepositFactory(latitude=Decimal("39.3333"), longitude=Decimal("67.7167"))
    assert report() == []


def test_deposit_without_coordinates_or_region():
    deposit = DepositFactory(name="Konchoch", region=None)
    [(check, record, message)] = report()
    assert check == "location"
    assert record == f"deposit {deposit.public_id} Konchoch"
    assert message == "no coordinates and no region"


def test_coordinates_outside_the_border_though_inside_the_box():
    # published for Dalnee, this point lies across the border in Uzbekistan
    DepositFactory(name="Dalnee", latitude=Decimal("40.7833"), longitude=Decimal("69.6667"))
    [(check, _, message)] = report()
    assert check == "border"
    assert "11.2 km outside Tajikistan's border" in message


def test_coarse_coordinates_just_across_the_generalised_border_pass():
    # Dara-Pioz's published point lies 2.5 km outside the 1:10m outline (deposits/entry.py)
    DepositFactory(
        name="Dara-Pioz",
        region=RegionFactory(code="TJ-RA", name="Districts of Republican Subordination"),
        latitude=Decimal("39.4167"),
        longitude=Decimal("70.7333"),
    )
    assert report() == []


def test_coordinates_in_another_region_and_derived_regions():
    khatlon = RegionFactory(code="TJ-KT", name="Khatlon")
    # Jilau's coordinates lie in Sughd
    DepositFactory(
        name="Jilau", region=khatlon, latitude=Decimal("39.3333"), longitude=Decimal("67.7167")
    )
    DepositFactory(
        name="Maykhura",
        region=RegionFactory(),
        region_derived=True,
        latitude=Decimal("39.16667"),
        longitude=Decimal("68.5"),
    )
    messages = {record.split()[-1]: message for _, record, message in report()}
    assert "lies in" in messages["Jilau"] and "(TJ-SU)" in messages["Jilau"]
    assert "outside Khatlon (TJ-KT)" in messages["Jilau"]
    assert "derived from coordinates; confirm it" in messages["Maykhura"]


def test_estimates_without_source_or_older_than_ten_years():
    deposit = DepositFactory(latitude=Decimal("39.3333"), longitude=Decimal("67.7167"))
    ReserveEstimateFactory(deposit=deposit, category="P1", source="")
    ReserveEstimateFactory(deposit=deposit, category="C2", as_of=datetime.date(1985, 1, 1))
    ReserveEstimateFactory(deposit=deposit, category="C1", as_of=datetime.date(2020, 1, 1))
    checks = sorted(check for check, _, _ in report())
    assert checks == ["source", "stale"]


def test_only_estimates_in_force_can_be_stale():
    """History is old by nature. Konchoch's C1 silver of 1985, re-estimated in 2020, is not
    stale; nor is a 1990 C2 estimate written off in 2021; the 1992 B estimate still in force
    is. Without a source, history is still flagged: a figure needs its source whatever its
    standing."""
    deposit = DepositFactory(
        name="Konchoch", latitude=Decimal("39.3333"), longitude=Decimal("67.7167")
    )

    def estimate(category, day, **fields):
        return ReserveEstimateFactory(
            deposit=deposit, category=category, as_of=datetime.date.fromisoformat(day), **fields
        )

    replaced = estimate("C1", "1985-01-01", quantity=Decimal(100))
    estimate("C1", "2020-01-01", quantity=Decimal(150))
    estimate(
        "C2",
        "1990-01-01",
        withdrawal="written_off",
        withdrawn_on=datetime.date(2021, 3, 1),
        withdrawal_protocol="GKZ RT protocol 45",
    )
    estimate("B", "1992-06-01")
    found = [(check, record) for check, record, _ in report()]
    assert found == [("stale", f"estimate of Ag B for {deposit.public_id} Konchoch")]
    assert "dated 1992" in report()[0][2]

    # As of a day before the re-estimate and the write-off, both were in force, and stale.
    before = [(check, record.split()[3]) for check, record, _ in report(datetime.date(2019, 6, 1))]
    assert sorted(before) == [("stale", "B"), ("stale", "C1"), ("stale", "C2")]

    # A source is asked of history too.
    type(replaced).objects.filter(pk=replaced.pk).update(source="")
    assert sorted(check for check, _, _ in report()) == ["source", "stale"]


def test_reported_shares_past_100_percent():
    silver = MineralFactory()
    for pct in ("70", "40"):
        commodity = CommodityFactory(mineral=silver)
        # an old record saved before the rule existed, written past validation
        type(commodity).objects.filter(pk=commodity.pk).update(
            reported_share_pct=Decimal(pct), reported_share_source="x"
        )
    assert ("shares", "mineral silver", "reported shares of Silver add up to 110%") in [
        (c, r, m) for c, r, m in report()
    ]


def test_similar_names_a_few_kilometres_apart():
    zidda = DepositFactory(name="Zidda", latitude=Decimal("39.0317"), longitude=Decimal("68.7323"))
    ziddy = DepositFactory(name="Ziddy", latitude=Decimal("39.026"), longitude=Decimal("68.787"))
    DepositFactory(name="Chapar", latitude=Decimal("39.03"), longitude=Decimal("68.75"))
    duplicates = [(r, m) for c, r, m in report() if c == "duplicate"]
    assert duplicates == [
        (
            f"deposit {zidda.public_id} Zidda",
            f"suspected duplicate of {ziddy.public_id} Ziddy (4.8 km apart)",
        )
    ]


def test_placeholder_names_are_not_duplicates():
    for lon in ("68.0189", "68.03"):
        DepositFactory(
            name="Unnamed P occurrence", latitude=Decimal("39.4036"), longitude=Decimal(lon)
        )
    assert [c for c, _, _ in report() if c == "duplicate"] == []


def test_memoranda_past_expiry_still_in_force():
    MemorandumFactory(title="Programme", status="in-force", valid_until=datetime.date(2025, 11, 10))
    MemorandumFactory(title="Current", status="in-force", valid_until=datetime.date(2027, 1, 1))
    [(check, record, message)] = report()
    assert check == "expiry"
    assert record.endswith("Programme")
    assert "still marked in force" in message


def test_memoranda_past_expiry_while_suspended_or_only_signed():
    """A suspension interrupts a memorandum; it does not stop its expiry date."""
    MemorandumFactory(title="Paused", status="suspended", valid_until=datetime.date(2025, 3, 1))
    MemorandumFactory(title="Signed", status="signed", valid_until=datetime.date(2025, 6, 1))
    MemorandumFactory(title="Ended", status="expired", valid_until=datetime.date(2025, 1, 1))
    found = [(check, record.split()[-1], message) for check, record, message in report()]
    assert found == [
        ("expiry", "Paused", "expired on 2025-03-01 but is still marked suspended"),
        ("expiry", "Signed", "expired on 2025-06-01 but is still marked signed"),
    ]


def test_command_prints_one_line_per_finding_and_fails():
    deposit = DepositFactory(name="Konchoch", region=None)
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command(
            "data_quality", "--base-url", "https://registry.example.tj", stdout=out, stderr=err
        )
    assert exit_code.value.code == 1
    assert out.getvalue().splitlines() == [
        f"[location] deposit {deposit.public_id} Konchoch: no coordinates and no region "
        f"https://registry.example.tj/admin/deposits/deposit/{deposit.pk}/change/"
    ]
    assert "1 finding(s)." in err.getvalue()


def test_command_succeeds_on_a_clean_registry():
    out = StringIO()
    call_command("data_quality", stdout=out, stderr=StringIO())
    assert out.getvalue() == ""


def test_admin_page_links_each_finding(viewer_client):
    deposit = DepositFactory(name="Konchoch", region=None)
    response = viewer_client.get(reverse("data-quality"))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("admin:deposits_deposit_change", args=[deposit.pk]) in body
    assert "no coordinates and no region" in body


def test_admin_page_needs_staff(client):
    response = client.get(reverse("data-quality"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_demo_registry_flags_what_the_data_readme_warns_about(load_demo_registry):
    load_demo_registry()
    found = report()
    assert "border" in {c for c, _, _ in found}
    assert any(c == "duplicate" and "Zidda" in r for c, r, _ in found)
    assert any(c == "stale" and "Maykhura" in r for c, r, _ in found)


def test_a_contained_quantity_that_contradicts_ore_and_grade():
    deposit = DepositFactory(name="Konimansuri Kalon")
    ReserveEstimateFactory(  # the source's 1,000 Mt at 49 g/t hold 49,000 t, not 57,000 t
        deposit=deposit,
        category="unclassified",
        quantity=Decimal(57_000),
        ore_tonnage=Decimal(1_000_000_000),
        grade=Decimal(49),
        grade_unit="g/t",
    )
    ReserveEstimateFactory(  # 2 Mt at 0.5% hold 10 kt: within rounding of 10.2 kt
        deposit=deposit,
        mineral=MineralFactory(code="lead", symbol="Pb", name="Lead"),
        quantity=Decimal("10.2"),
        unit="kt",
        ore_tonnage=Decimal(2_000_000),
        grade=Decimal("0.5"),
        grade_unit="%",
    )
    ReserveEstimateFactory(  # a grade per cubic metre needs a density: not checked
        deposit=deposit,
        mineral=MineralFactory(code="gold", symbol="Au", name="Gold"),
        quantity=Decimal(1),
        ore_tonnage=Decimal(1_000),
        grade=Decimal(9),
        grade_unit="kg/m3",
    )
    contradictions = [(r, m) for c, r, m in report() if c == "contained"]
    assert contradictions == [
        (
            f"estimate of Ag unclassified for {deposit.public_id} Konimansuri Kalon",
            "states 57,000 t, but 1,000,000,000 t of ore at 49 g/t hold 49,000 t",
        )
    ]


def test_computed_and_reported_shares_of_a_mineral_past_100_percent():
    silver = MineralFactory()
    ReserveEstimateFactory(deposit=CommodityFactory(mineral=silver).deposit)  # 100% computed
    CommodityFactory(
        mineral=silver, reported_share_pct=Decimal("70"), reported_share_source="roundtable"
    )
    assert (
        "mixed shares",
        "mineral silver",
        "computed shares of Silver add up to 100.00% and reported ones to 70.00% more: "
        "a reported share is of another total",
    ) in report()


def test_demo_registry_flags_the_konimansur_contradiction(load_demo_registry):
    load_demo_registry()
    assert any(
        c == "contained" and "Konimansuri Kalon" in r and "49,000 t" in m for c, r, m in report()
    )
