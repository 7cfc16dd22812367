"""A deposit's reserve share is derived from estimates, or reported where none exist."""

from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from deposits.filters import DepositFilterSet
from deposits.models import Deposit
from deposits.services import (
    attach_reserve_shares,
    mineral_shares,
    national_totals,
    refresh_national_totals,
    summed_national_totals,
)
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MineralFactory,
    ReserveEstimateFactory,
)

pytestmark = pytest.mark.django_db


def shares_of(deposit):
    deposit = Deposit.objects.prefetch_related("commodities", "reserves").get(pk=deposit.pk)
    attach_reserve_shares([deposit])
    return {c.mineral.code: c.share for c in deposit.commodities.all()}


@pytest.fixture
def gold():
    return MineralFactory(code="gold", symbol="Au", name="Gold")


def gold_deposit(gold, *estimates):
    deposit = DepositFactory()
    CommodityFactory(deposit=deposit, mineral=gold)
    for category, quantity, unit, balance in estimates:
        ReserveEstimateFactory(
            deposit=deposit,
            mineral=gold,
            category=category,
            quantity=Decimal(quantity),
            unit=unit,
            balance=balance,
        )
    return deposit


def test_share_counts_balance_a_b_c1_with_units_normalised(gold):
    # 10 t + 500 kg = 10.5 t of A+B+C1 against 21 t nationally
    first = gold_deposit(gold, ("B", "10", "t", True), ("C1", "500", "kg", True))
    gold_deposit(gold, ("C1", "10500", "kg", True))
    assert national_totals()[gold.pk] == Decimal("21000")
    share = shares_of(first)["gold"]
    assert share.pct == Decimal("50.00")
    assert share.basis == "computed"


def test_c2_off_balance_and_prognostic_do_not_count(gold):
    first = gold_deposit(gold, ("C1", "1", "t", True), ("C2", "100", "t", True))
    gold_deposit(gold, ("A", "3", "t", True), ("C1", "50", "t", False), ("P1", "90", "t", None))
    assert shares_of(first)["gold"].pct == Decimal("25.00")


def test_troy_ounces_normalise_exactly(gold):
    # 1,000,000 oz t = 31.1034768 t; with 31.1034768 t elsewhere each has half
    first = gold_deposit(gold, ("C1", "1000000", "oz t", True))
    gold_deposit(gold, ("B", "31103.4768", "kg", True))
    assert shares_of(first)["gold"].pct == Decimal("50.00")


def test_reported_share_stands_where_the_mineral_has_no_estimates():
    silver = MineralFactory()
    deposit = DepositFactory()
    CommodityFactory(
        deposit=deposit,
        mineral=silver,
        reported_share_pct=Decimal("70"),
        reported_share_source="roundtable report, December 2024",
    )
    share = shares_of(deposit)["silver"]
    assert share.pct == Decimal("70")
    assert share.basis == "reported"


def test_computed_share_replaces_the_reported_one(gold):
    deposit = gold_deposit(gold, ("C1", "5", "t", True))
    deposit.commodities.update(reported_share_pct=Decimal("90"), reported_share_source="x")
    gold_deposit(gold, ("C1", "15", "t", True))
    share = shares_of(deposit)["gold"]
    assert (share.pct, share.basis) == (Decimal("25.00"), "computed")


def test_no_share_without_estimates_or_report(gold):
    deposit = gold_deposit(gold)
    share = shares_of(deposit)["gold"]
    assert (share.pct, share.basis) == (None, None)


def test_min_share_filter_uses_the_same_rule(gold):
    big = gold_deposit(gold, ("C1", "30", "t", True))
    small = gold_deposit(gold, ("C1", "10", "t", True))
    silver = MineralFactory()
    reported = DepositFactory()
    CommodityFactory(
        deposit=reported,
        mineral=silver,
        reported_share_pct=Decimal("70"),
        reported_share_source="x",
    )

    def matching(params):
        query = QueryDict(urlencode(params, doseq=True))
        filterset = DepositFilterSet(query, queryset=Deposit.objects.all())
        assert filterset.is_valid(), filterset.errors
        return set(filterset.qs)

    assert matching({"mineral": "gold", "min_share": "50"}) == {big}
    assert matching({"mineral": "gold", "min_share": "25"}) == {big, small}
    assert matching({"mineral": "silver", "min_share": "70"}) == {reported}
    assert matching({"mineral": "silver", "min_share": "71"}) == set()
    assert matching({"mineral": ["gold", "silver"], "min_share": "60"}) == {big, reported}


def test_min_share_without_mineral_is_a_filter_error():
    filterset = DepositFilterSet({"min_share": "10"}, queryset=Deposit.objects.all())
    assert not filterset.is_valid()
    assert "needs a mineral" in str(filterset.errors["min_share"])


def test_kept_national_totals_follow_every_estimate_write(gold):
    silver = MineralFactory()
    deposit = gold_deposit(gold, ("C1", "10", "t", True))
    estimate = deposit.reserves.get()
    assert national_totals() == {gold.pk: Decimal("10000")}

    estimate.unit = "kg"
    estimate.save()
    assert national_totals() == {gold.pk: Decimal("10")}

    estimate.mineral = silver
    estimate.save()
    assert national_totals() == {silver.pk: Decimal("10")}

    estimate.delete()
    assert national_totals() == {}

    gold_deposit(gold, ("B", "2", "t", True)).delete()  # cascades to its estimates
    assert national_totals() == {}


def test_refresh_rebuilds_what_bulk_writes_bypassed(gold):
    deposit = gold_deposit(gold, ("C1", "10", "t", True))
    deposit.reserves.update(quantity=Decimal("30"))  # no signals for QuerySet.update
    assert national_totals() == {gold.pk: Decimal("10000")}
    refresh_national_totals()
    assert national_totals() == summed_national_totals() == {gold.pk: Decimal("30000")}


def test_shares_of_many_deposits_are_those_of_each_deposit(awkward_registry):
    """The list page reads the minerals and shares of a page of deposits at once (in SQL on
    PostgreSQL): the same roles, order and shares as `share_of` gives each deposit."""
    deposits = list(Deposit.objects.prefetch_related("commodities", "reserves"))
    attach_reserve_shares(deposits)
    expected = {
        d.pk: [(c.mineral_id, c.role, c.share) for c in d.commodities.all()] for d in deposits
    }
    read = mineral_shares(list(expected))
    assert {pk: [(s.mineral_id, s.role, s.share) for s in read[pk]] for pk in expected} == expected
    bases = {share.basis for shares in expected.values() for _, _, share in shares}
    assert bases == {"computed", "reported", None}
