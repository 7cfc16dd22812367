"""A mineral: its reserve totals by category, its deposits ranked by share of the
national reserves, the regions holding it, the cooperation concerning it; on screen, as
a PDF and as an XLSX workbook, all from one `mineral_report`."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from deposits.balance import balance_complete_for
from deposits.models import Deposit, Mineral, ReserveEstimate
from deposits.pages.charts import NATIONAL_NOTES, mineral_charts
from deposits.pages.common import (
    as_of_note,
    balance_label,
    figures_date,
    largest_shares,
    share_basis_label,
    with_bars,
)
from deposits.querysets import regions_with_deposit_counts, reserve_totals
from deposits.shares import SCOPE_NOTES, recorded_on
from kernel.exports import workbook_response
from kernel.paper import pdf_response
from kernel.visibility import Caller

CATEGORY_LABELS = dict(ReserveEstimate.Category.choices)
CATEGORY_ORDER = {value: index for index, value in enumerate(ReserveEstimate.Category.values)}
# The page writes quantities with `floatformat:"-3g"`: three places at most.
QUANTITY_PLACES = Decimal("0.001")


def labelled_totals(mineral: Mineral, caller: Caller, on=None) -> list[dict]:
    """`reserve_totals` (as of `on`) as the table shows them: in the order A, B, C1, C2,
    P1-P3, then CRIRSCO, balance before off-balance, each with its label and CRIRSCO
    guidance."""
    totals = sorted(
        reserve_totals(mineral, caller, on),
        key=lambda e: (CATEGORY_ORDER.get(e["category"], 99), e["balance"] is not True),
    )
    for entry in totals:
        entry["category_label"] = CATEGORY_LABELS.get(entry["category"], entry["category"])
        entry["crirsco"] = ReserveEstimate(category=entry["category"]).crirsco_guidance
    return totals


def mineral_report(request, code: str) -> dict:
    """What the mineral's page shows, and its PDF and XLSX hold: one read, one set of
    figures, as of the day asked (`as_of`, else today)."""
    caller = Caller.of(request)
    mineral = get_object_or_404(Mineral, code=code)
    form, asked, as_of = figures_date(request)
    on = recorded_on(as_of)
    top = settings.PAGES_MINERAL_TOP_DEPOSITS
    regions = regions_with_deposit_counts(caller, mineral).filter(deposit_count__gt=0)
    deposits = Deposit.objects.visible_to(caller).filter(commodities__mineral=mineral)
    return {
        "mineral": mineral,
        "totals": labelled_totals(mineral, caller, on),
        "ranking": largest_shares(caller, top=top, on=on, mineral=mineral),
        "regions": with_bars(regions),
        "deposit_count": deposits.count(),
        "scope_note": SCOPE_NOTES[caller.scope],
        "balance_complete_for": balance_complete_for(mineral, on),
        "as_of": as_of,
        "as_of_asked": asked,
        "as_of_form": form,
    }


def balance_note(report: dict) -> str:
    """Whether the registry's State Balance of the mineral is complete, as a line."""
    year = report["balance_complete_for"]
    if year is None:
        return _("State Balance: not marked complete.")
    return _("State Balance closed for %(year)s.") % {"year": year}


def mineral_sheets(report: dict) -> list[tuple[str, list[str], list[list]]]:
    """The page's three tables as sheets, with the figures the page writes (quantities to
    three places, shares to two), in the active language."""
    mineral = report["mineral"]
    return [
        (
            _("National totals by category"),
            [
                _("Category"),
                _("CRIRSCO (guidance)"),
                _("Balance"),
                _("Contained (%(unit)s)") % {"unit": mineral.unit},
                _("Deposits"),
            ],
            [
                [
                    str(row["category_label"]),
                    str(row["crirsco"] or ""),
                    balance_label(row["balance"]),
                    row["quantity"].quantize(QUANTITY_PLACES, ROUND_HALF_UP),
                    row["deposits"],
                ]
                for row in report["totals"]
            ],
        ),
        (
            _("Deposits by share of national reserves"),
            ["#", _("Deposit"), _("Identifier"), _("Share (%)"), _("Basis of the share")],
            [
                [
                    row.place,
                    row.deposit.localized_name(),
                    row.deposit.public_id,
                    row.share_pct,
                    share_basis_label(row),
                ]
                for row in report["ranking"]
            ]
            + [[], [as_of_note(report)], [report["scope_note"]], [balance_note(report)]],
        ),
        (
            _("Regions"),
            [_("Region"), _("Deposits")],
            [[region.localized_name(), region.deposit_count] for region in report["regions"]],
        ),
    ]


def national_charts(request, report: dict) -> dict:
    """The mineral's charts over the years and what they sum, for the page and its PDF
    (the spreadsheet holds the page's tables only)."""
    caller, on = Caller.of(request), recorded_on(report["as_of"])
    return {
        "charts": mineral_charts(report["mineral"], caller, on),
        "charts_note": NATIONAL_NOTES[caller.scope],
        "charts_on": on,
    }


def mineral_detail(request, code: str):
    report = mineral_report(request, code)
    charts = national_charts(request, report)
    status = 400 if report["as_of_form"].errors else 200
    return render(request, "deposits/mineral_detail.html", {**report, **charts}, status=status)


def mineral_pdf(request, code: str):
    report = mineral_report(request, code)
    context = {**report, **national_charts(request, report)}
    return pdf_response(request, "deposits/paper/mineral.html", context, paper_name(report))


def mineral_xlsx(request, code: str):
    report = mineral_report(request, code)
    return workbook_response(mineral_sheets(report), paper_name(report))


def paper_name(report: dict) -> str:
    return f"mineral-{report['mineral'].code}-{get_language()}-{timezone.localdate().isoformat()}"
