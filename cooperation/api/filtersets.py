"""Filters of the cooperation resources (repeated parameter = OR, different ones = AND)."""

import django_filters as filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from cooperation.models import (
    Event,
    EventParticipant,
    Initiative,
    Memorandum,
    MemorandumParty,
    Organisation,
    Person,
)
from kernel.parameters import WholeNumberFilter

# Organisations are named by public id (ORG-000001): strings in the OpenAPI schema.
organisation_ids = extend_schema_field(OpenApiTypes.STR)


class CountryFilter(filters.CharFilter):
    """An ISO 3166-1 alpha-2 code, any case."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("Country (ISO 3166-1 alpha-2)"))
        kwargs.setdefault("max_length", 2)
        kwargs.setdefault("min_length", 2)
        super().__init__(*args, **kwargs)


class OrganizationFilterSet(filters.FilterSet):
    country = CountryFilter(method="filter_country")
    kind = filters.MultipleChoiceFilter(choices=Organisation.Kind.choices)
    acronym = filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Organisation
        fields = ["country", "kind", "acronym"]

    def filter_country(self, queryset, name, value):
        return queryset.filter(country=value.upper())


class PersonFilterSet(filters.FilterSet):
    organisation = organisation_ids(
        filters.ModelMultipleChoiceFilter(
            queryset=Organisation.objects.all(), to_field_name="public_id"
        )
    )

    class Meta:
        model = Person
        fields = ["organisation"]


class EventFilterSet(filters.FilterSet):
    country = CountryFilter(method="filter_country")
    year = WholeNumberFilter(
        field_name="start_date", lookup_expr="year", min_value=1900, max_value=9999
    )
    organisation = organisation_ids(
        filters.ModelMultipleChoiceFilter(
            label=_("Participating organisation"),
            queryset=Organisation.objects.all(),
            to_field_name="public_id",
            method="filter_organisation",
        )
    )
    kind = filters.MultipleChoiceFilter(choices=Event.Kind.choices)

    class Meta:
        model = Event
        fields = ["country", "year", "organisation", "kind"]

    def filter_country(self, queryset, name, value):
        """Held in the country, or attended by an organisation of it."""
        country = value.upper()
        attended = EventParticipant.objects.filter(organisation__country=country)
        return queryset.filter(Q(host_country=country) | Q(pk__in=attended.values("event_id")))

    def filter_organisation(self, queryset, name, organisations):
        if not organisations:
            return queryset
        attended = EventParticipant.objects.filter(organisation__in=organisations)
        return queryset.filter(pk__in=attended.values("event_id"))


class MemorandumFilterSet(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Memorandum.Status.choices)
    party = organisation_ids(
        filters.ModelMultipleChoiceFilter(
            label=_("Party (organisation id)"),
            queryset=Organisation.objects.all(),
            to_field_name="public_id",
            method="filter_party",
        )
    )
    country = CountryFilter(method="filter_country")
    year = WholeNumberFilter(
        label=_("Year signed"),
        field_name="signed_on",
        lookup_expr="year",
        min_value=1900,
        max_value=9999,
    )
    kind = filters.MultipleChoiceFilter(choices=Memorandum.Kind.choices)

    class Meta:
        model = Memorandum
        fields = ["status", "party", "country", "year", "kind"]

    def filter_party(self, queryset, name, organisations):
        if not organisations:
            return queryset
        parties = MemorandumParty.objects.filter(organisation__in=organisations)
        return queryset.filter(pk__in=parties.values("memorandum_id"))

    def filter_country(self, queryset, name, value):
        parties = MemorandumParty.objects.filter(organisation__country=value.upper())
        return queryset.filter(pk__in=parties.values("memorandum_id"))


class InitiativeFilterSet(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Initiative.Status.choices)
    kind = filters.MultipleChoiceFilter(choices=Initiative.Kind.choices)
    organisation = organisation_ids(
        filters.ModelMultipleChoiceFilter(
            queryset=Organisation.objects.all(),
            to_field_name="public_id",
            method="filter_organisation",
        )
    )

    class Meta:
        model = Initiative
        fields = ["status", "kind", "organisation"]

    def filter_organisation(self, queryset, name, organisations):
        if not organisations:
            return queryset
        return queryset.filter(
            Q(lead_organisation__in=organisations) | Q(partners__in=organisations)
        ).distinct()
