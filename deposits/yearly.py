"""Reserves and production year by year: the figures of the charts on the deposit and
mineral pages, each read by one function that the chart and the table beside it share.

- A deposit's **balance reserves by category** at the end of each year: the closing
  balance of its State Balance line of that year where there is one (`BalanceMovement`),
  otherwise the estimates in force on 31 December (`ReserveEstimate.objects.in_force`,
  the one rule).
- A deposit's **production**: the extraction of its State Balance lines, per year.
- A mineral's **national balance reserves** and **production**: the sums of the State
  Balance lines (closing balances of balance reserves; extraction) of the deposits the
  caller may see, like every other statistic.

Quantities are converted exactly to the mineral's unit (deposits/units.py). A year with
no figure is `None` (not recorded), never 0.

As of a day (`on`, `shares.recorded_on`), each function answers what the registry said
that day: a year's State Balance line counts once its year has ended by then
(`lines_by`), and the estimates are those in force on 31 December or on that day,
whichever comes first (a figure dated later, or a withdrawal, is not yet known).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum

from deposits.models import (
    BALANCE_CATEGORIES,
    BalanceMovement,
    Deposit,
    Mineral,
    ReserveEstimate,
)
from deposits.units import KILOGRAMS_PER_UNIT
from kernel.visibility import Caller

PRODUCTION = "extraction"


@dataclass
class YearlyFigures:
    """One mineral's figures over a run of years, in the mineral's unit: per year, one
    value per series (a GKZ category, or production), `None` where nothing is recorded."""

    mineral: Mineral
    series: list[str]
    rows: list[tuple[int, list[Decimal | None]]]

    @property
    def unit(self) -> str:
        return self.mineral.unit

    @property
    def charted(self) -> bool:
        """Worth a chart: figures in at least two years."""
        return sum(1 for _year, values in self.rows if any(v is not None for v in values)) >= 2


def _in_unit(kilograms: dict, mineral: Mineral) -> dict:
    factor = KILOGRAMS_PER_UNIT[mineral.unit]
    return {key: value / factor for key, value in kilograms.items()}


def _figures(mineral: Mineral, by_year: dict[int, dict[str, Decimal]], series) -> YearlyFigures:
    """Every year from the first to the last with a figure, the series in `series` order
    that have one."""
    shown = [s for s in series if any(s in values for values in by_year.values())]
    years = range(min(by_year), max(by_year) + 1) if by_year else []
    rows = [(year, [by_year.get(year, {}).get(s) for s in shown]) for year in years]
    return YearlyFigures(mineral, shown, rows)


def _kilograms(quantity: Decimal, unit: str) -> Decimal | None:
    factor = KILOGRAMS_PER_UNIT.get(unit)
    return None if factor is None else quantity * factor


def lines_by(lines: QuerySet, on: datetime.date | None) -> QuerySet:
    """The State Balance lines of years that had ended by `on` (all of them without a day):
    a line states its deposit's balance at 31 December of its year."""
    if on is None:
        return lines
    return lines.filter(year__lte=on.year if (on.month, on.day) == (12, 31) else on.year - 1)


def deposit_reserves_by_year(
    deposit: Deposit, on: datetime.date | None = None
) -> list[YearlyFigures]:
    """Per mineral of the deposit, its balance reserves (A, B, C1, C2) at the end of each
    year from its first dated figure to its last (as of `on`)."""
    estimates = ReserveEstimate.objects.filter(deposit=deposit)
    counted = {"balance": True, "category__in": BALANCE_CATEGORIES, "quantity__isnull": False}
    lines = lines_by(BalanceMovement.objects.filter(deposit=deposit, balance=True), on)
    # What is in force changes only in a year an estimate is dated or withdrawn in: the
    # rule is asked at the end of those years (or on `on`, in its year), and its answer
    # holds until the next.
    changes = set()
    for days in estimates.filter(**counted).values_list("as_of", "withdrawn_on"):
        changes |= {day.year for day in days if day is not None and (on is None or day <= on)}
    closings = defaultdict(lambda: defaultdict(Decimal))
    for line in lines.values("year", "mineral_id", "category", "closing", "unit"):
        kilograms = _kilograms(line["closing"], line["unit"])
        if kilograms is not None:
            closings[line["year"]][(line["mineral_id"], line["category"])] += kilograms
    years = changes | set(closings)
    if not years:
        return []
    held: dict[tuple, Decimal] = {}
    by_mineral: dict[int, dict[int, dict]] = defaultdict(dict)
    for year in range(min(years), max(years) + 1):
        if year in changes or year == min(years):
            held = defaultdict(Decimal)
            year_end = datetime.date(year, 12, 31)
            in_force = estimates.in_force(min(year_end, on or year_end)).filter(**counted)
            for row in in_force.values("mineral_id", "category", "quantity", "unit"):
                kilograms = _kilograms(row["quantity"], row["unit"])
                if kilograms is not None:
                    held[(row["mineral_id"], row["category"])] += kilograms
        for (mineral_id, category), kilograms in {**held, **closings.get(year, {})}.items():
            by_mineral[mineral_id].setdefault(year, {})[category] = kilograms
    minerals = Mineral.objects.in_bulk(list(by_mineral))
    return [
        _figures(
            minerals[mineral_id],
            {year: _in_unit(values, minerals[mineral_id]) for year, values in by_year.items()},
            BALANCE_CATEGORIES,
        )
        for mineral_id, by_year in sorted(by_mineral.items(), key=lambda m: minerals[m[0]].name)
    ]


def _production(lines) -> dict[int, dict[int, dict]]:
    """Extraction in kilograms per mineral id and year."""
    by_mineral: dict[int, dict[int, dict]] = defaultdict(lambda: defaultdict(dict))
    rows = lines.values("mineral_id", "year", "unit").annotate(total=Sum("extraction")).order_by()
    for row in rows:
        kilograms = _kilograms(row["total"], row["unit"])
        if kilograms is None:
            continue
        figures = by_mineral[row["mineral_id"]][row["year"]]
        figures[PRODUCTION] = figures.get(PRODUCTION, Decimal(0)) + kilograms
    return by_mineral


def deposit_production_by_year(
    deposit: Deposit, on: datetime.date | None = None
) -> list[YearlyFigures]:
    """Per mineral of the deposit, its extraction each year of its State Balance lines
    (as of `on`)."""
    by_mineral = _production(lines_by(BalanceMovement.objects.filter(deposit=deposit), on))
    minerals = Mineral.objects.in_bulk(list(by_mineral))
    return [
        _figures(
            minerals[mineral_id],
            {year: _in_unit(values, minerals[mineral_id]) for year, values in by_year.items()},
            [PRODUCTION],
        )
        for mineral_id, by_year in sorted(by_mineral.items(), key=lambda m: minerals[m[0]].name)
    ]


def national_reserves_by_year(
    mineral: Mineral, caller: Caller, on: datetime.date | None = None
) -> YearlyFigures:
    """The mineral's balance reserves (A, B, C1, C2) at the end of each year: the closing
    balances of the State Balance lines of the deposits `caller` may see (as of `on`)."""
    lines = BalanceMovement.objects.visible_to(caller).filter(mineral=mineral, balance=True)
    rows = (
        lines_by(lines, on)
        .values("year", "category", "unit")
        .annotate(total=Sum("closing"))
        .order_by()
    )
    by_year: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        kilograms = _kilograms(row["total"], row["unit"])
        if kilograms is not None:
            by_year[row["year"]][row["category"]] += kilograms
    in_unit = {year: _in_unit(values, mineral) for year, values in by_year.items()}
    return _figures(mineral, in_unit, BALANCE_CATEGORIES)


def national_production_by_year(
    mineral: Mineral, caller: Caller, on: datetime.date | None = None
) -> YearlyFigures:
    """The mineral's extraction each year, summed over the State Balance lines of the
    deposits `caller` may see (as of `on`)."""
    lines = BalanceMovement.objects.visible_to(caller).filter(mineral=mineral)
    by_year = _production(lines_by(lines, on)).get(mineral.pk, {})
    in_unit = {year: _in_unit(values, mineral) for year, values in by_year.items()}
    return _figures(mineral, in_unit, [PRODUCTION])
