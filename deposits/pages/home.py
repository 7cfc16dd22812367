"""The overview: deposits per mineral and per region, critical minerals, the largest
reserve shares of each mineral, the latest changes."""

from collections import defaultdict

from django.conf import settings
from django.shortcuts import render

from deposits.models import Deposit
from deposits.pages.common import largest_shares, most_deposits_first, with_bars
from deposits.querysets import minerals_with_deposit_counts, regions_with_deposit_counts
from kernel.visibility import Caller


def home(request):
    caller = Caller.of(request)
    minerals = list(minerals_with_deposit_counts(caller).filter(deposit_count__gt=0))
    rankings = defaultdict(list)
    for row in largest_shares(caller, top=settings.PAGES_HOME_TOP_DEPOSITS):
        rankings[row.mineral_id].append(row)
    deposits = Deposit.objects.visible_to(caller)
    return render(
        request,
        "deposits/home.html",
        {
            "minerals": most_deposits_first(minerals),
            "critical_minerals": [m for m in minerals if m.is_critical],
            "regions": with_bars(regions_with_deposit_counts(caller)),
            "share_charts": [(m, rankings[m.pk]) for m in minerals if m.pk in rankings],
            "latest": deposits.select_related("region").order_by("-updated_at", "-pk")[
                : settings.PAGES_HOME_LATEST
            ],
            "deposit_count": deposits.count(),
        },
    )
