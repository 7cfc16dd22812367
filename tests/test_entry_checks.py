"""No clerk can enter one deposit twice or put it in the wrong place (deposits/entry.py),
on every entry path: the model, the admin, the API, the spreadsheet import, the MinMod
import and the demo loader."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from deposits import demo, entry, minmod
from deposits.models import Deposit
from tests.factories import DepositFactory, DistrictFactory, RegionFactory
from tests.test_deposits_admin import form_data
from tests.test_spreadsheet_import import csv_file, deposit_row, preview, refusals
from tests.versions import if_match

pytestmark = pytest.mark.django_db

# Published points (deposits/data/tj_deposits_curated.csv)
DALNEE = {"latitude": Decimal("40.7833"), "longitude": Decimal("69.6667")}  # in Uzbekistan
DARA_PIOZ = {"latitude": Decimal("39.4167"), "longitude": Decimal("70.7333")}  # 2.5 km out
NUREK_SALT = {"latitude": Decimal("38.3903"), "longitude": Decimal("69.3197")}  # in TJ-RA
JAKHSU = {"latitude": Decimal("38.58"), "longitude": Decimal("70.4053")}  # 0.5 km off TJ-KT
JILAU = {"latitude": Decimal("39.3333"), "longitude": Decimal("67.7167")}  # Sughd


@pytest.fixture
def regions():
    return {
        "TJ-SU": RegionFactory(),
        "TJ-KT": RegionFactory(code="TJ-KT", name="Khatlon"),
        "TJ-RA": RegionFactory(code="TJ-RA", name="Districts of Republican Subordination"),
    }


@pytest.fixture
def konimansur(regions):
    return DepositFactory(name="Konimansuri Kalon", aliases=["Konimansur", "Большой Конимансур"])


def refusal(deposit) -> dict:
    with pytest.raises(ValidationError) as raised:
        deposit.full_clean()
    return raised.value.message_dict


# --- one deposit, one record --------------------------------------------------------


@pytest.mark.parametrize("name", ["Konimansuri Kalon", "Кони-Мансур", "Konimansoor", "KONIMANSUR"])
def test_a_second_record_of_a_deposit_in_its_region_is_refused_naming_the_first(
    konimansur, regions, name
):
    errors = refusal(Deposit(name=name, region=regions["TJ-SU"]))
    assert list(errors) == ["name"]
    assert f"{konimansur.public_id} Konimansuri Kalon (Sughd)" in errors["name"][0]
    assert f"/deposits/{konimansur.public_id}/" in errors["name"][0]


def test_a_look_alike_without_region_or_point_is_refused(konimansur):
    assert "name" in refusal(Deposit(name="Konimansur"))


def test_a_namesake_placed_apart_is_another_deposit(konimansur, regions):
    Deposit(name="Konimansur", region=regions["TJ-KT"]).full_clean()
    jilau = DepositFactory(name="Jilau", **JILAU)
    # the same name 250 km away (MinMod has such a pair), and a different name nearby
    Deposit(name="Jilau", region=regions["TJ-KT"], **JAKHSU).full_clean()
    Deposit(name="Zarnisor", region=regions["TJ-SU"], **JILAU).full_clean()
    errors = refusal(Deposit(name="Dzhilau", latitude=Decimal("39.34"), longitude=jilau.longitude))
    assert jilau.public_id in errors["name"][0]


@pytest.mark.parametrize(
    ("first", "second"),
    [("Zidda", "Ziddy"), ("Takeli", "Takob"), ("Unnamed P occurrence", "Unnamed P occurrence")],
)
def test_different_names_and_placeholders_are_not_duplicates(regions, first, second):
    DepositFactory(name=first, **JILAU)
    Deposit(name=second, region=regions["TJ-SU"], **JILAU).full_clean()


def test_the_clerks_reason_admits_a_look_alike_and_the_history_keeps_it(konimansur, regions):
    twin = Deposit(name="Konimansur", region=regions["TJ-SU"], sources=["field survey 2026"])
    twin.distinct_reason = "Small silver showing 3 km east of the big one, 2026 survey"
    twin.full_clean()
    twin.save()
    assert twin.history.get().history_change_reason == twin.distinct_reason


def test_renaming_into_a_look_alike_is_refused_but_other_edits_of_an_old_pair_are_not(
    konimansur, regions
):
    other = DepositFactory(name="Kaldzhar")
    other.name = "Konimansur Kalon"
    assert "name" in refusal(other)
    # a pair recorded before the checks existed can still be edited; the report lists it
    twin = DepositFactory(name="Konimansur")
    twin.status = Deposit.Status.PROSPECT
    twin.full_clean()


def test_a_reason_longer_than_the_history_keeps_is_refused(konimansur, regions):
    twin = Deposit(name="Konimansur", region=regions["TJ-SU"])
    twin.distinct_reason = "x" * 60
    twin.location_reason = "y" * 60
    assert "distinct_reason" in refusal(twin)


# --- the real border --------------------------------------------------------------


def test_a_point_across_the_border_is_refused_unless_the_clerk_says_why(regions):
    deposit = Deposit(name="Dalnee", region=regions["TJ-SU"], **DALNEE)
    errors = refusal(deposit)
    assert errors == {
        "latitude": [
            "The point 40.7833 N, 69.6667 E lies 11.2 km outside Tajikistan's border "
            "(5 km are allowed for coarse coordinates)."
        ]
    }
    deposit.location_reason = "Border-area deposit; the licence is Tajik"
    deposit.full_clean()


def test_a_corner_of_the_old_bounding_box_is_refused(regions):
    # inside the box the registry used to check (36.6-41.1 N, 67.3-75.2 E), in Kyrgyzstan
    errors = refusal(Deposit(name="Corner", latitude=Decimal("41.0"), longitude=Decimal("75.0")))
    assert "outside Tajikistan's border" in errors["latitude"][0]


def test_coarse_points_within_the_tolerance_pass(regions):
    Deposit(name="Dara-Pioz", region=regions["TJ-RA"], **DARA_PIOZ).full_clean()  # 2.5 km
    Deposit(name="Jakhsu", region=regions["TJ-KT"], **JAKHSU).full_clean()


def test_a_region_that_does_not_hold_the_point_is_refused_naming_the_one_that_does(regions):
    errors = refusal(Deposit(name="Nurek salt", region=regions["TJ-SU"], **NUREK_SALT))
    assert list(errors) == ["region"]
    assert "lies in Districts of Republican Subordination (TJ-RA)" in errors["region"][0]
    assert "74.5 km outside Sughd (TJ-SU)" in errors["region"][0]


def test_a_district_is_checked_through_its_region(regions):
    asht = DistrictFactory()  # Asht, in Sughd
    errors = refusal(Deposit(name="Nurek salt", district=asht, **NUREK_SALT))
    assert "outside Sughd (TJ-SU)" in errors["region"][0]


def test_a_point_on_a_boundary_is_kept_with_the_clerks_reason(regions):
    deposit = Deposit(name="Nurek salt", region=regions["TJ-KT"], **NUREK_SALT)
    deposit.full_clean()  # 0.8 km outside Khatlon's generalised polygon: within tolerance
    deposit = Deposit(name="Nurek salt", region=regions["TJ-SU"], **NUREK_SALT)
    deposit.location_reason = "Point from the 1978 survey; the licence is Sughd's"
    deposit.full_clean()
    deposit.save()
    assert deposit.history.get().history_change_reason == deposit.location_reason


# --- every entry path ---------------------------------------------------------------


def test_admin_refuses_a_look_alike_on_the_form_and_saves_it_with_a_reason(
    editor_client, konimansur, regions
):
    add = reverse("admin:deposits_deposit_add")
    data = form_data(Deposit(name="Кони-Мансур", region=regions["TJ-SU"]))
    response = editor_client.post(add, data)
    assert response.status_code == 200
    assert konimansur.public_id in str(response.context["adminform"].form.errors["name"])
    assert Deposit.objects.count() == 1
    data["distinct_reason"] = "Another showing on the Konimansur ridge"
    assert editor_client.post(add, data).status_code == 302
    twin = Deposit.objects.get(name="Кони-Мансур")
    assert twin.history.get().history_change_reason == "Another showing on the Konimansur ridge"


def test_admin_refuses_a_point_outside_its_region(editor_client, regions):
    data = form_data(Deposit(name="Nurek salt", region=regions["TJ-SU"], **NUREK_SALT))
    response = editor_client.post(reverse("admin:deposits_deposit_add"), data)
    assert "(TJ-RA)" in str(response.context["adminform"].form.errors["region"])
    assert not Deposit.objects.exists()


def test_api_refuses_a_look_alike_with_a_400_and_takes_an_explicit_reason(
    staff_api_client, konimansur
):
    body = {"name": "Koni Mansour", "region": "TJ-SU", "visibility": "public"}
    response = staff_api_client.post("/api/v1/deposits/", body, format="json")
    assert response.status_code == 400
    assert konimansur.public_id in response.json()["name"][0]
    assert Deposit.objects.count() == 1
    body["distinct_reason"] = "A second Konimansur, 2026 survey"
    response = staff_api_client.post("/api/v1/deposits/", body, format="json")
    assert response.status_code == 201, response.json()
    assert "distinct_reason" not in response.json()
    created = Deposit.objects.get(public_id=response.json()["id"])
    assert created.history.get().history_change_reason == "A second Konimansur, 2026 survey"


def test_api_refuses_points_outside_the_border_and_the_region(staff_api_client, regions):
    body = {"name": "Dalnee", "latitude": "40.7833", "longitude": "69.6667"}
    response = staff_api_client.post("/api/v1/deposits/", body, format="json")
    assert response.status_code == 400
    assert "outside Tajikistan's border" in response.json()["latitude"][0]
    body = {"name": "Nurek salt", "region": "TJ-SU", "latitude": "38.3903", "longitude": "69.3197"}
    response = staff_api_client.post("/api/v1/deposits/", body, format="json")
    assert "(TJ-RA)" in response.json()["region"][0]
    body["location_reason"] = "x" * 101
    response = staff_api_client.post("/api/v1/deposits/", body, format="json")
    assert response.status_code == 400 and "location_reason" in response.json()
    assert not Deposit.objects.exists()


def test_api_rename_into_a_look_alike_is_refused(staff_api_client, konimansur):
    url = f"/api/v1/deposits/{DepositFactory(name='Kaldzhar').public_id}/"
    response = staff_api_client.patch(
        url, {"name": "Konimansur"}, format="json", headers=if_match(staff_api_client, url)
    )
    assert response.status_code == 400
    assert konimansur.public_id in response.json()["name"][0]


@pytest.fixture
def reference(regions):
    from tests.factories import MineralFactory

    DistrictFactory()
    for code, symbol, name in [
        ("silver", "Ag", "Silver"),
        ("lead", "Pb", "Lead"),
        ("zinc", "Zn", "Zinc"),
    ]:
        MineralFactory(code=code, symbol=symbol, name=name)


def test_spreadsheet_import_refuses_a_look_alike_by_row_and_takes_a_reason_column(
    editor_client, reference
):
    DepositFactory(name="Konimansuri Kalon", region=None, aliases=["Konimansur"])
    rows = [deposit_row(name="Koni Mansour", aliases="")]
    response = preview(editor_client, csv_file(rows))
    [(number, column, message)] = refusals(response)
    assert (number, column) == (1, "name") and "Konimansuri Kalon" in message
    header = [*rows[0], "distinct_reason"]
    rows[0]["distinct_reason"] = "A separate lens, 2026 survey"
    response = preview(editor_client, csv_file(rows, header=header))
    assert refusals(response) == []


def test_minmod_import_refuses_a_look_alike_by_number_or_keeps_it_as_published(regions):
    demo.load_minerals()
    DepositFactory(name="Jilau", aliases=["Dzhilau"], region=None, **JILAU)
    record = {
        "source_id": "https://mrdata.usgs.gov/major-deposits",
        "record_id": "Jilao",
        "name": "Jilao",  # one letter from Jilau: a slip, or another deposit
        "location_info": {"location": "POINT (67.75 39.36)"},
        "mineral_inventory": [{"commodity": {"observed_name": "Au"}}],
    }
    report = minmod.import_sites([record])
    [(number, name, reason)] = report.refused
    assert (number, name) == (1, "Jilao")
    assert "This looks like a deposit already recorded" in reason
    assert Deposit.objects.count() == 1
    report = minmod.import_sites([record], as_published=True)
    assert report.created == ["Jilao"]
    assert any("Jilao: kept as published: This looks like" in note for note in report.notes)
    kept = Deposit.objects.get(name="Jilao")
    assert kept.history.get().history_change_reason == entry.AS_PUBLISHED


def test_the_demo_loads_again_after_a_clerk_entered_a_look_alike():
    call_command("load_demo", stdout=StringIO())
    original = Deposit.objects.get(name="Konimansuri Kalon")
    twin = Deposit(name="Konimansuri Kalon", region=original.region)
    twin.distinct_reason = "A second showing, entered by a clerk"
    twin.full_clean()
    twin.save()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert f"{twin.public_id} Konimansuri Kalon is not the demo record of that name" in (
        out.getvalue()
    )
    original.refresh_from_db()
    assert original.commodities.filter(reported_share_pct__isnull=False).exists()
    assert not twin.commodities.exists()


def test_the_demo_keeps_what_its_sources_published_and_says_so():
    # the data's README: flag a doubtful published record for a clerk, never drop it
    out = StringIO()
    call_command("load_demo", stdout=out)
    text = out.getvalue()
    assert "curated line 11 (Dalnee) kept as published: The point 40.7833 N" in text
    assert "Khodzhamumyn: kept as published: This looks like a deposit already recorded" in text
    assert Deposit.objects.filter(name__in=["Dalnee", "Khodzhamumyn"]).count() == 2


def test_a_refusal_writes_its_figures_the_readers_way(regions):
    with translation.override("ru"):
        errors = refusal(Deposit(name="Dalnee", region=regions["TJ-SU"], **DALNEE))
    assert errors["latitude"] == [
        "Точка 40,7833 с. ш., 69,6667 в. д. лежит в 11,2 км за границей Таджикистана "
        "(для грубых координат допускается 5 км)."
    ]
