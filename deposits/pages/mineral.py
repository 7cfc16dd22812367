"""A mineral: its reserve totals by category, its deposits ranked by share of the
national reserves, the regions holding it, the cooperation concerning it."""

from django.conf import settings
from django.shortcuts import get_object_or_404, render

from deposits.models import Deposit, Mineral, ReserveEstimate
from deposits.pages.common import largest_shares, with_bars
from deposits.querysets import regions_with_deposit_counts, reserve_totals
from kernel.visibility import Caller

CATEGORY_LABELS = dict(ReserveEstimate.Category.choices)
CATEGORY_ORDER = {value: index for index, value in enumerate(ReserveEstimate.Category.values)}


def labelled_totals(mineral: Mineral, caller: Caller) -> list[dict]:
    """`reserve_totals` as the table shows them: in the order A, B, C1, C2, P1-P3, then
    CRIRSCO, balance before off-balance, each with its label and CRIRSCO guidance."""
    totals = sorted(
        reserve_totals(mineral, caller),
        key=lambda e: (CATEGORY_ORDER.get(e["category"], 99), e["balance"] is not True),
    )
    for entry in totals:
        entry["category_label"] = CATEGORY_LABELS.get(entry["category"], entry["category"])
        entry["crirsco"] = ReserveEstimate(category=entry["category"]).crirsco_guidance
    return totals


def mineral_detail(request, code: str):
    caller = Caller.of(request)
    mineral = get_object_or_404(Mineral, code=code)
    regions = regions_with_deposit_counts(caller, mineral).filter(deposit_count__gt=0)
    deposits = Deposit.objects.visible_to(caller).filter(commodities__mineral=mineral)
    return render(
        request,
        "deposits/mineral_detail.html",
        {
            "mineral": mineral,
            "totals": labelled_totals(mineral, caller),
            "ranking": largest_shares(
                caller, top=settings.PAGES_MINERAL_TOP_DEPOSITS, mineral=mineral
            ),
            "regions": with_bars(regions),
            "deposit_count": deposits.count(),
        },
    )
