"""Viewsets of the cooperation resources. Events, memoranda and initiatives carry a
visibility; deposits, events and memoranda they point at are listed only when
the caller may see them."""

from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from cooperation import grants
from cooperation.api import filtersets
from cooperation.api.serializers import (
    EventSerializer,
    GrantSerializer,
    InitiativeSerializer,
    MemorandumSerializer,
    OrganizationSerializer,
    PersonSerializer,
    RecordTransitionSerializer,
    TopicSerializer,
)
from cooperation.models import (
    DataGrant,
    Event,
    EventParticipant,
    EventTopic,
    Initiative,
    Memorandum,
    MemorandumParty,
    Organisation,
    Person,
    Topic,
)
from cooperation.services import record_transition
from deposits.models import Deposit
from kernel.api.permissions import ReadAnyWriteStaffWithModelPermission
from kernel.api.viewsets import RegistryModelViewSet


class _RecordViewSet(RegistryModelViewSet):
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"

    def visible(self, model):
        return model.objects.visible_to(self.caller)


class OrganizationViewSet(_RecordViewSet):
    """Partner agencies and domestic bodies, with their country (ISO 3166-1)."""

    serializer_class = OrganizationSerializer
    filterset_class = filtersets.OrganizationFilterSet

    def get_queryset(self):
        return self.lock_for_write(Organisation.objects.select_related("parent"))


class PersonViewSet(_RecordViewSet):
    serializer_class = PersonSerializer
    filterset_class = filtersets.PersonFilterSet

    def get_queryset(self):
        return self.lock_for_write(Person.objects.select_related("organisation"))


class TopicViewSet(_RecordViewSet):
    serializer_class = TopicSerializer

    def get_queryset(self):
        return self.lock_for_write(
            Topic.objects.prefetch_related(
                "minerals", Prefetch("deposits", queryset=self.visible(Deposit))
            )
        )


class EventViewSet(_RecordViewSet):
    """Roundtables, forums, visits: participants (organisation, person, role) and topics."""

    serializer_class = EventSerializer
    filterset_class = filtersets.EventFilterSet

    def get_queryset(self):
        participants = EventParticipant.objects.select_related("organisation", "person")
        topics = EventTopic.objects.select_related("topic")
        return self.lock_for_write(
            self.visible(Event).prefetch_related(
                Prefetch("participants", queryset=participants),
                Prefetch("topic_links", queryset=topics),
            )
        )


class MemorandumViewSet(_RecordViewSet):
    """Memoranda and agreements: parties, lifecycle (status, transitions), commitments,
    linked minerals, deposits, topics and events. The status changes only by
    recording a transition (POST memoranda/<id>/transitions/)."""

    serializer_class = MemorandumSerializer
    filterset_class = filtersets.MemorandumFilterSet

    def get_queryset(self):
        parties = MemorandumParty.objects.select_related("organisation", "signatory")
        return self.lock_for_write(
            self.visible(Memorandum).prefetch_related(
                Prefetch("parties", queryset=parties),
                "transitions",
                "commitments__party",
                "topics",
                "minerals",
                Prefetch("deposits", queryset=self.visible(Deposit)),
                Prefetch("events", queryset=self.visible(Event)),
            )
        )

    @extend_schema(request=RecordTransitionSerializer, responses={201: MemorandumSerializer})
    @action(detail=True, methods=["post"], url_path="transitions")
    def record_transition(self, request, *args, **kwargs):
        """Record a lifecycle step (the same rules as the admin); it becomes the status."""
        with transaction.atomic():
            # The row is locked from the If-Match check (in get_object) to the write.
            memorandum = self.get_object()
            step = RecordTransitionSerializer(data=request.data)
            step.is_valid(raise_exception=True)
            data = step.validated_data
            record_transition(
                memorandum,
                data["status"],
                data["date"],
                data["note"],
                correction=data["correction"],
                **({"date_precision": data["date_precision"]} if "date_precision" in data else {}),
            )
            memorandum = self.get_queryset().get(pk=memorandum.pk)
        return Response(self.get_serializer(memorandum).data, status=status.HTTP_201_CREATED)


class InitiativeViewSet(_RecordViewSet):
    serializer_class = InitiativeSerializer
    filterset_class = filtersets.InitiativeFilterSet

    def get_queryset(self):
        return self.lock_for_write(
            self.visible(Initiative)
            .select_related("lead_organisation", "memorandum")
            .prefetch_related(
                "partners", "topics", Prefetch("events", queryset=self.visible(Event))
            )
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "caller": self.caller}


GRANT_PATH = [
    OpenApiParameter(
        "memorandum_id",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        description="The memorandum's identifier, e.g. MOU-000001.",
    ),
]
GRANT_ID_PATH = [*GRANT_PATH, OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)]


# The route's parameters, which the schema cannot read off a queryset made per request.
@extend_schema_view(
    list=extend_schema(parameters=GRANT_PATH),
    create=extend_schema(parameters=GRANT_PATH),
    retrieve=extend_schema(parameters=GRANT_ID_PATH),
    update=extend_schema(parameters=GRANT_ID_PATH),
    partial_update=extend_schema(parameters=GRANT_ID_PATH),
    destroy=extend_schema(parameters=GRANT_ID_PATH),
)
class GrantViewSet(RegistryModelViewSet):
    """The data-sharing clauses of a memorandum (`memoranda/<id>/grants/`): who receives
    what, and whether it is in force. Staff only: to anyone else the clauses do not exist
    (404), as a hidden record; writes need the cooperation editors' permissions, and an
    update or delete the clause's current ETag in If-Match."""

    serializer_class = GrantSerializer
    permission_classes = [ReadAnyWriteStaffWithModelPermission]
    pagination_class = None
    filter_backends = []

    def check_permissions(self, request):
        if not self.caller.is_staff:
            raise Http404
        super().check_permissions(request)

    @property
    def memorandum(self) -> Memorandum:
        if not hasattr(self, "_memorandum"):
            self._memorandum = get_object_or_404(
                Memorandum.objects.all(), public_id=self.kwargs["memorandum_id"]
            )
        return self._memorandum

    def get_queryset(self):
        return self.lock_for_write(
            grants.with_in_force(DataGrant.objects.filter(memorandum=self.memorandum))
            .select_related("organisation")
            .prefetch_related("deposits", "minerals", "regions", "periods")
            .order_by("id")
        )

    def perform_create(self, serializer):
        serializer.save()
        self._read_again(serializer)

    def perform_update(self, serializer):
        serializer.save()
        self._read_again(serializer)

    def _read_again(self, serializer):
        # The days and periods in force are derived on save (cooperation.grants), by
        # updates: the answer reads the clause as a read would.
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "memorandum_id" in self.kwargs:
            context["memorandum"] = self.memorandum
        return context
