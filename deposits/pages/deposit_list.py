"""The deposit list: the filter form, the table of a page, its map's points and its
exports, all selecting through `filtered_deposits`, so what an analyst sees is what the
map draws and the export holds."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponseBadRequest, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy, pgettext
from django.views.decorators.gzip import gzip_page

from deposits import exports
from deposits.filters import QUANTITY, RESERVES, SHARE, DepositFilterSet
from deposits.models import Deposit, MetallogenicBelt, Mineral, Region, deposit_type_label
from deposits.pages.common import (
    filtered_deposits,
    map_config,
    map_points,
    ordered,
    without_coordinates,
)
from deposits.querysets import deposits_per_mineral, deposits_per_region, visible_deposit_types
from deposits.shares import commodities_with_shares, held_kilograms, recorded_on
from deposits.suggestions import did_you_mean
from deposits.units import convert
from kernel.visibility import Caller

# Filters that only serve machine clients; the page keeps them under "more filters".
ADVANCED_FILTERS = ("bbox", "updated_since")
# Parameters of the FilterSet that are no filter of the form: the order (the column
# headers set it) and what an export adds (its links set it).
NOT_IN_FORM = ("ordering", "include")
SORTABLE_COLUMNS = ("name", "region", SHARE, QUANTITY, "updated_at")
# Columns whose first sort is descending: an analyst asks for the largest figures first.
LARGEST_FIRST = (SHARE, QUANTITY)
# What the table shows of a deposit (its minerals come with their shares, prefetched).
LISTED_FIELDS = (
    "public_id", "name", "name_ru", "name_tg", "aliases", "visibility", "region", "status",
    "deposit_type", "updated_at",
)  # fmt: skip


@dataclass(frozen=True)
class Choice:
    """A choice of a filter select as its option says it: the name in the page's
    language and, where counted, how many deposits choosing it would list. The searchable
    selects (deposits/static/deposits/filters.js) read the parts from the option's data
    attributes; `words` (the names in the other languages, the code, the symbol) let
    "Ag" or "серебро" find silver on a page in any language."""

    name: str
    words: str = ""
    count: int | None = None

    @property
    def count_text(self) -> str:
        return "" if self.count is None else number_format(self.count, force_grouping=True)

    def __str__(self) -> str:
        return self.name if self.count is None else f"{self.name} ({self.count_text})"


def named_choices(records, counts: dict[int, int] | None = None) -> list[tuple[str, Choice]]:
    """Records with a code and names as choices, in the alphabetical order of the page's
    language, with their number of deposits from `counts` (by primary key) when given."""
    choices = []
    for record in records:
        name = record.localized_name()
        words = {record.name, record.name_ru, record.name_tg, record.code}
        words.add(getattr(record, "symbol", ""))
        words -= {"", name}
        count = None if counts is None else counts.get(record.pk, 0)
        choices.append((record.code, Choice(name, " ".join(sorted(words)), count)))
    return sorted(choices, key=lambda choice: choice[1].name.casefold())


def choice_counts(filterset) -> dict[str, dict[int, int]]:
    """Per mineral and per region (by primary key), how many deposits choosing it would
    list given the other filters: OR within a parameter, so a choice's count does not
    depend on the values chosen beside it. One grouped query each (under a name search,
    each runs the search's match query once more).

    Counted only where it is cheap: while the reader may see at most
    PAGES_FILTER_COUNTS_MAX_DEPOSITS deposits (one bounded query finds out). Each count
    reads every deposit the other filters leave, the whole registry for the minerals when
    only minerals are chosen, which at 10,000 deposits and more costs more than the page
    (docs/performance.md). Not counted either: anything under an invalid filter (nothing
    is listed); minerals under a `min_share`, which narrows each mineral's deposits by
    their share of it, a count per mineral."""
    limit = settings.PAGES_FILTER_COUNTS_MAX_DEPOSITS
    if not filterset.is_valid() or filterset.queryset.order_by()[: limit + 1].count() > limit:
        return {}
    counts = {"region": deposits_per_region(filterset.qs_without("region"))}
    if filterset.form.cleaned_data.get("min_share") is None:
        counts["mineral"] = deposits_per_mineral(filterset.qs_without("mineral"))
    return counts


def offer_choices(form, caller: Caller, counts: dict[str, dict[int, int]] | None = None) -> None:
    """The choices the list page's form shows, as (value, label) pairs: names in the
    page's language, numbers of deposits where `counts` has them (`choice_counts`), and
    for `deposit_type` only the types of visible deposits (the FilterSet lists every
    type). Validation still reads the FilterSet's querysets."""
    counts = counts or {}
    for name, model in (("mineral", Mineral), ("region", Region), ("belt", MetallogenicBelt)):
        form.fields[name].widget.choices = named_choices(model.objects.all(), counts.get(name))
    form.fields["deposit_type"].choices = [
        (t, deposit_type_label(t)) for t in visible_deposit_types(caller)
    ]
    form.fields["critical"].widget.choices = [
        ("unknown", gettext_lazy("Any")),
        ("true", gettext_lazy("Yes")),
        ("false", gettext_lazy("No")),
    ]
    for field in form.fields.values():
        if isinstance(field.widget, forms.Select):
            field.widget.template_name = "deposits/widgets/select.html"


def shares_on(filterset) -> datetime.date | None:
    """The day the list's shares are read as of (the form's `as_of`; as recorded now
    without one): the FilterSet's own day, which `min_share` reads too."""
    return recorded_on(filterset.form.cleaned_data.get("as_of"))


def sort_columns(current: str, by_match: bool = False) -> dict[str, dict]:
    """Per sortable column: the ordering its header link sets and its aria-sort state
    (none sorted when a search orders the list by match quality)."""
    columns = {}
    for key in SORTABLE_COLUMNS:
        if current == key:
            columns[key] = {"next": f"-{key}", "aria": "ascending"}
        elif current == f"-{key}":
            columns[key] = {"next": key, "aria": "descending"}
        else:
            first = f"-{key}" if key in LARGEST_FIRST else key
            columns[key] = {"next": first, "aria": "none"}
    if not current and not by_match:
        columns["name"] = {"next": "-name", "aria": "ascending"}  # the default order
    return columns


def active_filters(request, form) -> list[dict]:
    """The filters the request applies, one chip per value, in the form's order, named
    in the page's language (a value the filter refused is shown as written, so it can be
    removed too), each with the link to the list without it: the same query less that
    value and the page number. Removing the last mineral removes `min_share` with it,
    which measures a share of the minerals chosen. A box the filter read is said in words
    ("Area: 68–70° E, 38–39.5° N"), the one place the page says it (the map draws it)."""
    chips = []
    for field in form:
        if field.name == "ordering":
            continue
        widget = field.field.widget
        choices = widget.choices if isinstance(widget, forms.Select) else ()
        labels = {str(value): getattr(label, "name", label) for value, label in choices}
        for value in dict.fromkeys(request.GET.getlist(field.name)):
            if not value.strip():
                continue
            label = field.label
            if isinstance(widget, forms.NullBooleanSelect):
                chosen = widget.value_from_datadict({field.name: value}, {}, field.name)
                if chosen is None:  # "Any"
                    continue
                value_label = labels["true" if chosen else "false"]
            elif field.name == "bbox" and box_read(form):
                label, value_label = gettext("Area"), area(form.cleaned_data["bbox"])
            else:
                value_label = labels.get(value, value)
            params = request.GET.copy()
            params.pop("page", None)
            kept = [v for v in params.getlist(field.name) if v != value]
            params.setlist(field.name, kept)
            if field.name == "mineral" and not kept:
                params.pop("min_share", None)
            chips.append(
                {
                    "label": label,
                    "value": value_label,
                    "url": list_url(request, params),
                }
            )
    return chips


def box_read(form) -> bool:
    return "bbox" not in form.errors and bool(getattr(form, "cleaned_data", {}).get("bbox"))


def area(box) -> str:
    """The list's `bbox` as its chip says it, in the reader's language and number format:
    "68–70° E, 38–39.5° N" ("68–70° в. д., 38–39,5° с. ш." in Russian)."""
    west, south, east, north = box
    return ", ".join(
        (
            span(west, east, pgettext("longitude", "E"), pgettext("longitude", "W")),
            span(south, north, pgettext("latitude", "N"), pgettext("latitude", "S")),
        )
    )


def span(low: Decimal, high: Decimal, positive: str, negative: str) -> str:
    """From `low` to `high` degrees, each side of the equator or meridian named once."""
    if low >= 0:
        return f"{degrees(low)}–{degrees(high)}° {positive}"
    if high <= 0:
        return f"{degrees(-low)}–{degrees(-high)}° {negative}"
    return f"{degrees(-low)}° {negative} – {degrees(high)}° {positive}"


def list_url(request, params) -> str:
    """The list page with `params` (a QueryDict; a name with no value left is dropped)."""
    query = params.urlencode()
    return f"{request.path}?{query}" if query else request.path


def query_without(request, *names) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


def near_misses(request, filterset) -> list[dict]:
    """When a search finds nothing: the visible deposits, under the other filters, whose
    names come near it, each with the list's query searching for it instead."""
    text = (filterset.form.cleaned_data.get("q") or "").strip()
    if not text:
        return []
    params = request.GET.copy()
    for name in ("q", "page"):
        params.pop(name, None)
    caller = Caller.of(request)
    others = DepositFilterSet(params, queryset=Deposit.objects.visible_to(caller), request=request)
    if not others.is_valid():
        return []
    found = []
    for suggestion in did_you_mean(others.qs, text):
        query = params.copy()
        query["q"] = suggestion.label
        found.append({"label": suggestion.label, "query": query.urlencode()})
    return found


def quantity_mineral(filterset) -> Mineral | None:
    """The mineral whose reserves in force the list shows and sorts by: the one mineral
    filtered by (quantities of different minerals are not compared), else None."""
    minerals = list(filterset.form.cleaned_data.get("mineral") or [])
    return minerals[0] if len(minerals) == 1 else None


def with_reserves(deposits: list[Deposit], mineral: Mineral) -> list[Deposit]:
    """Each deposit of a page with `reserve_quantity`: its balance A+B+C1 reserves in force
    of `mineral`, in the mineral's unit (None without them), from the minerals read with
    the page (`reserve_kilograms`, the share rule's own figure)."""
    for deposit in deposits:
        deposit.reserve_quantity = next(
            (
                convert(c.reserve_kilograms, "kg", mineral.unit)
                for c in deposit.commodities.all()
                if c.mineral_id == mineral.pk and c.reserve_kilograms is not None
            ),
            None,
        )
    return deposits


def sort_note(ordering: str, filterset) -> str:
    """What a sort by a figure orders by, in words, for the line above the table."""
    key = ordering.lstrip("-")
    if key not in LARGEST_FIRST:
        return ""
    minerals = list(filterset.form.cleaned_data.get("mineral") or [])
    named = {"mineral": minerals[0].localized_name()} if minerals else {}
    if key == QUANTITY:  # the form takes it with one mineral only
        what = gettext("Sorted by the balance reserves (A+B+C1) of %(mineral)s in force.") % named
    elif len(minerals) == 1:
        what = gettext("Sorted by the share of %(mineral)s in the national reserves.") % named
    elif minerals:
        what = gettext("Sorted by each deposit's largest share of the chosen minerals.")
    else:
        what = gettext(
            "Sorted by each deposit's largest share of any of its minerals; choose a "
            "mineral to sort by its share."
        )
    direction = (
        gettext("Largest first.") if ordering.startswith("-") else gettext("Smallest first.")
    )
    unknown = gettext("Deposits without a known figure come last.")
    return f"{what} {direction} {unknown}"


def deposit_list(request):
    filterset = filtered_deposits(request)
    valid = filterset.is_valid()
    caller = Caller.of(request)
    mineral = quantity_mineral(filterset) if valid else None
    if valid:
        on = shares_on(filterset)
        commodities = commodities_with_shares(caller, on)
        if mineral is not None:
            commodities = commodities.annotate(reserve_kilograms=held_kilograms(on))
        deposits = (
            ordered(filterset)
            .select_related("region")
            .only(*LISTED_FIELDS)
            .prefetch_related(Prefetch("commodities", queryset=commodities))
        )
    else:
        deposits = filterset.queryset.none()
    page = Paginator(deposits, settings.PAGES_PAGE_SIZE).get_page(request.GET.get("page"))
    if mineral is not None:
        page.object_list = with_reserves(list(page.object_list), mineral)
    form = filterset.form
    offer_choices(form, caller, choice_counts(filterset))
    ordering = request.GET.get("ordering", "") if valid else ""
    box = filterset.form.cleaned_data.get("bbox") if valid else None
    searching = valid and bool((filterset.form.cleaned_data.get("q") or "").strip())
    query = query_without(request, "page", "include")
    # The map's points in name order: a sort by a figure would cost the whole list.
    map_query = query_without(request, "page", "include", "ordering")
    chips = active_filters(request, form)
    sorted_only = QueryDict(mutable=True)  # "clear all" keeps the order, not a filter
    if "ordering" not in form.errors:
        sorted_only.setlist("ordering", request.GET.getlist("ordering"))
    return render(
        request,
        "deposits/deposit_list.html",
        {
            "filterset": filterset,
            "form": form,
            "basic_fields": [f for f in form if f.name not in (*ADVANCED_FILTERS, *NOT_IN_FORM)],
            "advanced_fields": [f for f in form if f.name in ADVANCED_FILTERS],
            "advanced_open": any(request.GET.get(n) for n in ADVANCED_FILTERS)
            or any(form.errors.get(n) for n in ADVANCED_FILTERS),
            "chips": chips,
            "clear_all_url": list_url(request, sorted_only),
            "valid": valid,
            "page": page,
            "ordering": ordering,
            "sort_columns": sort_columns(ordering, by_match=searching),
            "did_you_mean": near_misses(request, filterset)
            if searching and not page.paginator.count
            else [],
            "query": query,
            "reserves_query": f"{query}&include={RESERVES}" if query else f"include={RESERVES}",
            "quantity_mineral": mineral,
            "sort_note": sort_note(ordering, filterset) if valid else "",
            "map_config": map_config(
                pointsUrl=f"{reverse('deposit-map-data')}?{map_query}",
                filterUrl=f"{reverse('deposit-list')}?{query_without(request, 'page', 'bbox')}",
                box=[float(v) for v in box] if box else None,
                highlight=[r.code for r in filterset.form.cleaned_data.get("region") or []]
                if valid
                else [],
            ),
            "unlocated": without_coordinates(ordered(filterset), page.paginator.count)
            if valid
            else None,
        },
    )


def degrees(value: Decimal) -> str:
    """Degrees to a hundredth (about a kilometre; a box drawn on the map has four places),
    without trailing zeros, in the reader's number format (69.5, not 69.500000; 69,5 in
    Russian)."""
    text = format(value.quantize(Decimal("0.01")), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return number_format(Decimal(text))


@gzip_page
def deposit_map_data(request):
    """The filtered deposits' points for the list page's and a region page's map: the
    whole list in one compact answer (`map_points`), which the browser clusters, at
    most `PAGES_MAP_MAX_POINTS`. Compressed, as a whole registry's points are megabytes
    of JSON (docs/performance.md, "The map")."""
    filterset = filtered_deposits(request)
    if not filterset.is_valid():
        return JsonResponse({"errors": filterset.errors.get_json_data()}, status=400)
    points = map_points(ordered(filterset), settings.PAGES_MAP_MAX_POINTS)
    return JsonResponse(points, json_dumps_params={"separators": (",", ":"), "ensure_ascii": False})


def deposit_export(request, file_format: str):
    """The filtered list, exactly as the page selects and orders it, as CSV or XLSX."""
    filterset = filtered_deposits(request)
    if not filterset.is_valid():
        messages = [
            f"{field}: {error['message']}"
            for field, errors in filterset.errors.get_json_data().items()
            for error in errors
        ]
        return HttpResponseBadRequest("\n".join(messages), content_type="text/plain; charset=utf-8")
    response = exports.xlsx_response if file_format == "xlsx" else exports.csv_response
    extras = exports.Extras.of(request.GET)
    return response(ordered(filterset), Caller.of(request), shares_on(filterset), extras)
