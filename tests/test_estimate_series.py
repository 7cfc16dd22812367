"""Which estimate of a series is in force when: `ReserveEstimate.objects.in_force(on)` reads
the kept `superseded_on`, so every write that reorders a series must keep it. Checked here
against the rule as the registry states it (docs/reserves.md), written out over the rows:

- a series is one deposit, mineral, category and balance / off-balance;
- ordered by date, undated first (nothing says it came later), then by entry;
- on a date, the latest estimate dated on or before it is in force, unless a protocol
  withdrew it by then; without a date, the latest one, unless withdrawn.
"""

import datetime
import random
from decimal import Decimal

import pytest

from deposits.models import ReserveEstimate, refresh_superseded
from deposits.shares import refresh_kept
from tests.factories import DepositFactory, MineralFactory, ReserveEstimateFactory

pytestmark = pytest.mark.django_db

DAYS = [None] + [datetime.date(year, 12, 31) for year in (2012, 2015, 2018, 2021)]
ASKED = [None, datetime.date(2011, 1, 1), datetime.date(2016, 6, 30), datetime.date(2030, 1, 1)]
ASKED += DAYS[1:]


def stated_rule(on):
    """The ids in force on `on`, from every estimate's own columns alone."""
    rows = list(ReserveEstimate.objects.values())
    in_force = set()
    for row in rows:
        series = [
            other
            for other in rows
            if (other["deposit_id"], other["mineral_id"], other["category"], other["balance"])
            == (row["deposit_id"], row["mineral_id"], row["category"], row["balance"])
        ]
        series.sort(key=lambda e: (e["as_of"] or datetime.date.min, e["id"]))
        known = [e for e in series if on is None or e["as_of"] is None or e["as_of"] <= on]
        latest = known[-1] if known else None
        if latest is None or latest["id"] != row["id"]:
            continue
        withdrawn = row["withdrawal"] and (
            on is None or (row["withdrawn_on"] is not None and row["withdrawn_on"] <= on)
        )
        if not withdrawn:
            in_force.add(row["id"])
    return in_force


def assert_rule_holds():
    for on in ASKED:
        held = set(ReserveEstimate.objects.in_force(on).values_list("pk", flat=True))
        assert held == stated_rule(on), on


@pytest.fixture
def places():
    minerals = [MineralFactory(code="silver"), MineralFactory(code="gold")]
    return [DepositFactory(), DepositFactory()], minerals


def test_a_re_estimate_supersedes_and_its_deletion_restores_the_one_before(places):
    (konchoch, _), (silver, _) = places
    first = ReserveEstimateFactory(deposit=konchoch, mineral=silver, as_of=DAYS[1])
    second = ReserveEstimateFactory(deposit=konchoch, mineral=silver, as_of=DAYS[3])
    first.refresh_from_db()
    assert first.superseded_on == DAYS[3]
    assert list(ReserveEstimate.objects.in_force(DAYS[2])) == [first]
    assert list(ReserveEstimate.objects.in_force()) == [second]

    second.delete()
    assert list(ReserveEstimate.objects.in_force()) == [first]
    assert_rule_holds()


def test_moving_an_estimate_reorders_both_series(places):
    (one, other), (silver, gold) = places
    old = ReserveEstimateFactory(deposit=one, mineral=silver, as_of=DAYS[1])
    moving = ReserveEstimateFactory(deposit=one, mineral=silver, as_of=DAYS[2])
    kept = ReserveEstimateFactory(deposit=other, mineral=silver, as_of=DAYS[3])
    moving.deposit = other
    moving.save()
    assert set(ReserveEstimate.objects.in_force()) == {old, kept}
    moving.mineral, moving.as_of = gold, DAYS[4]
    moving.save()
    assert set(ReserveEstimate.objects.in_force()) == {old, kept, moving}
    assert_rule_holds()


def test_random_edits_keep_the_rule(places):
    """Creations, date and category changes, withdrawals, moves and deletions in any order."""
    deposits, minerals = places
    chance = random.Random(19)
    estimates = []
    for step in range(60):
        action = chance.choice(["create", "create", "redate", "recategorise", "withdraw", "move"])
        if action != "create" and not estimates:
            action = "create"
        if action == "create":
            estimates.append(
                ReserveEstimateFactory(
                    deposit=chance.choice(deposits),
                    mineral=chance.choice(minerals),
                    category=chance.choice(["B", "C1"]),
                    balance=chance.choice([True, True, False]),
                    as_of=chance.choice(DAYS),
                    quantity=Decimal(chance.randint(1, 500)),
                )
            )
            continue
        estimate = chance.choice(estimates)
        if action == "redate":
            estimate.as_of = chance.choice(DAYS)
        elif action == "recategorise":
            estimate.category = "B" if estimate.category == "C1" else "C1"
        elif action == "withdraw" and estimate.as_of and not estimate.withdrawal:
            estimate.withdrawal = chance.choice(["superseded", "written_off"])
            estimate.withdrawn_on = estimate.as_of + datetime.timedelta(days=400)
            estimate.withdrawal_protocol = f"Protocol {step}"
        elif action == "move":
            estimate.deposit = chance.choice(deposits)
        estimate.save()
        if chance.random() < 0.15:
            estimates.remove(estimate)
            estimate.delete()
    assert_rule_holds()


def bulk_create(places):
    ReserveEstimate.objects.bulk_create(
        ReserveEstimateFactory.build(
            deposit=deposit, mineral=mineral, as_of=day, public_id=f"RES-BULK-{number}"
        )
        for number, (deposit, mineral, day) in enumerate(places)
    )


def test_bulk_writes_are_kept_by_refresh_kept(places):
    """A bulk path (synthetic data, restores) bypasses the signals and calls `refresh_kept`;
    until it does, the kept dates are stale."""
    (deposit, _), (silver, _) = places
    bulk_create([(deposit, silver, day) for day in DAYS])
    assert ReserveEstimate.objects.in_force().count() == len(DAYS)  # stale: none superseded
    refresh_kept()
    assert_rule_holds()
    assert ReserveEstimate.objects.in_force().count() == 1


def test_refresh_of_some_deposits_leaves_the_others(places):
    (one, other), (silver, _) = places
    bulk_create([(deposit, silver, day) for deposit in (one, other) for day in DAYS[1:3]])
    refresh_superseded([one.pk])
    superseded = ReserveEstimate.objects.filter(superseded_on__isnull=False)
    assert list(superseded.values_list("deposit_id", "as_of")) == [(one.pk, DAYS[1])]
