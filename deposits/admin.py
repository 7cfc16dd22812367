"""Admin for ministry staff: every deposit record, with history and revert."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.db import transaction
from django.db.models import Prefetch, TextField
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deposits import entry
from deposits.admin_balance import state_balance_view
from deposits.admin_bulk_change import BulkChangeActions
from deposits.admin_reserve_history import reserve_history
from deposits.admin_share_moves import (
    ReserveEstimateAdminForm,
    ReserveEstimateFormSet,
    ShareMoveImportWarningMixin,
    ShareMoveWarningMixin,
)
from deposits.models import (
    BalanceClosure,
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
    list_display = ["code", "symbol", "name", "name_ru", "group", "critical_lists", "unit"]
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
    # A source is a sentence or two: a short box keeps the row within a 1280 px screen.
    formfield_overrides = {TextField: {"widget": forms.Textarea(attrs={"rows": 3})}}
    fields = [
        "mineral",
        "role",
        "reported_share_bound",
        "reported_share_pct",
        "reported_share_source",
    ]


class ReserveEstimateInline(admin.StackedInline):
    """The estimates in force, to edit; the template lists the deposit's reserve history
    (older and withdrawn estimates) under them, read-only (admin_reserve_history)."""

    model = ReserveEstimate
    formset = ReserveEstimateFormSet  # warns before a save moves other deposits' shares
    template = "admin/deposits/deposit/reserve_estimates.html"
    verbose_name = _("reserve estimate in force")
    verbose_name_plural = _("reserve estimates in force")
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
                    ("approved_by", "protocol", "protocol_date"),
                    "source",
                    "note",
                ]
            },
        ),
        (
            _("Withdrawal"),
            {"fields": [("withdrawal", "withdrawn_on"), "withdrawal_protocol"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).in_force()


class BalanceMovementInline(admin.StackedInline):
    """The deposit's yearly State Balance lines (their own screen lists them by mineral
    and year). Stacked, four figures to a row, and folded: fourteen columns side by side
    do not fit a 1280 px screen."""

    model = BalanceMovement
    extra = 0
    autocomplete_fields = ["mineral"]
    classes = ["collapse"]
    fieldsets = [
        (None, {"fields": [("year", "mineral", "category", "balance", "unit")]}),
        (None, {"fields": [("opening", *list(BalanceMovement.MOVEMENTS)[:3])]}),
        (None, {"fields": [(*list(BalanceMovement.MOVEMENTS)[3:], "closing")]}),
        (None, {"fields": [("protocol", "source")]}),
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


class DepositForm(forms.ModelForm):
    """The deposit with the clerk's reasons for entering what the entry checks refuse
    (deposits/entry.py); the model checks, and its history keeps the reason."""

    distinct_reason = forms.CharField(
        label=_("Reason it is a different deposit"),
        required=False,
        max_length=entry.REASON_MAX_LENGTH,
        help_text=_("Only when the registry takes this for a deposit already recorded."),
    )
    location_reason = forms.CharField(
        label=_("Reason the point is right"),
        required=False,
        max_length=entry.REASON_MAX_LENGTH,
        help_text=_("Only when the point lies outside the border or the region, and is right."),
    )

    def clean(self):
        cleaned = super().clean()
        self.instance.distinct_reason = cleaned.get("distinct_reason", "")
        self.instance.location_reason = cleaned.get("location_reason", "")
        return cleaned


@admin.register(Deposit)
class DepositAdmin(
    BulkChangeActions, ShareMoveWarningMixin, RegistryImportExportMixin, RegistryAdmin
):
    form = DepositForm
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
        "region_derived",
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
            {
                "fields": [
                    "status",
                    "deposit_type",
                    "belt",
                    "exploration_level",
                    "description",
                    ("description_ru", "description_tg"),
                ]
            },
        ),
        (_("Sources"), {"fields": ["sources", ("created_at", "updated_at")]}),
        (
            _("Entry checks"),
            {
                "fields": ["distinct_reason", "location_reason"],
                "description": _(
                    "The registry refuses a second record of a deposit already recorded "
                    "and a point outside Tajikistan's border or the region recorded. If "
                    "you have checked that the entry is right, say why; the reason is "
                    "kept in the history."
                ),
            },
        ),
    ]

    actions = ["confirm_derived_region", "change_status", "change_visibility"]

    def get_queryset(self, request):
        commodities = DepositCommodity.objects.select_related("mineral")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("commodities", queryset=commodities))
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context["reserve_history"] = reserve_history(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_search_results(self, request, queryset, search_term):
        # The name matcher, as the API and the pages search (kernel/names.py).
        if not search_term.strip():
            return queryset, False
        return queryset.search(search_term), False

    def get_changelist(self, request, **kwargs):
        return MatchOrderedChangeList

    @admin.action(description=_("Confirm the derived region"), permissions=["change"])
    def confirm_derived_region(self, request, queryset):
        """The data-quality report's "region derived from coordinates; confirm it", for a
        selection at once: each deposit saved as the form saves it, so its history
        records the change, with the reason."""
        selected = queryset.count()
        confirmed = 0
        with transaction.atomic():
            derived = Deposit.objects.filter(
                pk__in=queryset.values("pk"), region_derived=True, region__isnull=False
            )
            for deposit in derived.select_for_update():
                deposit.region_derived = False
                deposit._change_reason = gettext("Derived region confirmed")
                deposit.save()
                confirmed += 1
        self.message_user(
            request,
            _("Regions confirmed: %(confirmed)s. Left alone (no derived region): %(skipped)s.")
            % {"confirmed": confirmed, "skipped": selected - confirmed},
            messages.SUCCESS if confirmed else messages.WARNING,
        )

    @admin.display(description=_("minerals"))
    def minerals_list(self, deposit: Deposit) -> str:
        return ", ".join(
            c.mineral.symbol if c.role == DepositCommodity.Role.MAIN else f"({c.mineral.symbol})"
            for c in deposit.commodities.all()
        )


@admin.register(ReserveEstimate)
class ReserveEstimateAdmin(
    ShareMoveWarningMixin, ShareMoveImportWarningMixin, RegistryImportExportMixin, RegistryAdmin
):
    form = ReserveEstimateAdminForm  # warns before a save moves other deposits' shares
    # ... and so does the preview of a spreadsheet import of estimates.
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
        "withdrawal",
    ]
    list_filter = ["category", "balance", "withdrawal", "mineral", "deposit__region"]
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
    # Extended by import-export's template; links the State Balance screen.
    change_list_template = "admin/deposits/balancemovement/change_list.html"

    def get_urls(self):
        screen = self.admin_site.admin_view(lambda request: state_balance_view(self, request))
        return [
            path("state-balance/", screen, name="deposits_balancemovement_state_balance"),
            *super().get_urls(),
        ]


@admin.register(BalanceClosure)
class BalanceClosureAdmin(RegistryAdmin):
    """Staff mark a mineral's State Balance of a year closed; shares of the mineral then
    say the registry's balance is complete up to that year (deposits.balance)."""

    list_display = ["mineral", "year", "closed_on", "protocol"]
    list_filter = ["mineral", "year"]
    list_select_related = ["mineral"]
    search_fields = ["mineral__name", "mineral__code", "protocol", "source"]
    autocomplete_fields = ["mineral"]
