"""Units of the registry's quantities, with exact (Decimal) conversion.

Contained metal is counted in mass units; gold and silver are sometimes
published in troy ounces (1 oz t = 31.1034768 g exactly).
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class MassUnit(models.TextChoices):
    KILOGRAM = "kg", _("kilograms (kg)")
    TONNE = "t", _("tonnes (t)")
    KILOTONNE = "kt", _("thousand tonnes (kt)")
    MEGATONNE = "Mt", _("million tonnes (Mt)")
    TROY_OUNCE = "oz t", _("troy ounces (oz t)")


class GradeUnit(models.TextChoices):
    GRAM_PER_TONNE = "g/t", _("grams per tonne (g/t)")
    PERCENT = "%", _("percent (%)")
    PPM = "ppm", _("parts per million (ppm)")
    KG_PER_TONNE = "kg/t", _("kilograms per tonne (kg/t)")
    KG_PER_CUBIC_METRE = "kg/m3", _("kilograms per cubic metre (kg/m³)")


KILOGRAMS_PER_UNIT: dict[str, Decimal] = {
    MassUnit.KILOGRAM: Decimal(1),
    MassUnit.TONNE: Decimal(1_000),
    MassUnit.KILOTONNE: Decimal(1_000_000),
    MassUnit.MEGATONNE: Decimal(1_000_000_000),
    MassUnit.TROY_OUNCE: Decimal("0.0311034768"),
}


def to_kilograms(quantity: Decimal, unit: str) -> Decimal:
    """Convert a mass to kilograms, exactly."""
    try:
        factor = KILOGRAMS_PER_UNIT[unit]
    except KeyError:
        raise ValueError(f"unknown mass unit {unit!r}") from None
    return Decimal(quantity) * factor


def convert(quantity: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """Convert a mass between two units, exactly (Decimal division, 28 digits)."""
    return to_kilograms(quantity, from_unit) / KILOGRAMS_PER_UNIT[to_unit]


# Kilograms of the mineral in one tonne of ore at a grade of 1 in each unit; kg/m3 needs
# the ore's density, which the registry does not keep.
KILOGRAMS_PER_TONNE_OF_ORE: dict[str, Decimal] = {
    GradeUnit.GRAM_PER_TONNE: Decimal("0.001"),
    GradeUnit.PERCENT: Decimal(10),
    GradeUnit.PPM: Decimal("0.001"),
    GradeUnit.KG_PER_TONNE: Decimal(1),
}


def contained_kilograms(ore_tonnes: Decimal, grade: Decimal, grade_unit: str) -> Decimal | None:
    """The mineral that `ore_tonnes` of ore at `grade` hold, in kilograms, exactly; None
    for a grade whose unit cannot be converted without the ore's density."""
    factor = KILOGRAMS_PER_TONNE_OF_ORE.get(grade_unit)
    return None if factor is None else Decimal(ore_tonnes) * Decimal(grade) * factor
