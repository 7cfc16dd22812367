"""Reads of the deposits app that more than one surface needs: deposits as rows for
exports and maps, counts of visible deposits per mineral and per region (of all of them,
or of a filter's result), the deposit types offered, a mineral's reserve totals, a
deposit's estimates flagged in force. Each counts only what the caller may see
(`kernel.visibility`); the share rule itself is not here but in `deposits.shares`, and the
rule of estimates in force in `ReserveEstimate.objects.in_force`.
"""

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from itertools import islice

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from deposits.models import Deposit, DepositCommodity, Mineral, Region, ReserveEstimate
from deposits.shares import commodities_with_shares, held_kilograms_shown
from deposits.units import KILOGRAMS_PER_UNIT
from kernel.exports import CHUNK_SIZE
from kernel.visibility import OPENS_RECORD, Caller, visible

# What a row of `deposit_rows` holds: the deposit's own fields, its region's, district's
# and belt's code and name (None without one), and `commodities`.
ROW_FIELDS = (
    "pk",
    "public_id",
    "name",
    "name_ru",
    "name_tg",
    "aliases",
    "latitude",
    "longitude",
    "status",
    "deposit_type",
    "exploration_level",
    "description",
    "visibility",
    "sources",
    "created_at",
    "updated_at",
    "region__code",
    "region__name",
    "district__code",
    "district__name",
    "belt__code",
    "belt__name",
)
COMMODITY_FIELDS = (
    "deposit_id",
    "role",
    "mineral_id",
    "mineral__code",
    "mineral__name",
    "mineral__is_critical",
    "mineral__unit",
    "share_pct",
    "share_basis",
    "share_scope",
    "share_bound",
)
# What `deposit_rows(..., reserves=True)` adds to each of a deposit's minerals: its balance
# A+B+C1 kilograms in force (`reserve_kilograms`, the numerator of its computed share) and
# `in_force`, its estimates in force with a quantity, as rows of these fields.
ESTIMATE_FIELDS = ("deposit_id", "mineral_id", "category", "balance", "quantity", "unit")


def deposit_rows(
    deposits: QuerySet,
    caller: Caller,
    chunk_size: int = CHUNK_SIZE,
    on: date | None = None,
    reserves: bool = False,
    extra: tuple[str, ...] = (),
    streamed: bool = True,
    fields: tuple[str, ...] = ROW_FIELDS,
) -> Iterator[dict]:
    """The deposits of the queryset as plain rows (`ROW_FIELDS`), in its order, each with
    `commodities`: its minerals, main first, with their shares as `caller` reads them
    (`COMMODITY_FIELDS`; as of `on`, `deposits.shares.with_shares`); with `reserves`,
    each mineral also with its reserves in force on `on` (`ESTIMATE_FIELDS`); `extra`
    names annotations of the queryset to read into each row too (a page's cursor values);
    `fields`, those of `ROW_FIELDS` a document uses, when it uses fewer (with "pk").
    A read of a bounded page or of one record passes `streamed=False`: its rows are
    fetched at once, without the server-side cursor (DECLARE, FETCH, CLOSE on
    PostgreSQL) that keeps an export's memory flat but costs a short read more than its
    query.

    Read `chunk_size` deposits at a time, two queries a chunk (three with `reserves`), so
    an export of the whole registry keeps its memory flat. Rows rather than model
    instances: exports and map pages read thousands of deposits and show each once, and
    building a deposit, its region, district, belt and every mineral as objects cost them
    several times the database's own time (docs/performance.md)."""
    values = deposits.prefetch_related(None).values(*fields, *extra)
    rows = values.iterator(chunk_size=chunk_size) if streamed else iter(values)
    # Built once: the share rule's expressions are many, and each chunk only narrows them.
    shown = commodities_with_shares(caller, on)
    if reserves:
        shown = shown.annotate(reserve_kilograms=held_kilograms_shown(caller, on))
        shown = shown.values(*COMMODITY_FIELDS, "reserve_kilograms")
    else:
        shown = shown.values(*COMMODITY_FIELDS)
    while chunk := list(islice(rows, chunk_size)):
        commodities = defaultdict(list)
        ids = [row["pk"] for row in chunk]
        if reserves:
            in_force = estimates_in_force(ids, caller, on)
        for commodity in shown.filter(deposit_id__in=ids):
            if reserves:
                key = (commodity["deposit_id"], commodity["mineral_id"])
                commodity["in_force"] = in_force.get(key, [])
            commodities[commodity["deposit_id"]].append(commodity)
        for row in chunk:
            row["commodities"] = commodities[row["pk"]]
            yield row


def estimates_in_force(
    deposit_ids: list[int], caller: Caller, on: date | None = None
) -> dict[tuple[int, int], list[dict]]:
    """The reserve estimates in force on `on` (as recorded now without it) of these
    deposits that state a quantity in a unit, per (deposit id, mineral id), as rows of
    `ESTIMATE_FIELDS`: every category, balance and off-balance, as the State Commission
    approved them. Only of deposits `caller` may see."""
    estimates = (
        ReserveEstimate.objects.visible_to(caller)
        .in_force(on)
        .filter(deposit_id__in=deposit_ids, quantity__isnull=False)
        .exclude(unit="")
        .order_by()
        .values(*ESTIMATE_FIELDS)
    )
    found = defaultdict(list)
    for estimate in estimates:
        found[(estimate["deposit_id"], estimate["mineral_id"])].append(estimate)
    return found


def minerals_with_deposit_counts(caller: Caller, region: Region | None = None) -> QuerySet:
    """Minerals annotated with `deposit_count`, the visible deposits of each (in `region`
    when given)."""
    counted = visible(caller, "commodities__deposit__", OPENS_RECORD)
    if region is not None:
        counted &= Q(commodities__deposit__region=region)
    return Mineral.objects.annotate(
        deposit_count=Count("commodities__deposit", filter=counted, distinct=True)
    )


def regions_with_deposit_counts(caller: Caller, mineral: Mineral | None = None) -> QuerySet:
    """Regions annotated with `deposit_count`, the visible deposits of each (of `mineral`
    when given)."""
    counted = visible(caller, "deposits__", OPENS_RECORD)
    if mineral is not None:
        counted &= Q(deposits__commodities__mineral=mineral)
    return Region.objects.annotate(deposit_count=Count("deposits", filter=counted, distinct=True))


def deposits_per_mineral(deposits: QuerySet) -> dict[int, int]:
    """{mineral id: how many of `deposits` hold it}, for deposits already narrowed to what
    a caller may see (a filter's result): one grouped query over their commodity rows, one
    row per deposit and mineral, so no DISTINCT. A mineral none of them holds is absent."""
    rows = DepositCommodity.objects.filter(deposit__in=deposits.order_by().values("pk"))
    return dict(rows.order_by().values_list("mineral_id").annotate(Count("pk")))


def deposits_per_region(deposits: QuerySet) -> dict[int | None, int]:
    """{region id: how many of `deposits` lie in it}, for deposits already narrowed to what
    a caller may see: one grouped query. A region with none of them is absent."""
    return dict(deposits.order_by().values_list("region_id").annotate(Count("pk")))


def visible_deposit_types(caller: Caller) -> list[str]:
    """The deposit types of the deposits `caller` may see, in order, none empty: a type
    only hidden deposits have is not offered, since offering it would reveal them."""
    deposits = Deposit.objects.visible_to(caller).exclude(deposit_type="")
    return list(deposits.order_by("deposit_type").values_list("deposit_type", flat=True).distinct())


def reserve_totals(mineral: Mineral, caller: Caller, on: date | None = None) -> list[dict]:
    """Contained quantities of `mineral` in force (on `on`), per category and balance, in the
    mineral's unit, with the number of deposits counted, over the deposits the caller may
    see (like every statistic; only shares are national facts). Units are converted in
    Decimal, exactly, after the database has summed each unit apart."""
    rows = (
        ReserveEstimate.objects.visible_to(caller)
        .in_force(on)
        .filter(mineral=mineral, quantity__isnull=False)
        .exclude(unit="")
        .values("category", "balance", "unit")
        .annotate(total=Sum("quantity"), deposits=Count("deposit", distinct=True))
        .order_by()
    )
    merged: dict[tuple, dict] = {}
    for row in rows:
        entry = merged.setdefault(
            (row["category"], row["balance"]),
            {
                "category": row["category"],
                "balance": row["balance"],
                "kg": Decimal(0),
                "deposits": 0,
            },
        )
        entry["kg"] += row["total"] * KILOGRAMS_PER_UNIT[row["unit"]]
        entry["deposits"] += row["deposits"]
    factor = KILOGRAMS_PER_UNIT[mineral.unit]
    for entry in merged.values():
        entry["quantity"] = entry.pop("kg") / factor
    return list(merged.values())


def with_in_force(estimates: QuerySet, on: date | None = None) -> QuerySet:
    """`estimates`, each annotated `in_force`: whether the one rule
    (`ReserveEstimate.objects.in_force(on)`) holds it in force on `on` (as recorded now
    without a day). The rule is asked, not restated: an estimate is in force exactly when
    it is among the rule's answer, so a flag can never disagree with a share or total."""
    counted = ReserveEstimate.objects.in_force(on).filter(pk=OuterRef("pk"))
    return estimates.annotate(in_force=Exists(counted))


def document_estimates(on: date | None = None, caller: Caller | None = None) -> QuerySet:
    """The reserve estimates a deposit's document lists (the API's deposit, its page and
    its passport), each flagged `in_force` (`with_in_force`): as of `on`, those recorded
    by then, dated on or before it or undated (a later one did not exist yet); without a
    day, every estimate recorded. So history (replaced, superseded or written off) is
    listed beside the figures in force and told apart from them, on any day. Only those
    `caller` may see, when given (a grant may open a deposit without its figures)."""
    estimates = ReserveEstimate.objects.all()
    if caller is not None:
        estimates = estimates.visible_to(caller)
    if on is not None:
        estimates = estimates.filter(Q(as_of__lte=on) | Q(as_of__isnull=True))
    return with_in_force(estimates, on)
