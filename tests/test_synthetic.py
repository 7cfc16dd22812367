"""Synthetic benchmark data: deterministic, clearly named, never mixed into a real registry."""

import itertools
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cooperation.models import Event, Organisation
from deposits.models import (
    LATITUDE_RANGE,
    LONGITUDE_RANGE,
    BalanceClosure,
    BalanceMovement,
    Deposit,
    DepositCommodity,
    ReserveEstimate,
)
from deposits.shares import national_totals, summed_national_totals
from kernel.visibility import STAFF
from reports.synthetic import HISTORY_YEARS, SOURCE
from tests.factories import DepositFactory

pytestmark = pytest.mark.django_db


def generate(*args):
    out = StringIO()
    call_command("generate_synthetic", *args, stdout=out)
    return out.getvalue()


def fingerprint():
    return [
        (
            d.name,
            d.aliases,
            d.region.code if d.region else None,
            d.latitude,
            d.longitude,
            d.status,
            d.visibility,
            sorted((c.mineral.code, c.role) for c in d.commodities.all()),
            sorted(
                (e.mineral.code, e.category, e.balance, e.quantity, e.unit)
                for e in d.reserves.all()
            ),
        )
        for d in Deposit.objects.select_related("region")
        .prefetch_related("commodities__mineral", "reserves__mineral")
        .order_by("name")
    ]


def test_generates_the_requested_registry():
    out = generate("--deposits", "40", "--seed", "7")
    assert "no change history" in out
    assert Deposit.objects.count() == 40
    for deposit in Deposit.objects.prefetch_related("commodities", "reserves"):
        assert deposit.name.startswith("SYN-")
        assert 1 <= deposit.commodities.count() <= 4
        # 1-5 estimates, each perhaps with an older one it supersedes
        assert 1 <= deposit.reserves.count() <= 10
        assert LATITUDE_RANGE[0] <= deposit.latitude <= LATITUDE_RANGE[1]
        assert LONGITUDE_RANGE[0] <= deposit.longitude <= LONGITUDE_RANGE[1]
        assert deposit.public_id.startswith("TJD-")
        deposit.full_clean()
    assert set(Deposit.objects.values_list("visibility", flat=True)) == {
        "public",
        "partners",
        "internal",
    }
    assert DepositCommodity.objects.filter(role="main").count() == 40
    assert Organisation.objects.filter(name__startswith="SYN").exists()
    assert Event.objects.filter(title__startswith="SYN").exists()
    assert Deposit.history.count() == 0


def test_same_seed_same_data():
    generate("--deposits", "30", "--seed", "3")
    first = fingerprint()
    Deposit.objects.all().delete()
    generate("--deposits", "30", "--seed", "3")
    assert fingerprint() == first
    Deposit.objects.all().delete()
    generate("--deposits", "30", "--seed", "4")
    assert fingerprint() != first


def test_search_finds_synthetic_aliases():
    generate("--deposits", "20")
    assert Deposit.objects.search("syn-000007").count() == 1


def test_refuses_a_database_with_real_records():
    DepositFactory(name="Konimansuri Kalon")
    with pytest.raises(CommandError, match="holds real registry records"):
        generate("--deposits", "10")
    assert Deposit.objects.count() == 1


def test_force_mixes_in_anyway():
    DepositFactory(name="Konimansuri Kalon")
    generate("--deposits", "5", "--force")
    assert Deposit.objects.count() == 6


def test_adding_to_a_synthetic_registry_continues_the_numbering():
    generate("--deposits", "5")
    generate("--deposits", "5")
    assert Deposit.objects.filter(name="SYN-000010").exists()


def test_refuses_a_non_positive_count():
    with pytest.raises(CommandError, match="at least 1"):
        generate("--deposits", "0")


# --- reserves through time ------------------------------------------------------------


def test_older_estimates_are_superseded_by_newer_ones_and_never_summed():
    generate("--deposits", "60", "--seed", "5")
    superseded = ReserveEstimate.objects.exclude(pk__in=ReserveEstimate.objects.in_force())
    assert superseded.count() > 10
    for old in superseded:
        newer = ReserveEstimate.objects.in_force().get(
            deposit=old.deposit,
            mineral=old.mineral,
            category=old.category,
            balance=old.balance,
        )
        assert newer.as_of >= old.as_of and newer.pk != old.pk
    marked = ReserveEstimate.objects.filter(note="synthetic: superseded by a later estimate")
    assert marked.exists()
    assert not marked.filter(pk__in=ReserveEstimate.objects.in_force()).exists()
    assert set(ReserveEstimate.objects.values_list("source", flat=True)) == {SOURCE}
    # the kept shares' totals count estimates in force only
    assert national_totals(STAFF) == summed_national_totals(STAFF)


def test_yearly_balance_lines_add_up_and_run_on_from_year_to_year():
    generate("--deposits", "60", "--seed", "5")
    lines = BalanceMovement.objects.order_by("deposit", "mineral", "category", "year")
    assert lines.count() >= 10 * len(HISTORY_YEARS)
    series = {}
    for line in lines:
        assert line.closing == line.expected_closing, line
        assert line.opening >= 0 and line.extraction >= 0
        assert (line.source, line.protocol) == (SOURCE, f"SYN-{line.year}")
        series.setdefault((line.deposit_id, line.mineral_id, line.category), []).append(line)
    for years in series.values():
        assert [line.year for line in years] == list(HISTORY_YEARS)
        for before, after in itertools.pairwise(years):
            assert before.closing == after.opening
        # the last year closes at the balance estimate in force
        first = years[0]
        in_force = ReserveEstimate.objects.in_force().get(
            deposit_id=first.deposit_id,
            mineral_id=first.mineral_id,
            category=first.category,
            balance=True,
        )
        assert years[-1].closing == in_force.quantity
        assert years[-1].unit == in_force.unit
    # the model's own checks (adding up, continuity, one unit) accept every line
    for line in lines[:: max(1, lines.count() // 50)]:
        line.full_clean()


def test_the_synthetic_balance_is_closed_up_to_the_year_before_the_last():
    generate("--deposits", "20")
    generate("--deposits", "5")  # a second run keeps the years already closed
    closures = BalanceClosure.objects.all()
    assert {c.year for c in closures} == set(HISTORY_YEARS[:-1])
    assert {c.source for c in closures} == {SOURCE}
    assert closures.filter(mineral__code="silver", year=HISTORY_YEARS[-2]).count() == 1
