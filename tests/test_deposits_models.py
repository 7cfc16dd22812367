"""Deposit records refuse bad input with a clear message and leave the database unchanged."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from deposits.models import Deposit, DepositCommodity, ReserveEstimate
from deposits.units import convert, to_kilograms
from kernel.models import IdentifierSequence
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    DistrictFactory,
    MineralFactory,
    RegionFactory,
    ReserveEstimateFactory,
)

pytestmark = pytest.mark.django_db


def messages(error: ValidationError, field: str) -> str:
    return " ".join(error.message_dict[field])


class TestPublicIdentifier:
    def test_new_deposits_get_sequential_identifiers(self):
        first, second = DepositFactory(), DepositFactory()
        assert first.public_id.startswith("TJD-")
        assert int(second.public_id[4:]) == int(first.public_id[4:]) + 1

    def test_identifier_of_a_deleted_deposit_is_never_reused(self):
        deposit = DepositFactory()
        old_id = deposit.public_id
        deposit.delete()
        assert DepositFactory().public_id != old_id
        assert IdentifierSequence.objects.get(prefix="TJD").last_value == int(old_id[4:]) + 1

    def test_identifier_does_not_change_on_save(self):
        deposit = DepositFactory()
        old_id = deposit.public_id
        deposit.name = "Renamed"
        deposit.save()
        deposit.refresh_from_db()
        assert deposit.public_id == old_id


class TestCoordinates:
    @pytest.mark.parametrize(
        ("latitude", "longitude", "field", "text"),
        [
            (Decimal("95"), Decimal("70"), "latitude", "outside Tajikistan"),
            (Decimal("35.0"), Decimal("70"), "latitude", "outside Tajikistan"),
            (Decimal("39"), Decimal("80.5"), "longitude", "outside Tajikistan"),
            (Decimal("39"), None, "longitude", "both latitude and longitude"),
        ],
    )
    def test_coordinates_outside_tajikistan_are_refused(self, latitude, longitude, field, text):
        deposit = DepositFactory.build(
            region=RegionFactory(), latitude=latitude, longitude=longitude
        )
        with pytest.raises(ValidationError) as error:
            deposit.full_clean()
        assert text in messages(error.value, field)
        assert Deposit.objects.count() == 0

    def test_coordinates_inside_the_box_are_accepted(self):
        deposit = DepositFactory.build(
            region=RegionFactory(), latitude=Decimal("39.3333"), longitude=Decimal("67.7167")
        )
        deposit.full_clean()

    def test_district_must_belong_to_the_region(self):
        khatlon = RegionFactory(code="TJ-KT", name="Khatlon")
        deposit = DepositFactory.build(region=khatlon, district=DistrictFactory())
        with pytest.raises(ValidationError) as error:
            deposit.full_clean()
        assert "is not in region TJ-KT" in messages(error.value, "district")


class TestReserveEstimateValidation:
    def test_negative_quantity_is_refused(self):
        estimate = ReserveEstimateFactory.build(
            deposit=DepositFactory(), mineral=MineralFactory(), quantity=Decimal("-5")
        )
        with pytest.raises(ValidationError) as error:
            estimate.full_clean()
        assert "greater than or equal to 0" in messages(error.value, "quantity")
        assert ReserveEstimate.objects.count() == 0

    def test_unknown_unit_is_refused(self):
        estimate = ReserveEstimateFactory.build(
            deposit=DepositFactory(), mineral=MineralFactory(), unit="pood"
        )
        with pytest.raises(ValidationError) as error:
            estimate.full_clean()
        assert "Unknown unit pood" in messages(error.value, "unit")

    def test_quantity_needs_a_unit_and_grade_needs_a_grade_unit(self):
        estimate = ReserveEstimateFactory.build(
            deposit=DepositFactory(), mineral=MineralFactory(), unit="", grade=Decimal("49")
        )
        with pytest.raises(ValidationError) as error:
            estimate.full_clean()
        assert "unit of the contained quantity" in messages(error.value, "unit")
        assert "unit of the grade" in messages(error.value, "grade_unit")

    def test_an_estimate_needs_some_figure(self):
        estimate = ReserveEstimateFactory.build(
            deposit=DepositFactory(), mineral=MineralFactory(), quantity=None, unit=""
        )
        with pytest.raises(ValidationError) as error:
            estimate.full_clean()
        assert "at least a contained quantity" in messages(error.value, "quantity")

    def test_crirsco_guidance_for_gkz_categories(self):
        assert ReserveEstimate(category="C1").crirsco_guidance == "Indicated"
        assert ReserveEstimate(category="A").crirsco_guidance == "Measured"
        assert ReserveEstimate(category="C2").crirsco_guidance == "Inferred"
        assert ReserveEstimate(category="inferred").crirsco_guidance == ""


class TestReportedShares:
    def test_reported_shares_of_one_mineral_may_not_pass_100_percent(self):
        silver = MineralFactory()
        CommodityFactory(
            mineral=silver, reported_share_pct=Decimal("70"), reported_share_source="report"
        )
        second = CommodityFactory.build(
            deposit=DepositFactory(),
            mineral=silver,
            reported_share_pct=Decimal("35"),
            reported_share_source="another report",
        )
        with pytest.raises(ValidationError) as error:
            second.full_clean()
        text = messages(error.value, "reported_share_pct")
        assert "Silver" in text and "105" in text
        assert DepositCommodity.objects.count() == 1

    def test_a_share_may_be_corrected_in_place(self):
        commodity = CommodityFactory(
            reported_share_pct=Decimal("70"), reported_share_source="report"
        )
        commodity.reported_share_pct = Decimal("72")
        commodity.full_clean()

    def test_a_reported_share_needs_its_source(self):
        commodity = CommodityFactory.build(
            deposit=DepositFactory(), mineral=MineralFactory(), reported_share_pct=Decimal("5")
        )
        with pytest.raises(ValidationError) as error:
            commodity.full_clean()
        assert "needs its source" in messages(error.value, "reported_share_source")


class TestSearch:
    def test_search_folds_case_in_latin_and_cyrillic(self):
        deposit = DepositFactory(
            name="Konimansuri Kalon", aliases=["Koni Mansour", "Большой Конимансур"]
        )
        DepositFactory(name="Jilau")
        for query in ["конимансур", "КОНИМАНСУР", "koni mansour", "KALON", deposit.public_id]:
            assert list(Deposit.objects.search(query)) == [deposit], query

    def test_russian_and_tajik_names_are_names_too(self):
        deposit = DepositFactory(
            name="Konimansuri Kalon", name_ru="Большой Конимансур", name_tg="Конимансури Калон"
        )
        assert deposit.all_names == ["Konimansuri Kalon", "Большой Конимансур", "Конимансури Калон"]
        for query in ["большой конимансур", "КОНИМАНСУРИ КАЛОН"]:
            assert list(Deposit.objects.search(query)) == [deposit], query
        deposit.name_ru = "Ёлочное"
        deposit.save(update_fields=["name_ru"])
        assert list(Deposit.objects.search("елочное")) == [deposit]
        with translation.override("ru"):
            assert deposit.localized_name() == "Ёлочное"
        with translation.override("tg"):
            assert deposit.localized_name() == "Конимансури Калон"
        deposit.name_tg = ""
        with translation.override("tg"):
            assert deposit.localized_name() == "Konimansuri Kalon"  # English when none

    def test_search_text_follows_renames(self):
        deposit = DepositFactory(name="Old name")
        deposit.name = "Ёлочное"
        deposit.save(update_fields=["name"])
        assert list(Deposit.objects.search("елочное")) == [deposit]


class TestUnits:
    def test_troy_ounces_convert_exactly(self):
        assert to_kilograms(Decimal("1"), "oz t") == Decimal("0.0311034768")
        assert convert(Decimal("1257454"), "oz t", "t") == Decimal("39.1111913160672")

    def test_tonnes_and_megatonnes(self):
        assert convert(Decimal("961"), "Mt", "t") == Decimal("961000000")
        assert to_kilograms(Decimal("265"), "kt") == Decimal("265000000")

    def test_unknown_unit_raises(self):
        with pytest.raises(ValueError, match="unknown mass unit"):
            to_kilograms(Decimal(1), "pood")


HIDDEN = [
    "\u202e",  # right-to-left override
    "\u202a",
    "\u2066",  # left-to-right isolate
    "\u2069",
    "\u200b",  # zero-width space
    "\u200f",  # right-to-left mark
    "\ufeff",
    "\x00",
    "\t",
    "\n",
    "\x1b",
    "\x7f",
    "\x85",  # C1 next line
    "\x9f",
]


@pytest.mark.parametrize("character", HIDDEN, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("field", ["name", "name_ru", "name_tg", "aliases"])
def test_names_refuse_control_and_invisible_characters(field, character):
    deposit = DepositFactory.build(region=RegionFactory())
    value = f"Koni{character}mansur"
    setattr(deposit, field, [value] if field == "aliases" else value)
    with pytest.raises(ValidationError) as error:
        deposit.full_clean()
    assert f"U+{ord(character):04X}" in messages(error.value, field)
    assert "position 5" in messages(error.value, field)


def test_names_in_every_script_of_the_registry_are_accepted():
    deposit = DepositFactory.build(
        region=RegionFactory(),
        name="Konimansuri Kalon (Big) - No. 2",
        name_ru="Большой Конимансур «Северный»",
        name_tg="Кӯҳи Зарӣ, ҷанубӣ ғарбӣ",
        aliases=["Kŭhi Zarī", "山"],
    )
    deposit.full_clean()


def test_other_registry_names_refuse_them_too():
    from tests.factories import OrganisationFactory

    for record, field in [
        (RegionFactory.build(code="TJ-XX"), "name"),
        (MineralFactory.build(), "name_tg"),
        (OrganisationFactory.build(), "acronym"),
        (OrganisationFactory.build(), "name_native"),
    ]:
        setattr(record, field, "A\u202eB")
        with pytest.raises(ValidationError) as error:
            record.full_clean()
        assert "U+202E" in messages(error.value, field), record
