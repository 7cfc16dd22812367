"""Statistics of API v1: per mineral and per region, over the records the caller may see.

Deposit counts and category totals count only visible deposits. Reserve shares
are national facts (deposits.shares): a deposit's share is the same for every
caller, though a caller's ranking lists only the deposits it may see.

Each mineral's ranking lists its first `top` deposits by share: share descending,
deposits without a share last, then by name and identifier; its `deposit_count`
counts them all. The rankings of a page are one query (`deposits.shares.ranked`,
a window over the visible commodities), so the work and memory of a request follow
what it returns, not the size of the registry.
"""

from collections import defaultdict
from datetime import date
from typing import NamedTuple

from django.db.models import Count, Sum
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from deposits import shares
from deposits.balance import closed_years
from deposits.models import Deposit, DepositCommodity, Mineral, ReserveEstimate
from kernel.parameters import whole_number
from kernel.visibility import Caller

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
    share_scope = serializers.CharField(
        allow_null=True, help_text="What a computed share is a share of (docs/reserves.md)."
    )
    share_bound = serializers.CharField(
        allow_null=True, help_text="over, under or about, as a reported share's source says."
    )


class MineralStatisticsSerializer(serializers.Serializer):
    mineral = serializers.CharField(help_text="Mineral code.")
    name = serializers.CharField()
    deposit_count = serializers.IntegerField(
        help_text="Visible deposits of the mineral, all of them (the ranking lists `top`)."
    )
    balance_complete_for = serializers.IntegerField(
        allow_null=True,
        help_text=(
            "The latest year whose State Balance of the mineral staff marked closed "
            "(the registry's balance is complete up to its end), or null."
        ),
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

# A ranked deposit's fields (RankedDepositSerializer), as read from its commodity row.
RANKED_FIELDS = {
    "id": "deposit__public_id",
    "name": "deposit__name",
    "region": "deposit__region__code",
    "role": "role",
    "reserve_share_pct": "share_pct",
    "share_basis": "share_basis",
    "share_scope": "share_scope",
    "share_bound": "share_bound",
}


def rankings(
    commodities, per: list[str], top: int, caller: Caller, on: date | None = None
) -> dict[tuple, Ranking]:
    """The rankings (`deposits.shares.ranked`, as of `on`) of `commodities`, one for each
    value of the fields `per`, keyed by those values: one query, whatever the registry's
    size."""
    rows = shares.ranked(commodities, per=per, top=top, caller=caller, on=on).values_list(
        *per, "ranked_count", *RANKED_FIELDS.values()
    )
    width = len(per)
    result: dict[tuple, Ranking] = {}
    for row in rows:
        key, count, entry = row[:width], row[width], row[width + 1 :]
        ranking = result.setdefault(key, Ranking(count, []))
        ranking.deposits.append(dict(zip(RANKED_FIELDS, entry, strict=True)))
    return result


def _category_totals(estimates, group_by: list[str], on: date | None) -> dict[tuple, list[dict]]:
    rows = (
        estimates.in_force(on)
        .filter(category__in=ReserveEstimate.GKZ_CATEGORIES, quantity__isnull=False)
        .values(*group_by, "category", "balance", "unit")
        .annotate(quantity=Sum("quantity"), deposit_count=Count("deposit", distinct=True))
        .order_by(*group_by, "category", "-balance", "unit")
    )
    totals = defaultdict(list)
    for row in rows:
        key = tuple(row.pop(name) for name in group_by)
        totals[key].append(row)
    return totals


def _mineral_entry(mineral, ranking: Ranking, totals, closed: dict[int, int]) -> dict:
    return {
        "mineral": mineral.code,
        "name": mineral.name,
        "deposit_count": ranking.deposit_count,
        "balance_complete_for": closed.get(mineral.pk),
        "totals": totals,
        "deposits": ranking.deposits,
    }


def mineral_statistics(minerals, caller: Caller, top: int, on: date | None = None) -> list[dict]:
    """Statistics of each mineral over the deposits `caller` may see, from the estimates in
    force on `on` (as recorded now when None; a fixed number of queries)."""
    minerals = list(minerals)
    if not minerals:  # an empty page
        return []
    per_mineral = ["mineral_id"]
    ranked = rankings(
        DepositCommodity.objects.visible_to(caller).filter(mineral__in=minerals),
        per_mineral,
        top,
        caller,
        on,
    )
    totals = _category_totals(
        ReserveEstimate.objects.visible_to(caller).filter(mineral__in=minerals), per_mineral, on
    )
    closed = closed_years((m.pk for m in minerals), on)
    return [
        _mineral_entry(m, ranked.get((m.pk,), NO_DEPOSITS), totals.get((m.pk,), []), closed)
        for m in minerals
    ]


def region_statistics(regions, caller: Caller, top: int, on: date | None = None) -> list[dict]:
    """For each region: the deposits `caller` may see there and the statistics of each of
    their minerals (as of `on`)."""
    regions = list(regions)
    if not regions:
        return []
    in_regions = Deposit.objects.visible_to(caller).filter(region__in=regions)
    counts = dict(in_regions.order_by().values_list("region").annotate(Count("pk")))
    per_region = ["deposit__region_id", "mineral_id"]
    ranked = rankings(
        DepositCommodity.objects.visible_to(caller).filter(deposit__region__in=regions),
        per_region,
        top,
        caller,
        on,
    )
    minerals = Mineral.objects.in_bulk({mineral_id for _, mineral_id in ranked})
    totals = _category_totals(
        ReserveEstimate.objects.visible_to(caller).filter(deposit__region__in=regions),
        per_region,
        on,
    )
    closed = closed_years(minerals, on)
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
                    _mineral_entry(
                        m, ranked[region.pk, m.pk], totals.get((region.pk, m.pk), []), closed
                    )
                    for m in own
                ],
            }
        )
    return result
