"""Domain logic of deposits that is more than a query: reserve shares.

A deposit's share of the national reserves of a mineral is derived, never typed
twice: its balance A+B+C1 contained quantity over the national total in the same
categories, units normalised to kilograms. Where a mineral has no such estimates
anywhere, the share reported by a published source stands. Every share says
which basis it has. Shares are national facts: the denominator counts every
deposit of the registry, whoever is looking.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connections
from django.db.models import Case, DecimalField, F, Q, Sum, Value, When

from deposits.models import Deposit, DepositCommodity, NationalReserveTotal, ReserveEstimate
from deposits.units import KILOGRAMS_PER_UNIT, to_kilograms

COMPUTED = "computed"
REPORTED = "reported"
SHARE_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class ReserveShare:
    pct: Decimal | None
    basis: str | None  # "computed", "reported" or None when nothing is known


NO_SHARE = ReserveShare(None, None)


@dataclass(frozen=True)
class MineralShare:
    """One mineral of a deposit (its DepositCommodity) with its reserve share."""

    mineral_id: int
    role: str
    share: ReserveShare


def share_estimates():
    """The estimates that count towards reserve shares (balance A, B, C1 with a quantity)."""
    return ReserveEstimate.objects.filter(
        balance=True,
        category__in=ReserveEstimate.SHARE_CATEGORIES,
        quantity__isnull=False,
    )


def kilograms_expression():
    """SQL expression of an estimate's quantity in kilograms (exact factors)."""
    return Case(
        *[
            When(unit=unit, then=F("quantity") * Value(factor))
            for unit, factor in KILOGRAMS_PER_UNIT.items()
        ],
        output_field=DecimalField(max_digits=40, decimal_places=12),
    )


def national_totals(mineral_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
    """National balance A+B+C1 totals in kilograms, per mineral id (one small query)."""
    totals = NationalReserveTotal.objects.all()
    if mineral_ids is not None:
        totals = totals.filter(mineral_id__in=list(mineral_ids))
    return dict(totals.values_list("mineral_id", "kilograms"))


def summed_national_totals(mineral_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
    """The national totals summed from the estimates themselves (what the table keeps)."""
    estimates = share_estimates()
    if mineral_ids is not None:
        estimates = estimates.filter(mineral_id__in=list(mineral_ids))
    totals: dict[int, Decimal] = defaultdict(Decimal)
    rows = estimates.values("mineral_id", "unit").annotate(total=Sum("quantity")).order_by()
    for row in rows:
        totals[row["mineral_id"]] += to_kilograms(row["total"], row["unit"])
    return {mineral_id: total for mineral_id, total in totals.items() if total > 0}


def refresh_national_totals(mineral_ids: Iterable[int] | None = None) -> None:
    """Recompute the kept totals of these minerals (all when None) from their estimates.

    Called on every estimate write (deposits.signals) and after bulk loads, which
    bypass signals (synthetic data, restores).
    """
    mineral_ids = None if mineral_ids is None else {m for m in mineral_ids if m is not None}
    summed = summed_national_totals(mineral_ids)
    stale = NationalReserveTotal.objects.exclude(mineral_id__in=list(summed))
    if mineral_ids is not None:
        stale = stale.filter(mineral_id__in=mineral_ids)
    stale.delete()
    for mineral_id, kilograms in summed.items():
        NationalReserveTotal.objects.update_or_create(
            mineral_id=mineral_id, defaults={"kilograms": kilograms}
        )


def percent(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


def share_of(
    commodity: DepositCommodity,
    estimates: Iterable[ReserveEstimate],
    totals: dict[int, Decimal],
) -> ReserveShare:
    """The share of one deposit mineral, from the deposit's estimates and national totals."""
    total = totals.get(commodity.mineral_id)
    if total:
        own = sum(
            (
                to_kilograms(e.quantity, e.unit)
                for e in estimates
                if e.mineral_id == commodity.mineral_id
                and e.balance
                and e.category in ReserveEstimate.SHARE_CATEGORIES
                and e.quantity is not None
            ),
            Decimal(0),
        )
        return ReserveShare(percent(own, total), COMPUTED)
    if commodity.reported_share_pct is not None:
        return ReserveShare(commodity.reported_share_pct, REPORTED)
    return NO_SHARE


def attach_reserve_shares(deposits: Iterable[Deposit]) -> None:
    """Set `.share` on every commodity of the given deposits.

    Expects `commodities` and `reserves` prefetched; adds one query for the
    national totals of the minerals involved.
    """
    deposits = list(deposits)
    mineral_ids = {c.mineral_id for d in deposits for c in d.commodities.all()}
    totals = national_totals(mineral_ids) if mineral_ids else {}
    for deposit in deposits:
        estimates = list(deposit.reserves.all())
        for commodity in deposit.commodities.all():
            commodity.share = share_of(commodity, estimates, totals)


def mineral_shares(deposit_ids: list[int]) -> dict[int, list[MineralShare]]:
    """The minerals of these deposits with their reserve shares, per deposit id, main
    minerals first (the order of DepositCommodity.Meta).

    For lists that show shares without the rest of a deposit. PostgreSQL computes the
    shares in the one query (`SHARE_PCT_SQL`); elsewhere the commodities, their
    estimates and the national totals are read (three queries) and `share_of` applies.
    """
    by_deposit: dict[int, list[MineralShare]] = defaultdict(list)
    if not deposit_ids:
        return by_deposit
    commodities = DepositCommodity.objects.filter(deposit_id__in=deposit_ids)
    connection = connections[commodities.db]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT c.deposit_id, c.mineral_id, c.role, {SHARE_PCT_SQL}, {SHARE_BASIS_SQL}
                {commodities_sql("ANY(%s)")} ORDER BY c.role DESC, m.name, m.code""",
                [list(deposit_ids)],
            )
            for deposit_id, mineral_id, role, pct, basis in cursor.fetchall():
                share = ReserveShare(pct, basis)
                by_deposit[deposit_id].append(MineralShare(mineral_id, role, share))
        return by_deposit
    estimates: dict[int, list[ReserveEstimate]] = defaultdict(list)
    for estimate in share_estimates().filter(deposit_id__in=deposit_ids):
        estimates[estimate.deposit_id].append(estimate)
    commodities = list(commodities)
    totals = national_totals({c.mineral_id for c in commodities})
    for c in commodities:
        share = share_of(c, estimates[c.deposit_id], totals)
        by_deposit[c.deposit_id].append(MineralShare(c.mineral_id, c.role, share))
    return by_deposit


def deposits_with_min_share(queryset, minerals, min_share: Decimal):
    """Deposits whose share of any of `minerals` is at least `min_share` percent.

    Runs in SQL: the computed share where the mineral has estimates, the reported
    share otherwise, the same rule as `share_of`.
    """
    totals = national_totals(m.pk for m in minerals)
    condition = Q(pk__in=[])
    for mineral in minerals:
        total = totals.get(mineral.pk)
        if total is None:
            ids = DepositCommodity.objects.filter(
                mineral=mineral, reported_share_pct__gte=min_share
            ).values("deposit_id")
        elif min_share <= 0:  # a deposit without share estimates still has 0%
            ids = DepositCommodity.objects.filter(mineral=mineral).values("deposit_id")
        else:
            ids = (
                share_estimates()
                .filter(mineral=mineral)
                .values("deposit_id")
                .annotate(kg=Sum(kilograms_expression()))
                .filter(kg__gte=min_share * total / 100)
                .values("deposit_id")
            )
        condition |= Q(pk__in=ids)
    return queryset.filter(condition)


# The same rule in SQL, for what PostgreSQL writes itself (deposits.api.exports and
# documents, bench/sql.py): expressions over a commodity row `c` of `commodities_sql`.
_SHARE_CATEGORIES_SQL = ", ".join(f"'{c}'" for c in ReserveEstimate.SHARE_CATEGORIES)
KILOGRAMS_SQL = (
    "CASE {unit} "
    + " ".join(f"WHEN '{unit}' THEN {factor}" for unit, factor in KILOGRAMS_PER_UNIT.items())
    + " END"
)
_SHARE_ESTIMATE_SQL = f"""e.balance AND e.category IN ({_SHARE_CATEGORIES_SQL})
      AND e.quantity IS NOT NULL"""
_KILOGRAMS_SUM_SQL = f"sum(e.quantity * {KILOGRAMS_SQL.format(unit='e.unit')})"
_OWN_KILOGRAMS_SQL = f"""(SELECT {_KILOGRAMS_SUM_SQL}
    FROM deposits_reserveestimate e
    WHERE e.deposit_id = c.deposit_id AND e.mineral_id = c.mineral_id AND {_SHARE_ESTIMATE_SQL})"""


def share_pct_sql(own_kilograms: str = _OWN_KILOGRAMS_SQL) -> str:
    """The share of commodity `c`, from `own_kilograms`: its deposit's share estimates of
    the mineral in kilograms (NULL for none). By default summed for the one row; a query
    over many commodities joins `share_kilograms_sql` and names its column instead."""
    return f"""CASE WHEN t.kilograms > 0
    THEN round(coalesce({own_kilograms}, 0) * 100 / t.kilograms, 2)
    ELSE c.reported_share_pct END"""


SHARE_PCT_SQL = share_pct_sql()
SHARE_BASIS_SQL = f"""CASE WHEN t.kilograms > 0 THEN '{COMPUTED}'
    WHEN c.reported_share_pct IS NOT NULL THEN '{REPORTED}' END"""


def commodities_sql(deposit_id: str) -> str:
    """FROM ... WHERE: the commodities `c` of the deposit whose id is `deposit_id` (SQL:
    a column, or `ANY(%s)` for several), each with its mineral `m` and kept national
    total `t` (what the share expressions read)."""
    return f"""FROM deposits_depositcommodity c
    JOIN deposits_mineral m ON m.id = c.mineral_id
    LEFT JOIN deposits_nationalreservetotal t ON t.mineral_id = c.mineral_id
    WHERE c.deposit_id = {deposit_id}"""


def share_kilograms_sql(where: str) -> str:
    """SELECT deposit_id, mineral_id, kilograms: the share estimates `e` matching `where`,
    summed per deposit and mineral. For a query over thousands of commodities one grouped
    pass over the estimates costs less than a lookup per commodity row, and its estimate
    stays under PostgreSQL's JIT threshold (compiling cost more than running here)."""
    return f"""SELECT e.deposit_id, e.mineral_id, {_KILOGRAMS_SUM_SQL} AS kilograms
    FROM deposits_reserveestimate e
    WHERE {_SHARE_ESTIMATE_SQL} AND {where}
    GROUP BY e.deposit_id, e.mineral_id"""
