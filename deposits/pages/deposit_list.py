"""The deposit list: the filter form, the table of a page, its map's points and its
exports, all selecting through `filtered_deposits`, so what an analyst sees is what the
map draws and the export holds."""

import datetime

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy

from deposits import exports
from deposits.filters import DepositFilterSet
from deposits.models import Deposit, MetallogenicBelt, Mineral, Region, deposit_type_label
from deposits.pages.common import filtered_deposits, map_config, ordered, point_feature
from deposits.querysets import visible_deposit_types
from deposits.shares import prefetch_commodities, recorded_on
from deposits.suggestions import did_you_mean
from kernel.links import url_maker
from kernel.visibility import Caller

# Filters that only serve machine clients; the page keeps them under "more filters".
ADVANCED_FILTERS = ("bbox", "updated_since")
SORTABLE_COLUMNS = ("name", "region", "updated_at")
# What the table shows of a deposit (its minerals come with `prefetch_commodities`).
LISTED_FIELDS = (
    "public_id", "name", "name_ru", "name_tg", "aliases", "visibility", "region", "status",
    "deposit_type", "updated_at",
)  # fmt: skip


def offer_choices(form, caller: Caller) -> None:
    """The choices the list page's form shows, as plain (value, label) pairs: names in the
    page's language, and for `deposit_type` only the types of visible deposits (the
    FilterSet lists every type). Validation still reads the FilterSet's querysets."""
    for name, model in (("mineral", Mineral), ("region", Region), ("belt", MetallogenicBelt)):
        form.fields[name].widget.choices = [
            (r.code, r.localized_name()) for r in model.objects.all()
        ]
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
            columns[key] = {"next": key, "aria": "none"}
    if not current and not by_match:
        columns["name"] = {"next": "-name", "aria": "ascending"}  # the default order
    return columns


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


def deposit_list(request):
    filterset = filtered_deposits(request)
    valid = filterset.is_valid()
    deposits = (
        ordered(filterset)
        .select_related("region")
        .only(*LISTED_FIELDS)
        .prefetch_related(prefetch_commodities(Caller.of(request), on=shares_on(filterset)))
        if valid
        else filterset.queryset.none()
    )
    page = Paginator(deposits, settings.PAGES_PAGE_SIZE).get_page(request.GET.get("page"))
    form = filterset.form
    offer_choices(form, Caller.of(request))
    ordering = request.GET.get("ordering", "") if valid else ""
    searching = valid and bool((filterset.form.cleaned_data.get("q") or "").strip())
    query = query_without(request, "page")
    return render(
        request,
        "deposits/deposit_list.html",
        {
            "filterset": filterset,
            "form": form,
            "basic_fields": [f for f in form if f.name not in (*ADVANCED_FILTERS, "ordering")],
            "advanced_fields": [f for f in form if f.name in ADVANCED_FILTERS],
            "advanced_open": any(request.GET.get(n) for n in ADVANCED_FILTERS)
            or any(form.errors.get(n) for n in ADVANCED_FILTERS),
            "valid": valid,
            "page": page,
            "ordering": ordering,
            "sort_columns": sort_columns(ordering, by_match=searching),
            "did_you_mean": near_misses(request, filterset)
            if searching and not page.paginator.count
            else [],
            "query": query,
            "map_config": map_config(pointsUrl=f"{reverse('deposit-map-data')}?{query}"),
        },
    )


def deposit_map_data(request):
    """GeoJSON points of the filtered deposits, for the list page's map."""
    filterset = filtered_deposits(request)
    if not filterset.is_valid():
        return JsonResponse({"errors": filterset.errors.get_json_data()}, status=400)
    located = ordered(filterset).filter(latitude__isnull=False, longitude__isnull=False)
    limit = settings.PAGES_MAP_MAX_POINTS
    rows = list(located.values_list("public_id", "name", "latitude", "longitude")[: limit + 1])
    deposit_url = url_maker("deposit-detail")
    features = [
        point_feature(public_id, name, deposit_url(public_id), lat, lon)
        for public_id, name, lat, lon in rows[:limit]
    ]
    return JsonResponse(
        {"type": "FeatureCollection", "features": features, "truncated": len(rows) > limit}
    )


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
    return response(ordered(filterset), Caller.of(request), shares_on(filterset))
