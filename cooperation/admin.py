"""Admin for ministry staff: organisations, people, events, topics, memoranda, initiatives.

The lifecycle rules are the model's (`Memorandum.transition_errors`,
`signing_errors`); the admin only feeds them what was submitted in one save.
Each save is one transaction (the admin's change view is atomic).
"""

import datetime

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from simple_history.template_utils import HistoricalRecordContextHelper

from cooperation import access, services
from cooperation.grants import force_periods
from cooperation.models import (
    SIGNED_STATUSES,
    Commitment,
    DataGrant,
    Event,
    EventParticipant,
    EventTopic,
    Initiative,
    Memorandum,
    MemorandumParty,
    MemorandumTransition,
    Organisation,
    Person,
    Topic,
    format_date,
)
from cooperation.resources import MemorandumResource, OrganisationResource
from kernel.admin import BoundedCountPaginator, NameSearchMixin, RegistryAdmin, access_summary
from kernel.models import AccessRecord
from kernel.spreadsheets import RegistryImportExportMixin

RECORD_FIELDS = ["public_id", "created_at", "updated_at"]


class YearListFilter(admin.SimpleListFilter):
    """Filter by the year of `date_field`; the years offered are those present."""

    title = _("year")
    parameter_name = "year"
    date_field = ""

    def lookups(self, request, model_admin):
        dates = model_admin.get_queryset(request).dates(self.date_field, "year", order="DESC")
        return [(str(d.year), str(d.year)) for d in dates]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(**{f"{self.date_field}__year": int(self.value())})
        return queryset


class EventYearFilter(YearListFilter):
    date_field = "start_date"


class SigningYearFilter(YearListFilter):
    title = _("year signed")
    date_field = "signed_on"


class PartyCountryFilter(admin.SimpleListFilter):
    title = _("party country")
    parameter_name = "country"

    def lookups(self, request, model_admin):
        countries = (
            MemorandumParty.objects.values_list("organisation__country", flat=True)
            .distinct()
            .order_by("organisation__country")
        )
        return [(c, c) for c in countries]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                pk__in=MemorandumParty.objects.filter(organisation__country=self.value()).values(
                    "memorandum_id"
                )
            )
        return queryset


class AreaField(forms.JSONField):
    """A clause's area as typed: an empty box for no area, where a JSON field shows `null`."""

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)


class GrantForm(forms.ModelForm):
    """Hands the submitted scope to the clause before the model validates it, so a clause
    naming nothing is refused before anything is saved (`DataGrant.clean`)."""

    class Meta:
        model = DataGrant
        fields = [
            "organisation",
            "deposits",
            "minerals",
            "regions",
            "area",
            "shares_reserves",
            "note",
        ]
        field_classes = {"area": AreaField}

    def clean(self):
        cleaned = super().clean()
        self.instance.scope_in_edit = {
            name: [record.pk for record in cleaned.get(name) or []]
            for name in ("deposits", "minerals", "regions")
        }
        return cleaned


class DataGrantInline(admin.StackedInline):
    """The memorandum's data-sharing clauses; each change is kept in the clause's history."""

    model = DataGrant
    form = GrantForm
    extra = 0
    autocomplete_fields = ["organisation", "deposits", "minerals"]
    fields = [
        "organisation",
        "deposits",
        "minerals",
        "regions",
        "area",
        "shares_reserves",
        "note",
        ("opens_on", "closes_on"),
        "periods_in_force",
    ]
    readonly_fields = ["opens_on", "closes_on", "periods_in_force"]

    @admin.display(description=_("periods in force"))
    def periods_in_force(self, grant: DataGrant) -> str:
        """Its memorandum's time in force less its suspensions, last days inclusive."""
        if grant.pk is None:
            return ""
        return "; ".join(
            _("%(start)s to %(end)s")
            % {
                "start": format_date(period.opens_on),
                "end": format_date(period.closes_on - datetime.timedelta(days=1))
                if period.closes_on
                else "…",
            }
            for period in grant.periods.all()
        ) or _("never")


def clause_history(request, model_admin, memorandum_id) -> list:
    """Every recorded change of the memorandum's data-sharing clauses (deleted ones too),
    newest first, each with what it changed against the clause's previous version, for
    the memorandum's history page. Empty to staff who may not view clauses."""
    if not request.user.has_perm("cooperation.view_datagrant"):
        return []
    rows = list(
        DataGrant.history.filter(memorandum_id=memorandum_id)
        .select_related("history_user", "organisation")
        ._select_related_history_tracked_objs()
        .order_by("history_date", "history_id")
    )
    previous = {}
    for row in rows:
        earlier = previous.get(row.id)
        if earlier is not None and row.history_type == "~":
            delta = row.diff_against(earlier, foreign_keys_are_objs=True)
            helper = HistoricalRecordContextHelper(DataGrant, row)
            row.history_delta_changes = helper.context_for_delta_changes(delta)
        previous[row.id] = row
    return rows[::-1]


class OrganisationGrantInline(admin.TabularInline):
    """The clauses that open data to the organisation, edited on their memorandum."""

    model = DataGrant
    fk_name = "organisation"
    extra = 0
    fields = ["memorandum", "shares_reserves", "opens_on", "closes_on", "note"]
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = _("data-sharing clauses (edited on their memorandum)")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PersonInline(admin.TabularInline):
    model = Person
    extra = 0
    fields = ["name", "name_ru", "name_tg", "title"]
    show_change_link = True


@admin.register(Organisation)
class OrganisationAdmin(NameSearchMixin, RegistryImportExportMixin, RegistryAdmin):
    resource_classes = [OrganisationResource]
    list_display = ["name", "acronym", "country", "kind", "parent", "public_id"]
    list_display_links = ["name", "acronym"]
    list_filter = ["country", "kind"]
    list_select_related = ["parent"]
    search_fields = ["name", "name_ru", "name_tg", "name_native", "acronym", "public_id"]
    name_fields = ("name", "name_ru", "name_tg", "name_native", "acronym")
    autocomplete_fields = ["parent"]
    readonly_fields = RECORD_FIELDS
    paginator = BoundedCountPaginator
    show_full_result_count = False
    inlines = [PersonInline, OrganisationGrantInline]
    fieldsets = [
        (None, {"fields": ["public_id", "name", "name_ru", "name_tg", "name_native"]}),
        (
            None,
            {
                "fields": [
                    ("acronym", "country", "kind"),
                    "parent",
                    "website",
                    "description",
                    ("description_ru", "description_tg"),
                ]
            },
        ),
        (_("Sources"), {"fields": ["sources", ("created_at", "updated_at")]}),
    ]


@admin.register(Person)
class PersonAdmin(NameSearchMixin, RegistryAdmin):
    list_display = ["name", "title", "organisation", "public_id"]
    list_filter = [("organisation__country", admin.AllValuesFieldListFilter)]
    list_select_related = ["organisation"]
    search_fields = ["name", "name_ru", "name_tg", "title", "organisation__acronym", "public_id"]
    autocomplete_fields = ["organisation"]
    readonly_fields = RECORD_FIELDS
    fields = ["public_id", "name", "name_ru", "name_tg", "title", "organisation", "sources"]


@admin.register(Topic)
class TopicAdmin(RegistryAdmin):
    list_display = ["name", "name_ru", "public_id"]
    list_filter = ["minerals"]
    search_fields = ["name", "name_ru", "name_tg", "description", "public_id"]
    autocomplete_fields = ["minerals", "deposits"]
    readonly_fields = RECORD_FIELDS
    fieldsets = [
        (None, {"fields": ["public_id", "name", "name_ru", "name_tg"]}),
        (_("Description"), {"fields": ["description", ("description_ru", "description_tg")]}),
        (_("Minerals and deposits"), {"fields": ["minerals", "deposits"]}),
        (_("Sources"), {"fields": ["sources", ("created_at", "updated_at")]}),
    ]


class EventParticipantInline(admin.TabularInline):
    model = EventParticipant
    extra = 0
    autocomplete_fields = ["organisation", "person"]
    fields = ["organisation", "person", "role"]


class EventTopicInline(admin.TabularInline):
    model = EventTopic
    extra = 0
    autocomplete_fields = ["topic"]
    fields = ["topic", "role"]


@admin.register(Event)
class EventAdmin(RegistryAdmin):
    list_display = ["title", "kind", "start_date", "place", "host_country", "visibility"]
    list_filter = ["kind", EventYearFilter, "host_country", "visibility"]
    search_fields = [
        "title",
        "title_ru",
        "title_tg",
        "place",
        "description",
        "outcome",
        "public_id",
    ]
    date_hierarchy = "start_date"
    readonly_fields = RECORD_FIELDS
    paginator = BoundedCountPaginator
    show_full_result_count = False
    inlines = [EventParticipantInline, EventTopicInline]
    fieldsets = [
        (None, {"fields": ["public_id", "kind", "title", ("title_ru", "title_tg"), "visibility"]}),
        (_("When and where"), {"fields": [("start_date", "end_date"), "place", "host_country"]}),
        (
            _("Content"),
            {"fields": ["description", ("description_ru", "description_tg"), "outcome"]},
        ),
        (_("Sources"), {"fields": ["sources", ("created_at", "updated_at")]}),
    ]


class PartyFormSet(BaseInlineFormSet):
    """Hands the submitted parties to the memorandum, and keeps a signed one signed."""

    def clean(self):
        super().clean()
        parties = [
            form.instance
            for form in self.forms
            if form.is_valid()
            and form.cleaned_data
            and not self._should_delete_form(form)
            and (form.instance.pk is not None or form.has_changed())
        ]
        # Validated before the commitments and transitions, which read it.
        self.instance.parties_in_edit = parties
        if self.instance.status in SIGNED_STATUSES:
            errors = self.instance.signing_errors(parties)
            errors.pop("signed_on", None)  # the memorandum's own form reports that
            if errors:
                raise ValidationError(errors["__all__"])


class MemorandumPartyInline(admin.TabularInline):
    model = MemorandumParty
    formset = PartyFormSet
    extra = 0
    autocomplete_fields = ["organisation", "signatory"]
    fields = ["organisation", "signatory"]


class CommitmentInline(admin.TabularInline):
    model = Commitment
    extra = 0
    autocomplete_fields = ["party"]
    fields = ["party", "text", "source"]


class TransitionFormSet(BaseInlineFormSet):
    """New transitions go through `services.record_transition`, one per save."""

    def clean(self):
        super().clean()
        new = [form for form in self.extra_forms if form.has_changed()]
        if len(new) > 1:
            raise ValidationError(
                _("Record one status change per save; the rules check each against the last.")
            )

    def save_new(self, form, commit=True):
        data = form.cleaned_data
        return services.record_transition(
            self.instance,
            data["status"],
            data["date"],
            data.get("note", ""),
            correction=data.get("correction", False),
            date_precision=data.get("date_precision") or "day",
        )


class MemorandumTransitionInline(admin.TabularInline):
    model = MemorandumTransition
    formset = TransitionFormSet
    extra = 0
    fields = ["status", "date", "date_precision", "correction", "note", "recorded_at"]
    readonly_fields = ["recorded_at"]
    verbose_name_plural = _("status transitions (a correction is a new row; rows are kept)")

    # Recorded transitions are evidence: shown, never edited or deleted.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("cooperation.change_memorandum")


@admin.register(Memorandum)
class MemorandumAdmin(RegistryImportExportMixin, RegistryAdmin):
    resource_classes = [MemorandumResource]
    list_display = ["title", "kind", "status", "signed_on", "parties_list", "visibility"]
    list_filter = ["kind", "status", PartyCountryFilter, SigningYearFilter, "visibility"]
    search_fields = [
        "title",
        "title_ru",
        "title_tg",
        "description",
        "signed_place",
        "public_id",
        "parties__organisation__name",
        "parties__organisation__acronym",
    ]
    autocomplete_fields = ["topics", "minerals", "deposits", "events"]
    readonly_fields = [*RECORD_FIELDS, "status"]
    paginator = BoundedCountPaginator
    show_full_result_count = False
    # Parties first: the commitments and transitions are checked against them.
    inlines = [
        MemorandumPartyInline,
        CommitmentInline,
        MemorandumTransitionInline,
        DataGrantInline,
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "public_id",
                    "title",
                    ("title_ru", "title_tg"),
                    "kind",
                    "status",
                    "visibility",
                ]
            },
        ),
        (
            _("Signing and validity"),
            {
                "fields": [
                    ("signed_on", "signed_on_precision"),
                    "signed_place",
                    ("term_years", "valid_until"),
                    "document",
                ]
            },
        ),
        (
            _("Content and links"),
            {
                "fields": [
                    "description",
                    ("description_ru", "description_tg"),
                    "topics",
                    "minerals",
                    "deposits",
                    "events",
                ]
            },
        ),
        (_("Sources"), {"fields": ["sources", ("created_at", "updated_at")]}),
    ]

    # The memorandum's own history, then its clauses' (edited in the inline above).
    object_history_template = "admin/cooperation/memorandum/object_history.html"

    def get_queryset(self, request):
        parties = MemorandumParty.objects.select_related("organisation")
        return super().get_queryset(request).prefetch_related(Prefetch("parties", parties))

    def history_view(self, request, object_id, extra_context=None):
        context = {"clause_history": clause_history(request, self, object_id)}
        return super().history_view(request, object_id, {**context, **(extra_context or {})})

    def get_urls(self):
        reads = self.admin_site.admin_view(self.access_view)
        return [
            path("<path:object_id>/access/", reads, name="cooperation_memorandum_access"),
            *super().get_urls(),
        ]

    def access_view(self, request, object_id):
        """The access record's monthly summary of what the parties' keys read while the
        memorandum was in force (cooperation/access.py), for staff who may read both."""
        memorandum = get_object_or_404(Memorandum, pk=object_id)
        records_admin = self.admin_site._registry[AccessRecord]
        if not (
            self.has_view_permission(request, memorandum)
            and records_admin.has_view_permission(request)
        ):
            raise PermissionDenied
        periods = force_periods(memorandum)
        if not periods:
            note = _("Never in force: nothing was read under it.")
        else:
            # Each stretch in force, suspensions left out as the records listed leave them.
            spans = "; ".join(
                _("from %(start)s to %(end)s")
                % {"start": start, "end": end - datetime.timedelta(days=1) if end else _("today")}
                for start, end in periods
            )
            note = _("Reads by the keys of its parties while it was in force: %(spans)s.") % {
                "spans": spans
            }
        title = _("Access record under %(memorandum)s") % {"memorandum": memorandum}
        return access_summary(
            request, self.admin_site, access.reads_under(memorandum), title, note=note
        )

    @admin.display(description=_("parties"))
    def parties_list(self, memorandum: Memorandum) -> str:
        return ", ".join(
            p.organisation.acronym or p.organisation.name for p in memorandum.parties.all()
        )


@admin.register(Initiative)
class InitiativeAdmin(RegistryAdmin):
    list_display = ["title", "kind", "status", "lead_organisation", "memorandum", "visibility"]
    list_filter = [
        "kind",
        "status",
        ("lead_organisation__country", admin.AllValuesFieldListFilter),
        "visibility",
    ]
    list_select_related = ["lead_organisation", "memorandum"]
    search_fields = [
        "title",
        "title_ru",
        "title_tg",
        "description",
        "public_id",
        "lead_organisation__acronym",
    ]
    autocomplete_fields = ["lead_organisation", "partners", "memorandum", "events", "topics"]
    readonly_fields = RECORD_FIELDS
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "public_id",
                    "title",
                    ("title_ru", "title_tg"),
                    "kind",
                    "status",
                    "visibility",
                ]
            },
        ),
        (
            _("Who and when"),
            {
                "fields": [
                    "lead_organisation",
                    "partners",
                    ("start_date", "end_date", "date_precision"),
                ]
            },
        ),
        (
            _("Origin"),
            {
                "fields": [
                    "memorandum",
                    "events",
                    "topics",
                    "description",
                    ("description_ru", "description_tg"),
                ]
            },
        ),
        (_("Sources"), {"fields": ["sources", ("created_at", "updated_at")]}),
    ]
