"""Server-rendered pages of the registry for analysts and the public.

Every page reads through `Caller.of(request)`, so staff logged in to the
admin see `partners` and `internal` records and anonymous visitors `public`
ones only; a hidden deposit answers 404. Lists are filtered by the one
`DepositFilterSet` the API uses, so a URL of the list page, its map and its
exports all select the same deposits.
"""

from dataclasses import dataclass
from decimal import Decimal
from functools import cache, partial

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, Sum
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.formats import date_format, get_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cooperation.services import cooperation_for_deposit, cooperation_for_mineral
from cooperation.views import prefetched
from deposits import exports
from deposits.api.exports import deposits_csv
from deposits.filters import DepositFilterSet
from deposits.models import (
    Deposit,
    DepositCommodity,
    MetallogenicBelt,
    Mineral,
    Region,
    ReserveEstimate,
)
from deposits.services import (
    COMPUTED,
    REPORTED,
    MineralShare,
    attach_reserve_shares,
    kilograms_expression,
    mineral_shares,
    national_totals,
    percent,
    share_estimates,
)
from deposits.templatetags import pages
from deposits.units import KILOGRAMS_PER_UNIT
from kernel.links import url_maker
from kernel.models import Visibility
from kernel.visibility import Caller, visible

# Filters that only serve machine clients; the page keeps them under "more filters".
ADVANCED_FILTERS = ("bbox", "updated_since")
CATEGORY_LABELS = dict(ReserveEstimate.Category.choices)
CATEGORY_ORDER = {value: index for index, value in enumerate(ReserveEstimate.Category.values)}


@dataclass(frozen=True)
class RankedShare:
    """One deposit's share of one mineral, for rankings and charts."""

    public_id: str
    name: str
    pct: Decimal
    basis: str

    @property
    def url(self) -> str:
        return reverse("deposit-detail", args=[self.public_id])

    @property
    def reported(self) -> bool:
        return self.basis == REPORTED


def ranked_shares(mineral: Mineral, caller, limit: int, total: Decimal | None) -> list[RankedShare]:
    """The visible deposits with the largest share of `mineral`, largest first.

    Same rule as `deposits.services.share_of`: computed from balance A+B+C1
    estimates where the mineral has any (`total` is its national total in kg),
    the reported share otherwise. Runs in SQL, so it stays one query per mineral
    whatever the size of the registry.
    """
    if total:
        rows = (
            share_estimates()
            .filter(mineral=mineral)
            .filter(visible(caller, "deposit__"))
            .values("deposit__public_id", "deposit__name")
            .annotate(kg=Sum(kilograms_expression()))
            .order_by("-kg", "deposit__public_id")[:limit]
        )
        return [
            RankedShare(
                r["deposit__public_id"], r["deposit__name"], percent(r["kg"], total), COMPUTED
            )
            for r in rows
        ]
    rows = (
        DepositCommodity.objects.filter(mineral=mineral, reported_share_pct__isnull=False)
        .visible_to(caller)
        .order_by("-reported_share_pct", "deposit__public_id")
        .values_list("deposit__public_id", "deposit__name", "reported_share_pct")[:limit]
    )
    return [RankedShare(public_id, name, pct, REPORTED) for public_id, name, pct in rows]


def map_config(**data) -> dict:
    """Settings of a page's map, read by deposits/static/deposits/map.js from JSON.

    The borders come from the app's static files; an online tile layer is added
    only where PAGES_MAP_TILES configures one (ministry networks are often closed).
    """
    outline = static(settings.PAGES_MAP_OUTLINE)
    return {"outline": outline, "tiles": settings.PAGES_MAP_TILES, **data}


def with_bars(rows, value):
    """Attach `.bar` (0-100, share of the largest value) for the SVG bar charts."""
    rows = list(rows)
    maximum = max((value(r) or 0 for r in rows), default=0)
    for row in rows:
        row.bar = round(float(value(row) or 0) * 100 / float(maximum), 1) if maximum else 0
    return rows


def deposit_counts_by_mineral(caller):
    minerals = Mineral.objects.annotate(
        deposit_count=Count(
            "commodities__deposit", filter=visible(caller, "commodities__deposit__"), distinct=True
        )
    )
    return [m for m in minerals if m.deposit_count]


def home(request):
    caller = Caller.of(request)
    minerals = deposit_counts_by_mineral(caller)
    regions = Region.objects.annotate(
        deposit_count=Count("deposits", filter=visible(caller, "deposits__"))
    )
    totals = national_totals()
    reported = set(
        DepositCommodity.objects.filter(reported_share_pct__isnull=False)
        .values_list("mineral_id", flat=True)
        .distinct()
    )
    share_charts = []
    for mineral in minerals:
        if mineral.pk in totals or mineral.pk in reported:
            ranking = ranked_shares(
                mineral, caller, settings.PAGES_HOME_TOP_DEPOSITS, totals.get(mineral.pk)
            )
            if ranking:
                share_charts.append((mineral, ranking))
    latest = (
        Deposit.objects.visible_to(caller)
        .select_related("region")
        .order_by("-updated_at", "-pk")[: settings.PAGES_HOME_LATEST]
    )
    return render(
        request,
        "deposits/home.html",
        {
            "minerals": with_bars(
                sorted(minerals, key=lambda m: (-m.deposit_count, m.localized_name())),
                lambda m: m.deposit_count,
            ),
            "critical_minerals": [m for m in minerals if m.is_critical],
            "regions": with_bars(regions, lambda r: r.deposit_count),
            "share_charts": share_charts,
            "latest": latest,
            "deposit_count": Deposit.objects.visible_to(caller).count(),
        },
    )


def filtered_deposits(request) -> DepositFilterSet:
    """The request's deposit filter, over the deposits the caller may see."""
    caller = Caller.of(request)
    filterset = DepositFilterSet(
        request.GET, queryset=Deposit.objects.visible_to(caller), request=request
    )
    if len(caller.levels) == 1:
        del filterset.form.fields["visibility"]  # one level visible: nothing to choose
    return filterset


def visible_deposit_types(caller) -> list[str]:
    """The deposit types of the deposits `caller` may see, in order, none empty."""
    deposits = Deposit.objects.visible_to(caller).exclude(deposit_type="")
    return list(deposits.order_by("deposit_type").values_list("deposit_type", flat=True).distinct())


def offer_choices(form, caller, minerals, regions) -> None:
    """The choices the list page's form shows, as plain (value, label) pairs: names in the
    page's language, and for `deposit_type` only the types of visible deposits (the
    FilterSet lists every type). Validation still reads the FilterSet's querysets."""
    belts = MetallogenicBelt.objects.all()
    for name, records in (("mineral", minerals), ("region", regions), ("belt", belts)):
        form.fields[name].widget.choices = [(r.code, r.localized_name()) for r in records]
    form.fields["deposit_type"].choices = [(t, t) for t in visible_deposit_types(caller)]
    form.fields["critical"].widget.choices = [
        ("unknown", gettext_lazy("Any")),
        ("true", gettext_lazy("Yes")),
        ("false", gettext_lazy("No")),
    ]
    for field in form.fields.values():
        if isinstance(field.widget, forms.Select):
            field.widget.template_name = "deposits/widgets/select.html"


def ordered(filterset: DepositFilterSet):
    """The filtered deposits in a total order, so pages never overlap."""
    qs = filterset.qs
    return qs.order_by(*(qs.query.order_by or Deposit._meta.ordering), "pk")


def query_without(request, *names) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


@dataclass(frozen=True)
class Link:
    url: str
    name: str  # in the page's language


@dataclass(frozen=True)
class ListedMineral:
    url: str
    name: str
    role_label: str  # of an associated mineral; "" for a main one
    share: str  # the percentage as the page's locale writes it; "" when none is known
    basis_label: str  # "computed" or "reported"


@dataclass(frozen=True)
class ListedDeposit:
    """A row of the deposit list, formatted once and ready to print (`{% deposit_row %}`).

    A page shows ~50 rows with ~150 minerals: model instances, formatting filters and
    template lookups per cell were most of the page's time."""

    url: str
    name: str
    aliases: list[str]
    visibility: str
    visibility_label: str
    region: Link | None
    minerals: list[ListedMineral]
    status_label: str
    deposit_type: str
    updated_iso: str  # in the page's time zone (`|date:"c"`)
    updated_date: str  # as the page's locale writes a short date


LISTED_FIELDS = (
    "pk", "public_id", "name", "aliases", "visibility", "region_id", "status", "deposit_type",
    "updated_at",
)  # fmt: skip


def labels(choices) -> dict[str, str]:
    """Labels of choices in the page's language, translated once for all rows."""
    return {value: str(label) for value, label in choices}


def listed_deposits(
    rows, shares: dict[int, list[MineralShare]], minerals, regions
) -> list[ListedDeposit]:
    """The table's rows from `values(*LISTED_FIELDS)` of a page and their `mineral_shares`;
    regions and minerals are named from the records the form's choices show."""
    region_url, mineral_url = url_maker("region-detail"), url_maker("mineral-detail")
    deposit_url = url_maker("deposit-detail")
    region_links = {r.pk: Link(url=region_url(r.code), name=r.localized_name()) for r in regions}
    mineral_links = {m.pk: Link(url=mineral_url(m.code), name=m.localized_name()) for m in minerals}
    status_labels = labels(Deposit.Status.choices)
    visibility_labels = labels(Visibility.choices)
    associated = str(DepositCommodity.Role.ASSOCIATED.label)
    basis_labels = {COMPUTED: _("computed"), REPORTED: _("reported"), None: ""}
    decimal_separator = get_format("DECIMAL_SEPARATOR")
    short_date = cache(partial(date_format, format="SHORT_DATE_FORMAT"))  # a day's text, once

    def listed_mineral(mineral: MineralShare) -> ListedMineral:
        link = mineral_links[mineral.mineral_id]
        pct = mineral.share.pct
        return ListedMineral(
            link.url,
            link.name,
            associated if mineral.role == DepositCommodity.Role.ASSOCIATED else "",
            "" if pct is None else pages.percent_text(pct, decimal_separator),
            basis_labels[mineral.share.basis],
        )

    def listed_deposit(row: dict) -> ListedDeposit:
        updated = localtime(row["updated_at"])
        return ListedDeposit(
            url=deposit_url(row["public_id"]),
            name=row["name"],
            aliases=row["aliases"],
            visibility=row["visibility"],
            visibility_label=visibility_labels.get(row["visibility"], row["visibility"]),
            region=region_links.get(row["region_id"]),
            # Minerals the form offers; one added since they were read shows next time.
            minerals=[
                listed_mineral(s) for s in shares[row["pk"]] if s.mineral_id in mineral_links
            ],
            status_label=status_labels.get(row["status"], row["status"]),
            deposit_type=row["deposit_type"],
            updated_iso=updated.isoformat(),
            updated_date=short_date(updated.date()),
        )

    return [listed_deposit(row) for row in rows]


def deposit_list(request):
    filterset = filtered_deposits(request)
    valid = filterset.is_valid()
    queryset = ordered(filterset) if valid else Deposit.objects.none()
    page = Paginator(queryset.values(*LISTED_FIELDS), settings.PAGES_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    shares = mineral_shares([row["pk"] for row in page.object_list])
    minerals, regions = list(Mineral.objects.all()), list(Region.objects.all())
    page.object_list = listed_deposits(page.object_list, shares, minerals, regions)
    form = filterset.form
    offer_choices(form, Caller.of(request), minerals, regions)
    ordering = request.GET.get("ordering", "") if valid else ""
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
            "sort_columns": sort_columns(ordering),
            "query": query,
            "map_config": map_config(pointsUrl=f"{reverse('deposit-map-data')}?{query}"),
        },
    )


SORTABLE = (("name", gettext_lazy("Name")), ("region", gettext_lazy("Region")))


def sort_columns(current: str) -> dict[str, dict]:
    """Per sortable column: the ordering its header link sets and its aria-sort state."""
    columns = {}
    for key in ("name", "region", "updated_at"):
        if current == key:
            columns[key] = {"next": f"-{key}", "aria": "ascending"}
        elif current == f"-{key}":
            columns[key] = {"next": key, "aria": "descending"}
        else:
            columns[key] = {"next": key, "aria": "none"}
    if not current:
        columns["name"]["aria"] = "ascending"  # the default order
        columns["name"]["next"] = "-name"
    return columns


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
        {
            "type": "Feature",
            "id": public_id,
            "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
            "properties": {"name": name, "url": deposit_url(public_id)},
        }
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
    queryset = ordered(filterset)
    if file_format == "xlsx":
        return exports.xlsx_response(queryset)
    return deposits_csv(queryset)


def sorted_reserves(reserves):
    """Reserves per mineral, each in the order A, B, C1, C2, P1-P3, then CRIRSCO."""
    by_mineral: dict[Mineral, list[ReserveEstimate]] = {}
    for estimate in reserves:
        by_mineral.setdefault(estimate.mineral, []).append(estimate)
    return [
        (mineral, sorted(rows, key=lambda e: (CATEGORY_ORDER.get(e.category, 99), e.as_of is None)))
        for mineral, rows in by_mineral.items()
    ]


def change_history(deposit, limit: int):
    """The latest changes of a deposit with the fields each one changed (no query per row)."""
    records = list(deposit.history.select_related("history_user")[: limit + 1])
    changes = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        if len(changes) == limit:
            break
        fields = []
        if older is not None and newer.history_type == "~":
            fields = [
                Deposit._meta.get_field(c.field).verbose_name
                for c in newer.diff_against(older).changes
            ]
        changes.append({"record": newer, "fields": fields})
    return changes


def deposit_detail(request, public_id: str):
    caller = Caller.of(request)
    deposit = get_object_or_404(
        Deposit.objects.visible_to(caller)
        .select_related("region", "district", "belt")
        .prefetch_related(
            Prefetch("commodities", queryset=DepositCommodity.objects.select_related("mineral")),
            Prefetch("reserves", queryset=ReserveEstimate.objects.select_related("mineral")),
        ),
        public_id=public_id,
    )
    attach_reserve_shares([deposit])
    point = None
    if deposit.latitude is not None and deposit.longitude is not None:
        point = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": deposit.public_id,
                    "geometry": {
                        "type": "Point",
                        "coordinates": [float(deposit.longitude), float(deposit.latitude)],
                    },
                    "properties": {"name": deposit.name, "url": deposit.get_absolute_url()},
                }
            ],
        }
    user = request.user
    context = {
        "deposit": deposit,
        "commodities": deposit.commodities.all(),
        "reserves": sorted_reserves(deposit.reserves.all()),
        "map_config": map_config(points=point),
        "cooperation": prefetched(cooperation_for_deposit(deposit).visible_to(caller)),
    }
    if user.is_staff:
        context["history"] = change_history(deposit, settings.PAGES_HISTORY_LENGTH)
        if user.has_perm("deposits.change_deposit"):
            context["admin_url"] = reverse("admin:deposits_deposit_change", args=[deposit.pk])
        elif user.has_perm("deposits.view_deposit"):
            context["admin_view_url"] = reverse("admin:deposits_deposit_change", args=[deposit.pk])
    return render(request, "deposits/deposit_detail.html", context)


def mineral_totals(mineral: Mineral, caller):
    """Contained quantities of a mineral per category and balance, in its unit, over the
    deposits the caller may see (like every statistic; only shares are national facts)."""
    rows = (
        ReserveEstimate.objects.visible_to(caller)
        .filter(mineral=mineral, quantity__isnull=False)
        .exclude(unit="")
        .values("category", "balance", "unit")
        .annotate(total=Sum("quantity"), deposits=Count("deposit", distinct=True))
        .order_by()
    )
    merged: dict[tuple, dict] = {}
    for row in rows:
        key = (row["category"], row["balance"])
        entry = merged.setdefault(
            key,
            {
                "category": row["category"],
                "category_label": CATEGORY_LABELS.get(row["category"], row["category"]),
                "crirsco": ReserveEstimate(category=row["category"]).crirsco_guidance,
                "balance": row["balance"],
                "kg": Decimal(0),
                "deposits": 0,
            },
        )
        entry["kg"] += row["total"] * KILOGRAMS_PER_UNIT[row["unit"]]
        entry["deposits"] += row["deposits"]
    factor = KILOGRAMS_PER_UNIT[mineral.unit]
    for entry in merged.values():
        entry["quantity"] = entry["kg"] / factor
    return sorted(
        merged.values(),
        key=lambda e: (CATEGORY_ORDER.get(e["category"], 99), e["balance"] is not True),
    )


def mineral_detail(request, code: str):
    caller = Caller.of(request)
    mineral = get_object_or_404(Mineral, code=code)
    total = national_totals([mineral.pk]).get(mineral.pk)
    ranking = ranked_shares(mineral, caller, settings.PAGES_MINERAL_TOP_DEPOSITS, total)
    in_region = visible(caller, "deposits__") & Q(deposits__commodities__mineral=mineral)
    regions = [
        r
        for r in Region.objects.annotate(
            deposit_count=Count("deposits", filter=in_region, distinct=True)
        )
        if r.deposit_count
    ]
    deposit_count = Deposit.objects.visible_to(caller).filter(commodities__mineral=mineral).count()
    return render(
        request,
        "deposits/mineral_detail.html",
        {
            "mineral": mineral,
            "totals": mineral_totals(mineral, caller),
            "ranking": ranking,
            "regions": with_bars(regions, lambda r: r.deposit_count),
            "deposit_count": deposit_count,
            "cooperation": prefetched(cooperation_for_mineral(mineral).visible_to(caller)),
        },
    )


def region_detail(request, code: str):
    caller = Caller.of(request)
    region = get_object_or_404(Region.objects.prefetch_related("districts"), code=code)
    of_region = visible(caller, "commodities__deposit__") & Q(commodities__deposit__region=region)
    minerals = [
        m
        for m in Mineral.objects.annotate(
            deposit_count=Count("commodities__deposit", filter=of_region, distinct=True)
        )
        if m.deposit_count
    ]
    deposits = Deposit.objects.visible_to(caller).filter(region=region)
    statuses = deposits.values("status").annotate(n=Count("pk")).order_by("-n", "status")
    status_labels = dict(Deposit.Status.choices)
    query = f"region={region.code}"
    return render(
        request,
        "deposits/region_detail.html",
        {
            "region": region,
            "deposit_count": deposits.count(),
            "minerals": with_bars(
                sorted(minerals, key=lambda m: (-m.deposit_count, m.localized_name())),
                lambda m: m.deposit_count,
            ),
            "statuses": [
                {
                    "status": s["status"],
                    "label": status_labels.get(s["status"], _("not stated")),
                    "n": s["n"],
                }
                for s in statuses
            ],
            "query": query,
            "map_config": map_config(pointsUrl=f"{reverse('deposit-map-data')}?{query}"),
        },
    )
