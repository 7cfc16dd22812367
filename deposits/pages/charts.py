"""Bar charts of figures over the years, drawn on the server as inline SVG
(templates/deposits/_chart.html): no script and nothing fetched, so they show on closed
networks and on paper. The table under each chart holds the same figures, from the same
`YearlyFigures` (deposits/yearly.py); the SVG is decoration for sighted readers."""

import math
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from deposits.models import Deposit, Mineral, ReserveEstimate
from deposits.yearly import (
    PRODUCTION,
    YearlyFigures,
    deposit_production_by_year,
    deposit_reserves_by_year,
    national_production_by_year,
    national_reserves_by_year,
)
from kernel.visibility import Caller

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 72, 8, 12, 24
# Dark to light, A to C2 (explored to estimated); production in its own colour.
COLOURS = {"A": "#1f4e79", "B": "#2e75b6", "C1": "#6fa8dc", "C2": "#b4d3ef", PRODUCTION: "#8a5a00"}
SERIES_LABELS = {**dict(ReserveEstimate.Category.choices), PRODUCTION: _("Production")}
# At most this many year labels under the bars; the table has every year.
YEAR_LABELS = 12


def nice_top(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above `value`: the top of the scale."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** math.floor(math.log10(value))
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop ends at 10


def bar_chart(figures: YearlyFigures, title: str) -> dict:
    """The geometry of a bar chart of `figures`, one bar a year, the series stacked."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    totals = [sum(v for v in values if v is not None) for _year, values in figures.rows]
    top = nice_top(max(totals, default=Decimal(0)))
    band = plot_width / len(figures.rows)
    label_every = math.ceil(len(figures.rows) / YEAR_LABELS)
    bars, years = [], []
    for index, (year, values) in enumerate(figures.rows):
        x = LEFT + index * band + band * 0.15
        base = TOP + plot_height
        for series, value in zip(figures.series, values, strict=True):
            if not value:
                continue
            height = float(value / top) * plot_height
            base -= height
            bars.append(
                {
                    "x": x,
                    "y": base,
                    "width": band * 0.7,
                    "height": height,
                    "fill": COLOURS.get(series, "#2e75b6"),
                }
            )
        if index % label_every == 0:
            years.append({"x": LEFT + (index + 0.5) * band, "year": year})
    ticks = [
        {"y": TOP + plot_height * (1 - fraction), "value": top * Decimal(str(fraction))}
        for fraction in (0, 0.5, 1)
    ]
    return {
        "figures": figures,
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "baseline": TOP + plot_height,
        "bars": bars,
        "years": years,
        "ticks": ticks,
        "series": [
            {"label": SERIES_LABELS.get(s, s), "fill": COLOURS.get(s, "#2e75b6")}
            for s in figures.series
        ],
        "stacked": len(figures.series) > 1,
    }


def charts(figures_list, title) -> list[dict]:
    """The charts of those figures worth one (two years or more), each titled
    `title % {"mineral": ..., "unit": ...}`."""
    return [
        bar_chart(
            figures, title % {"mineral": figures.mineral.localized_name(), "unit": figures.unit}
        )
        for figures in figures_list
        if figures.charted
    ]


def deposit_charts(deposit: Deposit, on: date | None = None) -> list[dict]:
    """The deposit page's charts: per mineral, its balance reserves by category at each
    year's end, then its production (as of `on`)."""
    reserves = _("Balance reserves of %(mineral)s at the end of each year, by category (%(unit)s)")
    production = _("Production of %(mineral)s by year (%(unit)s)")
    return [
        *charts(deposit_reserves_by_year(deposit, on), reserves),
        *charts(deposit_production_by_year(deposit, on), production),
    ]


# What the national charts sum, for each reader (like every statistic, over the deposits
# the reader may see: docs/reserves.md).
NATIONAL_NOTES = {
    "public": _("Sums of the yearly State Balance lines of the public deposits in the registry."),
    "public+partners": _(
        "Sums of the yearly State Balance lines of the public and partner deposits in the registry."
    ),
    "all": _(
        "Sums of the yearly State Balance lines of every deposit in the registry, internal "
        "ones included."
    ),
}


def mineral_charts(mineral: Mineral, caller: Caller, on: date | None = None) -> list[dict]:
    """The mineral page's charts: national balance reserves and production by year (as of
    `on`)."""
    reserves = _("National balance reserves at the end of each year, by category (%(unit)s)")
    production = _("National production by year (%(unit)s)")
    return [
        *charts([national_reserves_by_year(mineral, caller, on)], reserves),
        *charts([national_production_by_year(mineral, caller, on)], production),
    ]
