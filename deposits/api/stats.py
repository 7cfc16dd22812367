"""Statistics of API v1: per mineral and per region, over the records the caller may see.

Deposit counts and category totals count only visible deposits. Reserve shares
are national facts (deposits.services): a deposit's share is the same for
every caller, though a caller's ranking lists only the deposits it may see.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Prefetch, Sum
from rest_framework import serializers

from deposits.models import DepositCommodity, ReserveEstimate
from deposits.services import attach_reserve_shares


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
    deposit_count = serializers.IntegerField()
    totals = CategoryTotalSerializer(many=True)
    deposits = RankedDepositSerializer(
        many=True, help_text="Deposits ranked by their share of national reserves."
    )


class RegionStatisticsSerializer(serializers.Serializer):
    region = serializers.CharField(help_text="ISO 3166-2 code.")
    name = serializers.CharField()
    deposit_count = serializers.IntegerField()
    minerals = MineralStatisticsSerializer(many=True)


def _deposits_with_shares(deposits):
    commodities = DepositCommodity.objects.select_related("mineral")
    deposits = list(
        deposits.select_related("region").prefetch_related(
            Prefetch("commodities", queryset=commodities), "reserves"
        )
    )
    attach_reserve_shares(deposits)
    return deposits


def _ranking_key(entry):
    share = entry["reserve_share_pct"]
    return (share is None, -(share or Decimal(0)), entry["name"], entry["id"])


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


def _mineral_entry(mineral, deposits, totals) -> dict:
    ranked = []
    for deposit in deposits:
        for commodity in deposit.commodities.all():
            if commodity.mineral_id == mineral.pk:
                ranked.append(
                    {
                        "id": deposit.public_id,
                        "name": deposit.name,
                        "region": deposit.region.code if deposit.region else None,
                        "role": commodity.role,
                        "reserve_share_pct": commodity.share.pct,
                        "share_basis": commodity.share.basis,
                    }
                )
    ranked.sort(key=_ranking_key)
    return {
        "mineral": mineral.code,
        "name": mineral.name,
        "deposit_count": len(ranked),
        "totals": totals,
        "deposits": ranked,
    }


def mineral_statistics(minerals, visible_deposits) -> list[dict]:
    """Statistics of each mineral over `visible_deposits` (a fixed number of queries)."""
    minerals = list(minerals)
    mineral_ids = [m.pk for m in minerals]
    with_minerals = visible_deposits.filter(
        pk__in=DepositCommodity.objects.filter(mineral__in=mineral_ids).values("deposit_id")
    )
    deposits = _deposits_with_shares(with_minerals)
    totals = _category_totals(
        ReserveEstimate.objects.filter(mineral__in=mineral_ids, deposit__in=visible_deposits),
        ["mineral_id"],
    )
    return [_mineral_entry(m, deposits, totals.get((m.pk,), [])) for m in minerals]


def region_statistics(regions, visible_deposits) -> list[dict]:
    """For each region: its visible deposits and the statistics of each of their minerals."""
    regions = list(regions)
    in_regions = visible_deposits.filter(region__in=regions)
    deposits = _deposits_with_shares(in_regions)
    totals = _category_totals(
        ReserveEstimate.objects.filter(deposit__in=in_regions), ["deposit__region_id", "mineral_id"]
    )
    result = []
    for region in regions:
        own = [d for d in deposits if d.region_id == region.pk]
        minerals = {c.mineral_id: c.mineral for d in own for c in d.commodities.all()}
        result.append(
            {
                "region": region.code,
                "name": region.name,
                "deposit_count": len(own),
                "minerals": [
                    _mineral_entry(m, own, totals.get((region.pk, m.pk), []))
                    for m in sorted(minerals.values(), key=lambda m: m.name)
                ],
            }
        )
    return result
