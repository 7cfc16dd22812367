"""A region: its deposits on a map, per mineral and per status."""

from django.db.models import Count
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from deposits.models import Deposit, Region
from deposits.pages.common import map_config, most_deposits_first
from deposits.querysets import minerals_with_deposit_counts
from kernel.visibility import Caller

STATUS_LABELS = dict(Deposit.Status.choices)


def region_detail(request, code: str):
    caller = Caller.of(request)
    region = get_object_or_404(Region.objects.prefetch_related("districts"), code=code)
    minerals = minerals_with_deposit_counts(caller, region).filter(deposit_count__gt=0)
    deposits = Deposit.objects.visible_to(caller).filter(region=region)
    statuses = deposits.values("status").annotate(n=Count("pk")).order_by("-n", "status")
    query = f"region={region.code}"
    return render(
        request,
        "deposits/region_detail.html",
        {
            "region": region,
            "deposit_count": deposits.count(),
            "minerals": most_deposits_first(minerals),
            "statuses": [
                {
                    "status": s["status"],
                    "label": STATUS_LABELS.get(s["status"], _("not stated")),
                    "n": s["n"],
                }
                for s in statuses
            ],
            "query": query,
            "map_config": map_config(pointsUrl=f"{reverse('deposit-map-data')}?{query}"),
        },
    )
