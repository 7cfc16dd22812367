"""The one FilterSet of deposits, used by the API, the list pages and the exports.

Repeating a parameter means OR (`mineral=silver&mineral=gold`); different
parameters combine with AND.
"""

from decimal import Decimal

import django_filters as filters
from django import forms
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES
from drf_spectacular.utils import extend_schema_field

from deposits.models import (
    BALANCE_CATEGORY_CHOICES,
    BalanceClosure,
    BalanceMovement,
    Deposit,
    DepositCommodity,
    MetallogenicBelt,
    Mineral,
    Region,
    ReserveEstimate,
)
from deposits.shares import (
    CodePointOrder,
    deposit_kilograms,
    deposits_with_min_share,
    largest_share,
    recorded_on,
)
from kernel.models import Visibility
from kernel.parameters import (
    AsOfFilter,
    BBoxFilter,
    InstantFilter,
    NumberFilter,
    WholeNumberFilter,
)
from kernel.visibility import Caller


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class CodeFilter(filters.ModelMultipleChoiceFilter):
    """Records named by their stable code (`mineral=silver`); repeat the parameter for OR."""


class AnyValueMultipleChoiceField(forms.MultipleChoiceField):
    """Several values of free text: there is no fixed list to check them against."""

    def valid_value(self, value):
        return True


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class FreeTextMultipleFilter(filters.MultipleChoiceFilter):
    """Exact matches of a free-text field, OR over repeats; builds no list of all values
    (AllValuesMultipleFilter would scan the whole table on every request)."""

    field_class = AnyValueMultipleChoiceField


# What an export may add to each deposit (`include=reserves`): the reserves in force
# per mineral, with their share (deposits.exports).
RESERVES = "reserves"
EXPORT_OPTIONS = [(RESERVES, _("Reserves in force per mineral"))]

# Orderings by a figure of the share rule (`DepositOrderingFilter`).
SHARE, QUANTITY = "share", "quantity"


class DepositFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        if data.get("min_share") is not None and not data.get("mineral"):
            self.add_error("min_share", _("min_share needs a mineral to measure the share of."))
        ordering = [param.lstrip("-") for param in data.get("ordering") or []]
        mineral_given = "mineral" not in self.errors
        if QUANTITY in ordering and mineral_given and len(data.get("mineral") or []) != 1:
            self.add_error(
                "ordering",
                _(
                    "Sorting by quantity needs exactly one mineral: quantities of different "
                    "minerals cannot be compared."
                ),
            )
        return data


class DepositOrderingFilter(filters.OrderingFilter):
    """The list's order: by a field, or by a figure of the share rule as the caller reads
    it (as of the FilterSet's `as_of`).

    `share`: the deposit's share of the filtered mineral (the largest of the filtered
    minerals; of all its minerals without a mineral filter). `quantity`: its balance
    A+B+C1 reserves in force of the one filtered mineral, in kilograms (the numerator of
    a computed share). Both come from `deposits.shares`, computed for the caller: a
    figure the caller may not see is no figure here, so the order it reads gives nothing
    hidden away. A deposit without the figure comes last in either direction, and equal
    figures are ordered by name, then identifier, as the rankings order them."""

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        ordering, by_figure = [], False
        for param in value:
            if param in EMPTY_VALUES:
                continue
            name = param.lstrip("-")
            if name not in (SHARE, QUANTITY):
                ordering.append(self.get_ordering_value(param))
                continue
            alias = f"ordering_{name}"
            qs = qs.alias(**{alias: self.figure(name)})
            figure = F(alias)
            descending = param.startswith("-")
            ordering.append(
                figure.desc(nulls_last=True) if descending else figure.asc(nulls_last=True)
            )
            by_figure = True
        if by_figure:
            ordering += [CodePointOrder(F("name")), CodePointOrder(F("public_id"))]
        return qs.order_by(*ordering)

    def figure(self, name: str):
        data = self.parent.form.cleaned_data
        on = recorded_on(data.get("as_of"))
        minerals = list(data["mineral"]) if data.get("mineral") else None
        if name == QUANTITY:
            # One mineral: the form refuses anything else.
            return deposit_kilograms(minerals[0], on, Caller.of(self.parent.request))
        return largest_share(Caller.of(self.parent.request), on, minerals)


class DepositFilterSet(filters.FilterSet):
    mineral = CodeFilter(
        label=_("Mineral"),
        queryset=Mineral.objects.all(),
        to_field_name="code",
        method="filter_mineral",
    )
    region = CodeFilter(
        label=_("Region"),
        queryset=Region.objects.all(),
        to_field_name="code",
        # Filter on the code itself: django-filter puts the to_field value in the lookup.
        field_name="region__code",
    )
    status = filters.MultipleChoiceFilter(label=_("Status"), choices=Deposit.Status.choices)
    deposit_type = FreeTextMultipleFilter(label=_("Deposit type"))
    belt = CodeFilter(
        label=_("Belt"),
        queryset=MetallogenicBelt.objects.all(),
        to_field_name="code",
        field_name="belt__code",
    )
    critical = filters.BooleanFilter(
        label=_("Critical mineral"),
        method="filter_critical",
        widget=forms.NullBooleanSelect,
    )
    min_share = NumberFilter(
        label=_("Minimum reserve share (%)"),
        method="filter_min_share",
        min_value=0,
        max_value=100,
    )
    # Selects nothing itself: the day the shares (and `min_share`) are read as of.
    as_of = AsOfFilter(label=_("Figures as of"), method="filter_as_of")
    q = filters.CharFilter(label=_("Name or alias"), method="filter_search", max_length=200)
    bbox = BBoxFilter(label=_("Bounding box (minLon,minLat,maxLon,maxLat)"))
    updated_since = InstantFilter(
        label=_("Updated since"), field_name="updated_at", lookup_expr="gte"
    )
    visibility = filters.MultipleChoiceFilter(label=_("Visibility"), choices=Visibility.choices)
    ordering = DepositOrderingFilter(
        label=_("Order by"),
        fields=(
            ("name", "name"),
            ("updated_at", "updated_at"),
            ("region__code", "region"),
            (SHARE, SHARE),
            (QUANTITY, QUANTITY),
        ),
        field_labels={SHARE: _("Reserve share"), QUANTITY: _("Reserves in force")},
    )
    # Selects nothing: what the CSV, XLSX and GeoJSON exports add to each deposit.
    include = filters.MultipleChoiceFilter(
        label=_("Add to the export"),
        choices=EXPORT_OPTIONS,
        method="filter_include",
        error_messages={
            "invalid_choice": _('Unknown option "%(value)s"; an export can include: reserves.')
        },
    )

    class Meta:
        model = Deposit
        form = DepositFilterForm
        fields = [
            "mineral",
            "region",
            "status",
            "deposit_type",
            "belt",
            "critical",
            "min_share",
            "as_of",
            "q",
            "bbox",
            "updated_since",
            "visibility",
            "include",
        ]

    def qs_without(self, name: str):
        """The deposits all filters but `name` select, unordered: what choosing values of
        `name` narrows down (the list page counts its choices in it). Needs a valid form."""
        queryset = self.queryset.all()
        for field, value in self.form.cleaned_data.items():
            if field not in (name, "ordering"):
                queryset = self.filters[field].filter(queryset, value)
        return queryset.order_by()

    def filter_mineral(self, queryset, name, minerals):
        if not minerals:
            return queryset
        # min_share narrows the same minerals, so it runs from here.
        min_share = self.form.cleaned_data.get("min_share")
        if min_share is not None:
            caller = Caller.of(self.request)
            on = recorded_on(self.form.cleaned_data.get("as_of"))
            return deposits_with_min_share(queryset, list(minerals), Decimal(min_share), caller, on)
        return queryset.filter(
            pk__in=DepositCommodity.objects.filter(mineral__in=minerals).values("deposit_id")
        )

    def filter_min_share(self, queryset, name, value):
        # Applied together with `mineral` (see filter_mineral); alone it needs a mineral.
        return queryset

    def filter_as_of(self, queryset, name, value):
        # The surfaces read the day for their shares (see filter_mineral for min_share).
        return queryset

    def filter_include(self, queryset, name, value):
        # The exports read it (deposits.exports.wants_reserves); it selects nothing.
        return queryset

    def filter_critical(self, queryset, name, value):
        if value is None:
            return queryset
        critical_ids = DepositCommodity.objects.filter(mineral__is_critical=True).values(
            "deposit_id"
        )
        if value:
            return queryset.filter(pk__in=critical_ids)
        return queryset.exclude(pk__in=critical_ids)

    def filter_search(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.search(value)


def _visible_deposits(request):
    """Deposits the caller may name in a filter: a hidden one is as unknown as a typo."""
    if request is None:
        return Deposit.objects.none()
    return Deposit.objects.visible_to(Caller.of(request))


class ReserveEstimateFilterSet(filters.FilterSet):
    """Reserve estimates: by mineral, GKZ/CRIRSCO category, region and deposit."""

    mineral = CodeFilter(
        label=_("Mineral"),
        queryset=Mineral.objects.all(),
        to_field_name="code",
        field_name="mineral__code",
    )
    category = filters.MultipleChoiceFilter(
        label=_("Category"), choices=ReserveEstimate.Category.choices
    )
    region = CodeFilter(
        label=_("Region"),
        queryset=Region.objects.all(),
        to_field_name="code",
        field_name="deposit__region__code",
    )
    deposit = CodeFilter(
        label=_("Deposit"),
        queryset=_visible_deposits,
        to_field_name="public_id",
        field_name="deposit__public_id",
    )
    balance = filters.BooleanFilter(label=_("Balance reserves"), widget=forms.NullBooleanSelect)
    as_of = AsOfFilter(label=_("In force on"), method="filter_in_force")

    class Meta:
        model = ReserveEstimate
        fields = ["mineral", "category", "region", "deposit", "balance", "as_of"]

    def filter_in_force(self, queryset, name, value):
        """The estimates in force on the day (as recorded now for today)."""
        if value is None:
            return queryset
        return queryset.in_force(recorded_on(value))


class MineralFilterSet(filters.FilterSet):
    group = filters.MultipleChoiceFilter(label=_("Group"), choices=Mineral.Group.choices)
    critical = filters.BooleanFilter(
        label=_("Critical"), field_name="is_critical", widget=forms.NullBooleanSelect
    )

    class Meta:
        model = Mineral
        fields = ["group", "critical"]


class BalanceMovementFilterSet(filters.FilterSet):
    """Lines of the yearly State Balance: by deposit, mineral, category, balance and year."""

    deposit = CodeFilter(
        label=_("Deposit"),
        queryset=_visible_deposits,
        to_field_name="public_id",
        field_name="deposit__public_id",
    )
    mineral = CodeFilter(
        label=_("Mineral"),
        queryset=Mineral.objects.all(),
        to_field_name="code",
        field_name="mineral__code",
    )
    category = filters.MultipleChoiceFilter(label=_("Category"), choices=BALANCE_CATEGORY_CHOICES)
    balance = filters.BooleanFilter(label=_("Balance reserves"), widget=forms.NullBooleanSelect)
    year = NumberFilter(label=_("Year"), min_value=1900, max_value=2100)

    class Meta:
        model = BalanceMovement
        fields = ["deposit", "mineral", "category", "balance", "year"]


class BalanceClosureFilterSet(filters.FilterSet):
    """Closed State Balance years: by mineral and year; `as_of` keeps the closures recorded
    by that day (closed on or before it), as `balance_complete_for` counts them."""

    mineral = CodeFilter(
        label=_("Mineral"),
        queryset=Mineral.objects.all(),
        to_field_name="code",
        field_name="mineral__code",
    )
    year = WholeNumberFilter(label=_("Year"), min_value=1900, max_value=2100)
    as_of = AsOfFilter(label=_("As of"), method="filter_recorded_by")

    class Meta:
        model = BalanceClosure
        fields = ["mineral", "year", "as_of"]

    def filter_recorded_by(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(closed_on__lte=value)
