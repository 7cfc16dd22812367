"""The yearly State Balance of a mineral: which year the registry holds closed, and one
year's balance deposit by deposit with its totals per category.

Two rules live here and nowhere else:

- **Which year is complete** (`balance_complete_for`, `closed_years`): the latest year
  for which staff marked the mineral's State Balance closed (`BalanceClosure`). Every
  answer that states a computed share of the mineral says it (the statistics API, the
  mineral page, the State Balance screen and its exports), so a reader knows whether the
  registry's figures are the closed balance or a balance still being entered.
- **One year's balance** (`state_balance`): each deposit's lines (`BalanceMovement`) and
  the totals per category and balance/off-balance, units normalised exactly
  (deposits/units.py) so tonnes are never added to kilograms. `COLUMNS` is the one column
  list of the admin's State Balance screen and of its CSV and XLSX downloads.

It is read by staff only (the admin): lines of every deposit count, internal ones too.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from deposits.models import BalanceClosure, BalanceMovement, Mineral
from deposits.units import KILOGRAMS_PER_UNIT, convert

# A State Balance line keeps six decimal places (BalanceMovement's figures); so do totals.
PLACES = Decimal("0.000001")
FIGURES = ("opening", *BalanceMovement.MOVEMENTS, "closing")


def closed_years(mineral_ids: Iterable[int], on: date | None = None) -> dict[int, int]:
    """The latest closed State Balance year of each mineral id that has one (one query);
    as of `on`, of the closures recorded by then (one closed later was not yet known)."""
    closures = BalanceClosure.objects.filter(mineral_id__in=list(mineral_ids))
    if on is not None:
        closures = closures.filter(closed_on__lte=on)
    rows = (
        closures.order_by()
        .values("mineral_id")
        .annotate(latest=Max("year"))
        .values_list("mineral_id", "latest")
    )
    return dict(rows)


def balance_complete_for(mineral: Mineral, on: date | None = None) -> int | None:
    """The latest year whose State Balance of `mineral` is marked closed (by `on`, as of
    that date), or None: up to the end of that year the registry's balance of the mineral
    is complete."""
    return closed_years([mineral.pk], on).get(mineral.pk)


def balance_label(balance: bool) -> str:
    return str(_("balance") if balance else _("off-balance"))


# The State Balance table: (key, header). The screen, the CSV and the XLSX read it.
COLUMNS: list[tuple[str, object]] = [
    ("deposit", _("Deposit")),
    ("identifier", _("Identifier")),
    ("category", _("Category")),
    ("balance", _("Balance")),
    ("opening", BalanceMovement._meta.get_field("opening").verbose_name),
    *(
        (name, BalanceMovement._meta.get_field(name).verbose_name)
        for name in BalanceMovement.MOVEMENTS
    ),
    ("closing", BalanceMovement._meta.get_field("closing").verbose_name),
    ("unit", _("Unit")),
]


@dataclass
class StateBalance:
    """One mineral's State Balance of one year, as the screen and its downloads show it."""

    mineral: Mineral
    year: int
    lines: list[dict] = field(default_factory=list)
    # Per category and balance/off-balance, in `total_unit`; empty when `unnormalised`.
    totals: list[dict] = field(default_factory=list)
    total_unit: str = ""
    # Why the lines could not be totalled (a unit with no exact conversion), else "".
    unnormalised: str = ""
    closure: BalanceClosure | None = None
    complete_for: int | None = None

    @property
    def closed(self) -> bool:
        return self.closure is not None

    def header(self) -> list[str]:
        return [str(label) for _key, label in COLUMNS]

    def rows(self) -> Iterator[list]:
        """The table as the downloads write it: the lines, then the totals."""
        for row in (*self.lines, *self.totals):
            yield [row[key] for key, _label in COLUMNS]

    def status(self) -> str:
        """Whether this year is closed, as the screen and the downloads say it."""
        if self.closure is not None:
            return str(
                _("The State Balance of %(year)s is closed (%(date)s, protocol %(protocol)s).")
                % {
                    "year": self.year,
                    "date": self.closure.closed_on.isoformat(),
                    "protocol": self.closure.protocol or "—",
                }
            )
        return str(_("The State Balance of %(year)s is not marked closed.") % {"year": self.year})


def _line(movement: BalanceMovement) -> dict:
    return {
        "deposit": movement.deposit.name,
        "identifier": movement.deposit.public_id,
        "category": movement.category,
        "balance": balance_label(movement.balance),
        **{name: getattr(movement, name) for name in FIGURES},
        "unit": movement.unit,
    }


def _totals(movements: list[BalanceMovement], unit: str) -> list[dict]:
    """Each figure summed per category and balance/off-balance, converted to `unit`."""
    sums: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(FIGURES, Decimal(0)))
    for movement in movements:
        kept = sums[movement.category, movement.balance]
        for name in FIGURES:
            kept[name] += convert(getattr(movement, name), movement.unit, unit)
    return [
        {
            "deposit": str(_("Total")),
            "identifier": "",
            "category": category,
            "balance": balance_label(balance),
            **{name: figure.quantize(PLACES, ROUND_HALF_UP) for name, figure in figures.items()},
            "unit": unit,
        }
        for (category, balance), figures in sorted(
            sums.items(), key=lambda item: (item[0][0], not item[0][1])
        )
    ]


def state_balance(mineral: Mineral, year: int) -> StateBalance:
    """`mineral`'s State Balance of `year`: every deposit's lines, by deposit, category and
    balance first, and the totals per category. Lines in one unit are totalled in it;
    lines in several are totalled in the mineral's unit, converted exactly."""
    movements = list(
        BalanceMovement.objects.filter(mineral=mineral, year=year)
        .select_related("deposit")
        .order_by("deposit__name", "deposit__public_id", "category", "-balance")
    )
    result = StateBalance(
        mineral=mineral,
        year=year,
        lines=[_line(m) for m in movements],
        closure=BalanceClosure.objects.filter(mineral=mineral, year=year).first(),
        complete_for=balance_complete_for(mineral),
    )
    units = {m.unit for m in movements}
    unknown = sorted(u for u in units if u not in KILOGRAMS_PER_UNIT)
    if unknown:
        result.unnormalised = str(
            _("No totals: the unit %(units)s cannot be converted to %(unit)s.")
            % {"units": ", ".join(unknown), "unit": mineral.unit}
        )
        return result
    result.total_unit = units.pop() if len(units) == 1 else mineral.unit
    result.totals = _totals(movements, result.total_unit)
    return result
