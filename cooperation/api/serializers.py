"""The cooperation resources of API v1: organisations, people, topics, events,
memoranda and initiatives, each addressed by its public identifier."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cooperation.models import (
    Commitment,
    DataGrant,
    Event,
    EventParticipant,
    EventTopic,
    GrantPeriod,
    Initiative,
    Memorandum,
    MemorandumParty,
    MemorandumTransition,
    Organisation,
    Person,
    Topic,
)
from deposits.models import Deposit, Mineral, Region
from kernel.api.serializers import FullCleanMixin, ModelSerializer, SlugReferenceField


def public_ids(model, **kwargs):
    """Related records by public id; lists of them read what the view prefetched
    (only records the caller may see)."""
    return SlugReferenceField(slug_field="public_id", queryset=model.objects, **kwargs)


def mineral_codes(**kwargs):
    return SlugReferenceField(
        slug_field="code", queryset=Mineral.objects, many=True, required=False, **kwargs
    )


class RecordSerializer(FullCleanMixin, ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    sources = serializers.ListField(
        child=serializers.CharField(max_length=2000), required=False, default=list
    )


class OrganizationSerializer(RecordSerializer):
    parent = public_ids(Organisation, allow_null=True, required=False)

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "name_ru",
            "name_tg",
            "name_native",
            "acronym",
            "country",
            "kind",
            "parent",
            "website",
            "description",
            "description_ru",
            "description_tg",
            "sources",
            "created_at",
            "updated_at",
        ]


class PersonSerializer(RecordSerializer):
    organisation = public_ids(Organisation, allow_null=True, required=False)

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "name_ru",
            "name_tg",
            "title",
            "organisation",
            "sources",
            "created_at",
            "updated_at",
        ]


class TopicSerializer(RecordSerializer):
    minerals = mineral_codes()
    deposits = public_ids(Deposit, many=True, required=False)

    class Meta:
        model = Topic
        fields = [
            "id",
            "name",
            "name_ru",
            "name_tg",
            "description",
            "description_ru",
            "description_tg",
            "minerals",
            "deposits",
            "sources",
            "created_at",
            "updated_at",
        ]


class ParticipantSerializer(ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    person = serializers.SlugRelatedField(slug_field="public_id", read_only=True)

    class Meta:
        model = EventParticipant
        fields = ["organisation", "person", "role"]


class EventTopicSerializer(ModelSerializer):
    topic = serializers.SlugRelatedField(slug_field="public_id", read_only=True)

    class Meta:
        model = EventTopic
        fields = ["topic", "role"]


class EventSerializer(RecordSerializer):
    participants = ParticipantSerializer(many=True, read_only=True)
    topics = EventTopicSerializer(source="topic_links", many=True, read_only=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "kind",
            "title",
            "title_ru",
            "title_tg",
            "start_date",
            "end_date",
            "place",
            "host_country",
            "description",
            "description_ru",
            "description_tg",
            "outcome",
            "participants",
            "topics",
            "sources",
            "visibility",
            "created_at",
            "updated_at",
        ]


class PartySerializer(ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    signatory = serializers.SlugRelatedField(slug_field="public_id", read_only=True)

    class Meta:
        model = MemorandumParty
        fields = ["organisation", "signatory"]


class TransitionSerializer(ModelSerializer):
    class Meta:
        model = MemorandumTransition
        fields = ["status", "date", "date_precision", "correction", "note", "recorded_at"]
        read_only_fields = ["recorded_at"]


class CommitmentSerializer(ModelSerializer):
    party = serializers.SlugRelatedField(slug_field="public_id", read_only=True)

    class Meta:
        model = Commitment
        fields = ["party", "text", "source"]


class MemorandumSerializer(RecordSerializer):
    parties = PartySerializer(many=True, read_only=True)
    transitions = TransitionSerializer(many=True, read_only=True)
    commitments = CommitmentSerializer(many=True, read_only=True)
    topics = public_ids(Topic, many=True, required=False)
    minerals = mineral_codes()
    deposits = public_ids(Deposit, many=True, required=False)
    events = public_ids(Event, many=True, required=False)

    class Meta:
        model = Memorandum
        fields = [
            "id",
            "title",
            "title_ru",
            "title_tg",
            "kind",
            "status",
            "signed_on",
            "signed_on_precision",
            "signed_place",
            "term_years",
            "valid_until",
            "description",
            "description_ru",
            "description_tg",
            "parties",
            "transitions",
            "commitments",
            "topics",
            "minerals",
            "deposits",
            "events",
            "sources",
            "visibility",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status"]


class InitiativeSerializer(RecordSerializer):
    lead_organisation = public_ids(Organisation, allow_null=True, required=False)
    partners = public_ids(Organisation, many=True, required=False)
    memorandum = public_ids(Memorandum, allow_null=True, required=False)
    events = public_ids(Event, many=True, required=False)
    topics = public_ids(Topic, many=True, required=False)

    class Meta:
        model = Initiative
        fields = [
            "id",
            "title",
            "title_ru",
            "title_tg",
            "kind",
            "status",
            "description",
            "description_ru",
            "description_tg",
            "lead_organisation",
            "partners",
            "start_date",
            "end_date",
            "date_precision",
            "memorandum",
            "events",
            "topics",
            "sources",
            "visibility",
            "created_at",
            "updated_at",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # A memorandum the caller may not see is not named.
        caller = self.context.get("caller")
        memorandum = instance.memorandum
        if caller is not None and memorandum is not None and not caller.sees(memorandum):
            data["memorandum"] = None
        return data


class RecordTransitionSerializer(serializers.Serializer):
    """A lifecycle step to record (cooperation.services.record_transition checks the rules)."""

    status = serializers.ChoiceField(choices=Memorandum.Status.choices)
    date = serializers.DateField()
    date_precision = serializers.ChoiceField(
        choices=MemorandumTransition._meta.get_field("date_precision").choices,
        required=False,
    )
    correction = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class GrantPeriodSerializer(ModelSerializer):
    class Meta:
        model = GrantPeriod
        fields = ["opens_on", "closes_on"]


class GrantSerializer(FullCleanMixin, ModelSerializer):
    """A data-sharing clause of the memorandum in the URL (staff only; docs/cooperation.md).
    `area` is a GeoJSON Polygon or MultiPolygon, or a box [west, south, east, north]
    (kept as its polygon); `opens_on` and `closes_on` (the first day it no longer is) are
    the days the clause is in force, from the memorandum's lifecycle."""

    organisation = public_ids(Organisation)
    deposits = public_ids(Deposit, many=True, required=False)
    minerals = mineral_codes()
    regions = SlugReferenceField(
        slug_field="code", queryset=Region.objects, many=True, required=False
    )
    area = serializers.JSONField(required=False, allow_null=True)
    in_force = serializers.SerializerMethodField()
    periods = serializers.SerializerMethodField(
        help_text=_(
            "The stretches of days the clause is in force: its memorandum's time in force "
            "less its suspensions; `closes_on` is the first day it no longer is."
        )
    )

    class Meta:
        model = DataGrant
        fields = [
            "id",
            "organisation",
            "deposits",
            "minerals",
            "regions",
            "area",
            "shares_reserves",
            "note",
            "opens_on",
            "closes_on",
            "periods",
            "in_force",
        ]
        read_only_fields = ["id", "opens_on", "closes_on"]
        clean_attributes = ["scope_in_edit"]

    def get_in_force(self, grant) -> bool:
        return grant.is_in_force  # annotated by the view (`grants.with_in_force`)

    @extend_schema_field(GrantPeriodSerializer(many=True))
    def get_periods(self, grant) -> list:
        return GrantPeriodSerializer(grant.periods.all(), many=True).data

    def validate(self, attrs):
        attrs["memorandum"] = self.context["memorandum"]
        # The scope as it will be saved, for the model's check of an empty one.
        scope = {}
        for name in ("deposits", "minerals", "regions"):
            if name in attrs:
                scope[name] = [record.pk for record in attrs[name]]
            elif self.instance is not None:
                scope[name] = [record.pk for record in getattr(self.instance, name).all()]
            else:
                scope[name] = []
        attrs["scope_in_edit"] = scope
        return super().validate(attrs)

    def validate_candidate(self, candidate, attrs) -> None:
        # The model keeps a box as its polygon.
        if "area" in attrs:
            attrs["area"] = candidate.area

    def create(self, validated_data):
        validated_data.pop("scope_in_edit", None)
        return super().create(validated_data)

    def update(self, instance, validated_data):
        validated_data.pop("scope_in_edit", None)
        instance.scope_in_edit = None
        return super().update(instance, validated_data)
