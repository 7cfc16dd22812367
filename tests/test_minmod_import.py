"""MinMod records come in matched, sourced and idempotent; bad records are refused by number."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from deposits.demo import DATA_DIR, load_minerals, load_regions
from deposits.models import Deposit, ReserveEstimate
from tests.factories import DepositFactory

pytestmark = pytest.mark.django_db

SITES = DATA_DIR / "minmod" / "tajikistan_sites.json"


@pytest.fixture
def reference_data():
    load_regions()
    load_minerals()


def run(path, *options):
    out, err = StringIO(), StringIO()
    call_command("import_minmod", str(path), *options, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def site(name, location=None, commodity="Au"):
    record = {
        "source_id": "https://mrdata.usgs.gov/major-deposits",
        "record_id": name,
        "name": name,
        "location_info": {"location": location} if location else {},
        "mineral_inventory": [{"commodity": {"observed_name": commodity}}],
    }
    return record


def test_import_of_the_published_file_is_idempotent(reference_data):
    # kept as published: one record lies in Uzbekistan, one looks like another (entry.py)
    out, _ = run(SITES, "--as-published")
    assert "refused 0" in out
    assert "note: Khodzhamumyn: kept as published: This looks like a deposit" in out
    deposits, estimates = Deposit.objects.count(), ReserveEstimate.objects.count()
    history = Deposit.history.count()
    out, _ = run(SITES, "--as-published")
    assert "created 0, updated 0, unchanged 50, refused 0" in out
    assert (Deposit.objects.count(), ReserveEstimate.objects.count()) == (deposits, estimates)
    assert Deposit.history.count() == history


def test_records_match_existing_deposits_by_alias_and_distance(reference_data, tmp_path):
    jilau = DepositFactory(
        name="Jilau", aliases=["Dzhilau"], latitude=Decimal("39.3333"), longitude=Decimal("67.7167")
    )
    path = tmp_path / "sites.json"
    path.write_text(
        json.dumps(
            [
                site("Dzhilau", "POINT (67.72 39.34)"),
                site("Jilau", "POINT (70.5 38.5)"),  # same name, 250 km away: another site
            ]
        )
    )
    out, _ = run(path)
    assert "created 1, updated 1" in out
    jilau.refresh_from_db()
    assert any("record Dzhilau" in s for s in jilau.sources)
    assert Deposit.objects.filter(name="Jilau").count() == 2


def test_crirsco_inventory_is_kept_as_crirsco(reference_data):
    run(SITES, "--as-published")
    estimate = ReserveEstimate.objects.get(
        deposit__name="Konimansur Kalon", mineral__code="zinc", category="mii"
    )
    assert estimate.balance is None
    assert estimate.ore_tonnage == Decimal("961000000")
    assert "10.1016/j.oregeorev.2016.08.010" in estimate.source


def test_bad_records_are_refused_by_number_and_write_nothing(reference_data, tmp_path):
    path = tmp_path / "sites.json"
    path.write_text(
        json.dumps(
            [
                site("Good", "POINT (68.5 39.2)"),
                site("Far away", "POINT (10.0 50.0)"),
                site("Garbled", "POINT (x y)"),
                {"name": "No source"},
            ]
        )
    )
    with pytest.raises(SystemExit) as exit_code:
        run(path)
    assert exit_code.value.code == 1
    assert list(Deposit.objects.values_list("name", flat=True)) == ["Good"]
    assert Deposit.history.count() == 1


def test_refusal_reasons_are_reported(reference_data, tmp_path):
    path = tmp_path / "sites.json"
    path.write_text(json.dumps([site("Good"), site("Far away", "POINT (10.0 50.0)")]))
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("import_minmod", str(path), stdout=StringIO(), stderr=err)
    assert "refused record 2 (Far away): latitude: Latitude 50.000000 is outside Tajikistan" in (
        err.getvalue()
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not a UTF-8 JSON file"),
        (b"\xff\xfe not utf-8", "is not a UTF-8 JSON file"),
        (b'{"name": "a single object"}', "must hold a JSON list"),
    ],
)
def test_files_that_are_not_minmod_lists_are_refused(reference_data, tmp_path, content, message):
    path = tmp_path / "sites.json"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        run(path)
    assert Deposit.objects.count() == 0


def test_missing_file(reference_data, tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run(tmp_path / "absent.json")
