"""The registry's statistics: per mineral, its deposits and its national reserves in force
(balance A+B+C1, C2, off-balance); per region, its deposits, and its deposits of each
mineral. On screen, as a PDF and as an XLSX workbook, all from one `statistics_report`.

The figures are read as the home, mineral and region pages read theirs
(`minerals_with_deposit_counts`, `regions_with_deposit_counts`, `reserve_totals`), so a
figure here is the figure there, counted over the deposits the caller may see.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from deposits.models import Deposit, Region
from deposits.pages.common import as_of_note, figures_date, most_deposits_first, with_bars
from deposits.querysets import (
    minerals_with_deposit_counts,
    regions_with_deposit_counts,
    reserve_totals,
)
from deposits.shares import recorded_on
from kernel.exports import workbook_response
from kernel.paper import pdf_response
from kernel.visibility import Caller

# The reserve columns: (key, GKZ categories summed, balance or off-balance).
RESERVE_COLUMNS = (
    ("balance_abc1", ("A", "B", "C1"), True),
    ("balance_c2", ("C2",), True),
    ("off_balance", ("A", "B", "C1", "C2"), False),
)
# The page writes quantities with `floatformat:"-3g"`: three places at most.
QUANTITY_PLACES = Decimal("0.001")

# What the figures are of, for the one reading them (a caller's `scope`).
SCOPE_NOTES = {
    "public": gettext_lazy("Counted over the public deposits in the registry."),
    "public+partners": gettext_lazy(
        "Counted over the public and partner deposits in the registry."
    ),
    "all": gettext_lazy("Counted over every deposit in the registry, internal ones included."),
}


def mineral_reserves(mineral, caller: Caller, on=None) -> dict:
    """The mineral's reserves in force (on `on`; `reserve_totals`, in its unit) summed into
    the statistics' columns; None where no estimate counts towards a column."""
    totals = reserve_totals(mineral, caller, on)
    reserves = {}
    for key, categories, balance in RESERVE_COLUMNS:
        found = [
            entry["quantity"]
            for entry in totals
            if entry["category"] in categories and entry["balance"] is balance
        ]
        reserves[key] = sum(found, Decimal(0)) if found else None
    return reserves


def statistics_report(request) -> dict:
    """What the statistics page shows, and its PDF and XLSX hold: one read, one set of
    figures, as of the day asked (`as_of`, else today). The reserves are those in force
    that day; the deposit counts are the same on every day, as the region page's."""
    caller = Caller.of(request)
    form, asked, as_of = figures_date(request)
    on = recorded_on(as_of)
    minerals = most_deposits_first(minerals_with_deposit_counts(caller).filter(deposit_count__gt=0))
    for mineral in minerals:
        mineral.in_force = mineral_reserves(mineral, caller, on)
    regions = with_bars(regions_with_deposit_counts(caller).order_by("code"))
    for region in regions:
        counts = minerals_with_deposit_counts(caller, region).filter(deposit_count__gt=0)
        per_mineral = dict(counts.values_list("pk", "deposit_count"))
        region.per_mineral = [per_mineral.get(mineral.pk, 0) for mineral in minerals]
    for index, mineral in enumerate(minerals):
        mineral.per_region = [region.per_mineral[index] for region in regions]
    return {
        "minerals": minerals,
        "regions": regions,
        "deposit_count": Deposit.objects.visible_to(caller).count(),
        "scope_note": SCOPE_NOTES[caller.scope],
        "as_of": as_of,
        "as_of_asked": asked,
        "as_of_form": form,
    }


def quantity(value: Decimal | None) -> Decimal | None:
    """A quantity as the page writes it: to three places."""
    return None if value is None else value.quantize(QUANTITY_PLACES, ROUND_HALF_UP)


def statistics_sheets(report: dict) -> list[tuple[str, list[str], list[list]]]:
    """The page's three tables as sheets, with the figures the page writes, in the active
    language."""
    regions: list[Region] = report["regions"]
    return [
        (
            _("Reserves and deposits per mineral"),
            [
                _("Mineral"),
                _("Symbol"),
                _("Deposits"),
                _("Balance reserves A+B+C1"),
                _("Balance reserves C2"),
                _("Off-balance reserves"),
                _("Unit"),
            ],
            [
                [
                    mineral.localized_name(),
                    mineral.symbol,
                    mineral.deposit_count,
                    *(quantity(mineral.in_force[key]) for key, _c, _b in RESERVE_COLUMNS),
                    str(mineral.get_unit_display()),
                ]
                for mineral in report["minerals"]
            ]
            + [[], [as_of_note(report)], [str(report["scope_note"])]],
        ),
        (
            _("Deposits by region"),
            [_("Region"), _("Code"), _("Deposits")],
            [[region.localized_name(), region.code, region.deposit_count] for region in regions],
        ),
        (
            _("Deposits per mineral and region"),
            [_("Mineral"), *(region.localized_name() for region in regions)],
            [[mineral.localized_name(), *mineral.per_region] for mineral in report["minerals"]],
        ),
    ]


def statistics(request):
    report = statistics_report(request)
    status = 400 if report["as_of_form"].errors else 200
    return render(request, "deposits/statistics.html", report, status=status)


def statistics_pdf(request):
    report = statistics_report(request)
    return pdf_response(request, "deposits/paper/statistics.html", report, paper_name())


def statistics_xlsx(request):
    return workbook_response(statistics_sheets(statistics_report(request)), paper_name())


def paper_name() -> str:
    return f"statistics-{get_language()}-{timezone.localdate().isoformat()}"
