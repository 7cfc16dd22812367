"""A region: its deposits on a map, per mineral and per status; on screen, as a PDF and as
an XLSX workbook, all from one `region_report`."""

from django.db.models import Count
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from deposits.models import Deposit, Region
from deposits.pages.common import (
    figures_date,
    map_config,
    most_deposits_first,
    without_coordinates,
)
from deposits.querysets import minerals_with_deposit_counts
from kernel.exports import workbook_response
from kernel.paper import pdf_response
from kernel.visibility import Caller

STATUS_LABELS = dict(Deposit.Status.choices)


def region_report(request, code: str) -> dict:
    """What the region's page shows, and its PDF and XLSX hold. Its figures are counts of
    deposits, the same on every day, so `as_of` is only checked and stated."""
    caller = Caller.of(request)
    form, _asked, as_of = figures_date(request)
    region = get_object_or_404(Region.objects.prefetch_related("districts"), code=code)
    minerals = minerals_with_deposit_counts(caller, region).filter(deposit_count__gt=0)
    deposits = Deposit.objects.visible_to(caller).filter(region=region)
    statuses = deposits.values("status").annotate(n=Count("pk")).order_by("-n", "status")
    query = f"region={region.code}"
    return {
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
        "map_config": map_config(
            pointsUrl=f"{reverse('deposit-map-data')}?{query}",
            filterUrl=f"{reverse('deposit-list')}?{query}",
            highlight=[region.code],
            fit="regions",
        ),
        "as_of": as_of,
        "as_of_form": form,
    }


def region_sheets(report: dict) -> list[tuple[str, list[str], list[list]]]:
    """The page's tables as sheets, in the active language."""
    return [
        (
            _("Deposits per mineral"),
            [_("Mineral"), _("Deposits")],
            [[m.localized_name(), m.deposit_count] for m in report["minerals"]],
        ),
        (
            _("Deposits by status"),
            [_("Status"), _("Deposits")],
            [[capfirst(row["label"]), row["n"]] for row in report["statuses"]],
        ),
        (
            _("Cities and districts"),
            [_("District")],
            [[district.localized_name()] for district in report["region"].districts.all()],
        ),
    ]


def region_detail(request, code: str):
    report = region_report(request, code)
    # Only the page has a map, so only the page says which deposits it cannot draw.
    deposits = Deposit.objects.visible_to(Caller.of(request)).filter(region=report["region"])
    report["unlocated"] = without_coordinates(
        deposits.order_by(*Deposit._meta.ordering, "pk"), report["deposit_count"], region=True
    )
    status = 400 if report["as_of_form"].errors else 200
    return render(request, "deposits/region_detail.html", report, status=status)


def region_pdf(request, code: str):
    report = region_report(request, code)
    return pdf_response(request, "deposits/paper/region.html", report, paper_name(report))


def region_xlsx(request, code: str):
    report = region_report(request, code)
    return workbook_response(region_sheets(report), paper_name(report))


def paper_name(report: dict) -> str:
    return f"region-{report['region'].code}-{get_language()}-{timezone.localdate().isoformat()}"
