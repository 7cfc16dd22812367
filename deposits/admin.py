"""Admin for ministry staff: every deposit record, with history and revert."""

from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from deposits.models import (
    BalanceMovement,
    Deposit,
    DepositCommodity,
    District,
    MetallogenicBelt,
    Mineral,
    Region,
    ReserveEstimate,
)
from deposits.resources import (
    BalanceMovementResource,
    DepositResource,
    ReserveEstimateResource,
)
from kernel.admin import BoundedCountPaginator, RegistryAdmin
from kernel.spreadsheets import RegistryImportExportMixin


class DistrictInline(admin.TabularInline):
    model = District
    extra = 0
    fields = ["code", "name", "name_ru", "name_tg"]


@admin.register(Region)
class RegionAdmin(RegistryAdmin):
    list_display = ["code", "name", "name_ru", "name_tg"]
    search_fields = ["code", "name", "name_ru", "name_tg"]
    inlines = [DistrictInline]


@admin.register(District)
class DistrictAdmin(RegistryAdmin):
    list_display = ["code", "name", "name_ru", "region"]
    list_filter = ["region"]
    list_select_related = ["region"]
    search_fields = ["code", "name", "name_ru", "name_tg"]
    autocomplete_fields = ["region"]


@admin.register(Mineral)
class MineralAdmin(RegistryAdmin):
    list_display = ["code", "symbol", "name", "name_ru", "group", "is_critical", "unit"]
    list_filter = ["group", "is_critical"]
    search_fields = ["code", "symbol", "name", "name_ru", "name_tg"]


@admin.register(MetallogenicBelt)
class MetallogenicBeltAdmin(RegistryAdmin):
    list_display = ["name", "code"]
    search_fields = ["code", "name", "name_ru", "name_tg"]
    prepopulated_fields = {"code": ["name"]}


class DepositCommodityInline(admin.TabularInline):
    model = DepositCommodity
    extra = 0
    autocomplete_fields = ["mineral"]
    fields = [
        "mineral",
        "role",
        "reported_share_bound",
        "reported_share_pct",
        "reported_share_source",
    ]


class ReserveEstimateInline(admin.StackedInline):
    model = ReserveEstimate
    extra = 0
    autocomplete_fields = ["mineral"]
    fieldsets = [
        (None, {"fields": [("mineral", "category", "balance")]}),
        (
            _("Figures"),
            {"fields": [("quantity", "unit"), "ore_tonnage", ("grade", "grade_unit")]},
        ),
        (
            _("Approval and source"),
            {
                "fields": [
                    ("as_of", "as_of_precision"),
                    ("approved_by", "protocol"),
                    "source",
                    "note",
                ]
            },
        ),
    ]


class BalanceMovementInline(admin.TabularInline):
    """The deposit's yearly State Balance lines (their own screen lists them by mineral
    and year)."""

    model = BalanceMovement
    extra = 0
    autocomplete_fields = ["mineral"]
    fields = [
        "year",
        "mineral",
        "category",
        "balance",
        "unit",
        "opening",
        *BalanceMovement.MOVEMENTS,
        "closing",
        "protocol",
        "source",
    ]
    ordering = ["mineral__name", "category", "-balance", "year"]


class MineralListFilter(admin.SimpleListFilter):
    title = _("mineral")
    parameter_name = "mineral"

    def lookups(self, request, model_admin):
        return Mineral.objects.values_list("code", "name")

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                pk__in=DepositCommodity.objects.filter(mineral__code=self.value()).values(
                    "deposit_id"
                )
            )
        return queryset


class CriticalListFilter(admin.SimpleListFilter):
    title = _("critical mineral")
    parameter_name = "critical"

    def lookups(self, request, model_admin):
        return [("yes", _("Has a critical mineral")), ("no", _("No critical mineral"))]

    def queryset(self, request, queryset):
        critical = DepositCommodity.objects.filter(mineral__is_critical=True).values("deposit_id")
        if self.value() == "yes":
            return queryset.filter(pk__in=critical)
        if self.value() == "no":
            return queryset.exclude(pk__in=critical)
        return queryset


class MatchOrderedChangeList(ChangeList):
    """A search lists the best matches first (`match_score`), unless a column is sorted."""

    def get_ordering(self, request, queryset):
        ordering = super().get_ordering(request, queryset)
        if "match_score" in queryset.query.annotations and ORDER_VAR not in self.params:
            return ["-match_score", *ordering]
        return ordering


@admin.register(Deposit)
class DepositAdmin(RegistryImportExportMixin, RegistryAdmin):
    resource_classes = [DepositResource]
    list_display = [
        "name",
        "public_id",
        "region",
        "minerals_list",
        "status",
        "visibility",
        "updated_at",
    ]
    list_display_links = ["name", "public_id"]
    list_filter = [
        "region",
        MineralListFilter,
        "status",
        "belt",
        "visibility",
        CriticalListFilter,
    ]
    list_select_related = ["region", "district", "belt"]
    search_fields = ["name"]  # widened to aliases, Cyrillic included, in get_search_results
    search_help_text = _("Name or alias, Latin or Cyrillic, or the identifier (TJD-000001).")
    ordering = ["name"]
    sortable_by = ["name", "public_id", "region", "status", "visibility", "updated_at"]
    paginator = BoundedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    autocomplete_fields = ["region", "district", "belt"]
    readonly_fields = ["public_id", "created_at", "updated_at"]
    inlines = [DepositCommodityInline, ReserveEstimateInline, BalanceMovementInline]
    fieldsets = [
        (None, {"fields": ["public_id", "name", ("name_ru", "name_tg"), "aliases", "visibility"]}),
        (
            _("Location"),
            {"fields": [("region", "region_derived"), "district", ("latitude", "longitude")]},
        ),
        (
            _("Geology"),
            {"fields": ["status", "deposit_type", "belt", "exploration_level", "description"]},
        ),
        (_("Sources"), {"fields": ["sources", ("created_at", "updated_at")]}),
    ]

    def get_queryset(self, request):
        commodities = DepositCommodity.objects.select_related("mineral")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("commodities", queryset=commodities))
        )

    def get_search_results(self, request, queryset, search_term):
        # The name matcher, as the API and the pages search (kernel/names.py).
        if not search_term.strip():
            return queryset, False
        return queryset.search(search_term), False

    def get_changelist(self, request, **kwargs):
        return MatchOrderedChangeList

    @admin.display(description=_("minerals"))
    def minerals_list(self, deposit: Deposit) -> str:
        return ", ".join(
            c.mineral.symbol if c.role == DepositCommodity.Role.MAIN else f"({c.mineral.symbol})"
            for c in deposit.commodities.all()
        )


@admin.register(ReserveEstimate)
class ReserveEstimateAdmin(RegistryImportExportMixin, RegistryAdmin):
    resource_classes = [ReserveEstimateResource]
    list_display = [
        "deposit",
        "mineral",
        "category",
        "balance",
        "quantity",
        "unit",
        "as_of",
        "approved_by",
    ]
    list_filter = ["category", "balance", "mineral", "deposit__region"]
    list_select_related = ["deposit", "mineral"]
    search_fields = ["deposit__name", "deposit__public_id", "protocol", "source"]
    autocomplete_fields = ["deposit", "mineral"]


@admin.register(BalanceMovement)
class BalanceMovementAdmin(RegistryImportExportMixin, RegistryAdmin):
    """The yearly State Balance: filter by mineral and year to read one year's balance of
    a mineral, deposit by deposit; export it, or import a year's lines from a spreadsheet."""

    resource_classes = [BalanceMovementResource]
    list_display = [
        "deposit",
        "mineral",
        "category",
        "balance",
        "year",
        "opening",
        "exploration_gain",
        "extraction",
        "losses",
        "re_estimation",
        "write_off",
        "transfer",
        "closing",
        "unit",
    ]
    list_filter = ["mineral", "year", "category", "balance", "deposit__region"]
    list_select_related = ["deposit", "mineral"]
    search_fields = ["deposit__name", "deposit__public_id", "protocol", "source"]
    autocomplete_fields = ["deposit", "mineral"]
