"""Statistics of API v1: per mineral and per region, over the records the caller may see.

Deposit counts and category totals count only visible deposits. Reserve shares
are national facts (deposits.services): a deposit's share is the same for
every caller, though a caller's ranking lists only the deposits it may see.

Each mineral's ranking lists its first `top` deposits by share: share descending,
deposits without a share last, then by name and identifier; its `deposit_count`
counts them all. On PostgreSQL the rankings and counts of a page are one query,
shares computed by the rule of `deposits.services` in SQL, so the work and memory
of a request follow what it returns, not the size of the registry. Elsewhere
(SQLite, the local run) Python ranks every deposit with `share_of`; tests hold the
two to the same answers.
"""

from collections import defaultdict
from decimal import Decimal
from typing import NamedTuple

from django.db import connections
from django.db.models import Count, Prefetch, Sum
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from deposits.models import DepositCommodity, Mineral, ReserveEstimate
from deposits.services import (
    SHARE_BASIS_SQL,
    attach_reserve_shares,
    share_kilograms_sql,
    share_pct_sql,
)
from kernel.api.parameters import whole_number
from kernel.api.prepared import built_by_database

DEFAULT_TOP = 10
MAX_TOP = 1000

TOP_PARAMETER = OpenApiParameter(
    "top",
    {"type": "integer", "minimum": 1, "maximum": MAX_TOP, "default": DEFAULT_TOP},
    description=(
        f"How many deposits each mineral's ranking lists ({DEFAULT_TOP} by default, at most "
        f"{MAX_TOP}); `deposit_count` counts them all."
    ),
)


def ranking_length(params) -> int:
    """The `top` query parameter: a whole number from 1 to MAX_TOP, DEFAULT_TOP if absent."""
    return whole_number(params, "top", DEFAULT_TOP, maximum=MAX_TOP)


class CategoryTotalSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="GKZ category (A, B, C1, C2, P1, P2, P3).")
    balance = serializers.BooleanField(allow_null=True)
    unit = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=40, decimal_places=6)
    deposit_count = serializers.IntegerField()


class RankedDepositSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Public identifier of the deposit.")
    name = serializers.CharField()
    region = serializers.CharField(allow_null=True)
    role = serializers.CharField()
    reserve_share_pct = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    share_basis = serializers.CharField(allow_null=True)


class MineralStatisticsSerializer(serializers.Serializer):
    mineral = serializers.CharField(help_text="Mineral code.")
    name = serializers.CharField()
    deposit_count = serializers.IntegerField(
        help_text="Visible deposits of the mineral, all of them (the ranking lists `top`)."
    )
    totals = CategoryTotalSerializer(many=True)
    deposits = RankedDepositSerializer(
        many=True,
        help_text=(
            "The first `top` deposits by share of national reserves (no share last, "
            "then by name and identifier)."
        ),
    )


class RegionStatisticsSerializer(serializers.Serializer):
    region = serializers.CharField(help_text="ISO 3166-2 code.")
    name = serializers.CharField()
    deposit_count = serializers.IntegerField()
    minerals = MineralStatisticsSerializer(many=True)


class Ranking(NamedTuple):
    deposit_count: int  # every visible deposit of the mineral
    deposits: list[dict]  # the first `top` of them


NO_DEPOSITS = Ranking(0, [])


def _ranked_deposit(public_id, name, region, role, pct, basis) -> dict:
    return {
        "id": public_id,
        "name": name,
        "region": region,
        "role": role,
        "reserve_share_pct": pct,
        "share_basis": basis,
    }


def _ranking_key(entry):
    share = entry["reserve_share_pct"]
    return (share is None, -(share or Decimal(0)), entry["name"], entry["id"])


def _rankings_in_python(deposits, mineral_ids, per_region: bool, top: int) -> dict:
    if mineral_ids is not None:
        deposits = deposits.filter(
            pk__in=DepositCommodity.objects.filter(mineral__in=mineral_ids).values("deposit_id")
        )
    commodities = DepositCommodity.objects.select_related("mineral")
    deposits = list(
        deposits.select_related("region").prefetch_related(
            Prefetch("commodities", queryset=commodities), "reserves"
        )
    )
    attach_reserve_shares(deposits)
    ranked = defaultdict(list)
    for deposit in deposits:
        region = deposit.region.code if deposit.region else None
        for c in deposit.commodities.all():
            if mineral_ids is None or c.mineral_id in mineral_ids:
                key = (deposit.region_id, c.mineral_id) if per_region else (c.mineral_id,)
                entry = (deposit.public_id, deposit.name, region, c.role)
                ranked[key].append(_ranked_deposit(*entry, c.share.pct, c.share.basis))
    return {
        key: Ranking(len(entries), sorted(entries, key=_ranking_key)[:top])
        for key, entries in ranked.items()
    }


# Shares of every commodity in scope (`c` of a deposit `d`, its national total `t`, its
# deposit's share estimates summed in `own`), numbered within each ranking in the order
# of `_ranking_key`: "C" collation compares names by code point, as Python does.
_RANKINGS_SQL = """SELECT {key}, deposit_count, public_id, name, region, role, pct, basis
FROM (SELECT shares.*,
        row_number() OVER (PARTITION BY {key}
            ORDER BY pct DESC NULLS LAST, name COLLATE "C", public_id COLLATE "C") AS place,
        count(*) OVER (PARTITION BY {key}) AS deposit_count
    FROM (SELECT d.region_id, c.mineral_id, d.public_id, d.name, r.code AS region, c.role,
            {pct} AS pct, {basis} AS basis
        FROM deposits_depositcommodity c
        JOIN deposits_deposit d ON d.id = c.deposit_id
        LEFT JOIN deposits_region r ON r.id = d.region_id
        LEFT JOIN deposits_nationalreservetotal t ON t.mineral_id = c.mineral_id
        LEFT JOIN ({own}) own ON own.deposit_id = c.deposit_id AND own.mineral_id = c.mineral_id
        WHERE c.deposit_id IN ({deposits}) AND {minerals}) shares) ranked
WHERE place <= %s
ORDER BY {key}, place"""


def _rankings_in_sql(deposits, mineral_ids, per_region: bool, top: int) -> dict:
    selected, params = deposits.order_by().values("pk").query.sql_with_params()
    minerals = [] if mineral_ids is None else [sorted(mineral_ids)]

    def of_minerals(alias: str) -> str:
        return "TRUE" if mineral_ids is None else f"{alias}.mineral_id = ANY(%s)"

    sql = _RANKINGS_SQL.format(
        key="region_id, mineral_id" if per_region else "mineral_id",
        pct=share_pct_sql("own.kilograms"),
        basis=SHARE_BASIS_SQL,
        own=share_kilograms_sql(f"e.deposit_id IN ({selected}) AND {of_minerals('e')}"),
        deposits=selected,
        minerals=of_minerals("c"),
    )
    width = 2 if per_region else 1  # the key's columns
    rankings = {}
    with connections[deposits.db].cursor() as cursor:
        cursor.execute(sql, [*params, *minerals, *params, *minerals, top])
        for row in cursor.fetchall():
            key, count, entry = row[:width], row[width], row[width + 1 :]
            rankings.setdefault(key, Ranking(count, [])).deposits.append(_ranked_deposit(*entry))
    return rankings


def rankings(deposits, mineral_ids, per_region: bool, top: int) -> dict[tuple, Ranking]:
    """The ranking of each mineral (of `mineral_ids`, or all) over `deposits`, keyed by
    (mineral id,) or, `per_region`, by (region id, mineral id): a fixed number of queries."""
    if built_by_database(deposits):
        return _rankings_in_sql(deposits, mineral_ids, per_region, top)
    return _rankings_in_python(deposits, mineral_ids, per_region, top)


def _category_totals(estimates, group_by: list[str]) -> dict[tuple, list[dict]]:
    rows = (
        estimates.filter(category__in=ReserveEstimate.GKZ_CATEGORIES, quantity__isnull=False)
        .values(*group_by, "category", "balance", "unit")
        .annotate(quantity=Sum("quantity"), deposit_count=Count("deposit", distinct=True))
        .order_by(*group_by, "category", "-balance", "unit")
    )
    totals = defaultdict(list)
    for row in rows:
        key = tuple(row.pop(name) for name in group_by)
        totals[key].append(row)
    return totals


def _mineral_entry(mineral, ranking: Ranking, totals) -> dict:
    return {
        "mineral": mineral.code,
        "name": mineral.name,
        "deposit_count": ranking.deposit_count,
        "totals": totals,
        "deposits": ranking.deposits,
    }


def mineral_statistics(minerals, visible_deposits, top: int) -> list[dict]:
    """Statistics of each mineral over `visible_deposits` (a fixed number of queries)."""
    minerals = list(minerals)
    if not minerals:  # an empty page
        return []
    mineral_ids = {m.pk for m in minerals}
    ranked = rankings(visible_deposits, mineral_ids, per_region=False, top=top)
    totals = _category_totals(
        ReserveEstimate.objects.filter(mineral__in=mineral_ids, deposit__in=visible_deposits),
        ["mineral_id"],
    )
    return [
        _mineral_entry(m, ranked.get((m.pk,), NO_DEPOSITS), totals.get((m.pk,), []))
        for m in minerals
    ]


def region_statistics(regions, visible_deposits, top: int) -> list[dict]:
    """For each region: its visible deposits and the statistics of each of their minerals."""
    regions = list(regions)
    if not regions:
        return []
    in_regions = visible_deposits.filter(region__in=regions)
    counts = dict(in_regions.order_by().values_list("region").annotate(Count("pk")))
    ranked = rankings(in_regions, None, per_region=True, top=top)
    minerals = Mineral.objects.in_bulk({mineral_id for _, mineral_id in ranked})
    totals = _category_totals(
        ReserveEstimate.objects.filter(deposit__in=in_regions), ["deposit__region_id", "mineral_id"]
    )
    result = []
    for region in regions:
        own = sorted(
            (minerals[mineral_id] for region_id, mineral_id in ranked if region_id == region.pk),
            key=lambda m: (m.name, m.code),
        )
        result.append(
            {
                "region": region.code,
                "name": region.name,
                "deposit_count": counts.get(region.pk, 0),
                "minerals": [
                    _mineral_entry(m, ranked[region.pk, m.pk], totals.get((region.pk, m.pk), []))
                    for m in own
                ],
            }
        )
    return result
