"""Synthetic benchmark data: deterministic, clearly named, never mixed into a real registry."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cooperation.models import Event, Organisation
from deposits.models import LATITUDE_RANGE, LONGITUDE_RANGE, Deposit, DepositCommodity
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
        assert 1 <= deposit.reserves.count() <= 5
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
