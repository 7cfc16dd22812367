"""What several pages share: the filtered deposit list, the share rankings, maps and bars."""

import datetime

from django import forms
from django.conf import settings
from django.db.models import Count, FloatField, Q, QuerySet, Window
from django.db.models.functions import Cast
from django.templatetags.static import static
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from deposits.filters import DepositFilterSet
from deposits.models import Deposit, DepositCommodity
from deposits.shares import ranked
from kernel.languages import localized_column
from kernel.links import url_parts
from kernel.parameters import AsOfField
from kernel.visibility import Caller


class AsOfForm(forms.Form):
    """The day a page's figures are as of (the deposit, mineral and region pages)."""

    as_of = AsOfField(label=gettext_lazy("Figures as of"), required=False)


def figures_date(request) -> tuple[AsOfForm, datetime.date | None, datetime.date]:
    """A page's `as_of` form, the day asked (None when none was, or it was refused: the
    form says why) and the day the page's figures are as of (the day asked, else today)."""
    form = AsOfForm(request.GET)
    asked = form.cleaned_data["as_of"] if form.is_valid() else None
    return form, asked, asked or timezone.localdate()


def as_of_note(report: dict) -> str:
    """The day a report's figures are as of, as a line of its spreadsheet."""
    return _("Figures as of %(day)s") % {"day": date_format(report["as_of"], "DATE_FORMAT")}


def filtered_deposits(request) -> DepositFilterSet:
    """The request's deposit filter, over the deposits the caller may see.

    The one `DepositFilterSet` the API uses, so a URL of the list page, its map and its
    exports all select the same deposits.
    """
    caller = Caller.of(request)
    filterset = DepositFilterSet(
        request.GET, queryset=Deposit.objects.visible_to(caller), request=request
    )
    if len(caller.levels) == 1:
        del filterset.form.fields["visibility"]  # one level visible: nothing to choose
    return filterset


def ordered(filterset: DepositFilterSet) -> QuerySet:
    """The filtered deposits in a total order, so pages never overlap."""
    qs = filterset.qs
    return qs.order_by(*(qs.query.order_by or Deposit._meta.ordering), "pk")


def largest_shares(
    caller: Caller, top: int, on: datetime.date | None = None, **commodities
) -> list[DepositCommodity]:
    """Per mineral, the `top` visible deposits with the largest shares of its national
    reserves (as of `on`), as DepositCommodity rows with their deposit, `share_pct` and
    `share_basis`, all minerals in one query. `commodities` narrows the rows (e.g.
    `mineral=silver`).

    A deposit holding no share of a mineral (none known, or none of its balance reserves)
    is left out of its ranking. It ranks after every deposit that holds one, so leaving
    it out after the ranking drops nobody else, and spares the database computing every
    share twice."""
    rows = DepositCommodity.objects.visible_to(caller).filter(**commodities)
    ranking = ranked(rows, per=["mineral_id"], top=top, caller=caller, on=on)
    ranking = ranking.select_related("deposit")
    return [row for row in ranking if row.share_pct]


def map_config(**data) -> dict:
    """Settings of a page's map, read by deposits/static/deposits/map.js from JSON.

    The borders and the regions' outlines come from the app's static files; an online
    tile layer is added only where PAGES_MAP_TILES configures one (ministry networks are
    often closed).
    """
    return {
        "outline": static(settings.PAGES_MAP_OUTLINE),
        "regions": static(settings.PAGES_MAP_REGIONS),
        "tiles": settings.PAGES_MAP_TILES,
        **data,
    }


def map_points(deposits: QuerySet, limit: int | None = None) -> dict:
    """The located deposits of `deposits`, in its order, as a page's map draws them: one
    compact document for the whole list (the browser clusters them), a deposit a row
    `[public_id, name, latitude, longitude]` and its page's URL `url[0] + public_id +
    url[1]`. Names are in the reader's language. At most `limit` rows; `truncated` says
    whether there were more. One query."""
    located = deposits.filter(latitude__isnull=False, longitude__isnull=False)
    rows = located.values_list(
        "public_id",
        localized_column("name"),
        # As floats from the database: making Decimals into floats here cost more than the
        # query (docs/performance.md, "The map").
        Cast("latitude", FloatField()),
        Cast("longitude", FloatField()),
    )
    if limit is not None:
        rows = rows[: limit + 1]
    rows = list(rows)
    return {
        "url": url_parts("deposit-detail"),
        "deposits": rows[:limit],
        "truncated": limit is not None and len(rows) > limit,
    }


def map_row(deposit) -> list:
    """A located deposit as a row of `map_points` (a deposit page's map)."""
    return [
        deposit.public_id,
        deposit.localized_name(),
        float(deposit.latitude),
        float(deposit.longitude),
    ]


def without_coordinates(deposits: QuerySet, total: int, region: bool = False) -> dict:
    """What a map's note says of the deposits it cannot draw: how many of `deposits` (of
    `total`) have no published coordinates, the first of them in the list's order
    (`PAGES_MAP_UNLOCATED_SHOWN`) and how many more. One query: the count rides on the
    rows as a window."""
    shown = settings.PAGES_MAP_UNLOCATED_SHOWN
    first = list(
        deposits.filter(Q(latitude__isnull=True) | Q(longitude__isnull=True))
        .only("public_id", "name", "name_ru", "name_tg")
        .annotate(unlocated_count=Window(Count("pk")))[:shown]
    )
    count = first[0].unlocated_count if first else 0
    return {
        "count": count,
        "total": total,
        "deposits": first,
        "more": count - len(first),
        "region": region,
    }


def with_bars(rows) -> list:
    """Attach `.bar` to rows counted by `deposit_count`: 0-100, the row's count over the
    largest, for the SVG bar charts."""
    rows = list(rows)
    maximum = max((r.deposit_count for r in rows), default=0)
    for row in rows:
        row.bar = round(row.deposit_count * 100 / maximum, 1) if maximum else 0
    return rows


def most_deposits_first(minerals) -> list:
    """Minerals counted by `deposit_count`, most deposits first, then by name in the
    page's language, with their bars."""
    return with_bars(sorted(minerals, key=lambda m: (-m.deposit_count, m.localized_name())))


def balance_label(balance: bool | None) -> str:
    """Balance or off-balance reserves, as the pages' tables write them."""
    if balance is None:
        return "—"
    return _("balance") if balance else _("off-balance")


def share_basis_label(row: DepositCommodity) -> str:
    """The basis of a ranked share as the mineral page writes it, with the bound a
    reported share's source gives ("reported (over)")."""
    if row.share_basis != "reported":
        return _("computed")
    if row.share_bound:
        return f"{_('reported')} ({DepositCommodity.Bound(row.share_bound).label})"
    return _("reported")
