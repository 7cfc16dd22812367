"""The change feed: every create, update and delete a partner needs to keep its copy in sync.

Built from the history tables (django-simple-history), one part per resource of the
API, in one SQL UNION. A change is listed when the caller may see the record after
it, or could see it before it: a record that leaves the caller's view is reported as
`deleted` for that caller, and one that enters it as `created`. Records with a
visibility of their own (deposits, events, memoranda, initiatives) are judged by it;
reserve estimates and balance lines by their deposit's visibility at the time of the
change, before and after it, so an estimate moved to a deposit the caller may not see
is `deleted` for that caller; organisations, people and topics have no visibility
(the API shows them to everyone).
"""

import datetime

from django.apps import apps
from django.db.models import Case as SQLCase
from django.db.models import (
    CharField,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, viewsets

from kernel.api.permissions import ReadOnly
from kernel.api.viewsets import RegistryViewSetMixin
from kernel.parameters import InstantField, read
from kernel.visibility import visible

CREATED, UPDATED, DELETED = "created", "updated", "deleted"
COLUMNS = ("c_model", "c_id", "c_action", "c_at", "c_seq")


MODELS = [
    "deposit",
    "reserve",
    "movement",
    "organisation",
    "person",
    "topic",
    "event",
    "memorandum",
    "initiative",
]


class ChangeSerializer(serializers.Serializer):
    model = serializers.ChoiceField(choices=MODELS, source="c_model")
    id = serializers.CharField(
        source="c_id",
        help_text=_(
            "The record's id in its resource (deposits/<id>/, reserves/<id>/, movements/<id>/, "
            "...)."
        ),
    )
    action = serializers.ChoiceField(choices=[CREATED, UPDATED, DELETED], source="c_action")
    at = serializers.DateTimeField(source="c_at")


def parse_since(params) -> datetime.datetime:
    """The required `since` (kernel/parameters.py: `instant`)."""
    since = read(params, "since", InstantField())
    if since is None:
        raise exceptions.ValidationError(
            {"since": [_("Required: an ISO 8601 date or time, e.g. 2026-11-26T00:00:00Z.")]}
        )
    return since


def _latest(history, id_field: str, column: str, *, before: bool):
    """The `column` of the record's history row just before (or at) the outer row's time."""
    rows = history.objects.filter(id=OuterRef(id_field))
    if before:
        rows = rows.filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
    else:
        rows = rows.filter(history_date__lte=OuterRef("history_date"))
    return Subquery(rows.order_by("-history_date", "-history_id").values(column)[:1])


def _action(visible_after: Q, visible_before: Q):
    """What a history row is to a caller: a record that leaves their view is `deleted`,
    one that enters it `created`."""
    return SQLCase(
        When(history_type="-", then=Value(DELETED)),
        When(~visible_after, then=Value(DELETED)),
        When(history_type="+", then=Value(CREATED)),
        When(~visible_before, then=Value(CREATED)),
        default=Value(UPDATED),
        output_field=CharField(),
    )


def _entries(rows, label: str, identifier, action):
    return (
        rows.annotate(
            c_model=Value(label, output_field=CharField()),
            c_id=identifier,
            c_action=action,
            c_at=F("history_date"),
            c_seq=F("history_id"),
        )
        .values(*COLUMNS)
        .order_by()
    )


def _visible_record_changes(model, label: str, since, caller):
    """Changes of a model with its own `visibility` and `public_id` (deposits, events,
    memoranda, initiatives)."""
    history = model.history.model
    visible_after = visible(caller)
    visible_before = visible(caller, "previous_")
    rows = (
        history.objects.filter(history_date__gte=since)
        .annotate(previous_visibility=_latest(history, "id", "visibility", before=True))
        .filter(visible_after | visible_before)
    )
    return _entries(rows, label, F("public_id"), _action(visible_after, visible_before))


def _public_record_changes(model, label: str, since):
    """Changes of a model without a visibility, which every caller sees (organisations,
    people, topics)."""
    rows = model.history.model.objects.filter(history_date__gte=since)
    action = SQLCase(
        When(history_type="+", then=Value(CREATED)),
        When(history_type="-", then=Value(DELETED)),
        default=Value(UPDATED),
        output_field=CharField(),
    )
    return _entries(rows, label, F("public_id"), action)


def _deposit_visibility_at_change(deposit_id: str):
    """The visibility of the deposit `deposit_id` (a column of the outer history row) as
    it was at the outer row's time; its current one when its history starts later."""
    deposits = apps.get_model("deposits", "Deposit")
    current = deposits.objects.filter(pk=OuterRef(deposit_id)).values("visibility")[:1]
    return Coalesce(
        _latest(deposits.history.model, deposit_id, "visibility", before=False),
        Subquery(current),
    )


def _deposit_record_changes(model_name: str, label: str, identifier, since, caller):
    """Changes of records visible with their deposit (reserve estimates, balance lines):
    visible after the change when the deposit it names was visible at the time, before it
    when the deposit its previous version named was. A record moved to a deposit the
    caller may not see is `deleted` for them; one moved out of such a deposit `created`."""
    records = apps.get_model("deposits", model_name).history.model
    visible_after = visible(caller, "deposit_")
    visible_before = visible(caller, "previous_deposit_")
    rows = (
        records.objects.filter(history_date__gte=since)
        .annotate(
            deposit_visibility=_deposit_visibility_at_change("deposit_id"),
            previous_deposit=_latest(records, "id", "deposit_id", before=True),
            previous_deposit_visibility=_deposit_visibility_at_change("previous_deposit"),
        )
        .filter(visible_after | visible_before)
    )
    return _entries(rows, label, identifier, _action(visible_after, visible_before))


def change_feed(since, caller):
    """All changes since `since` the caller may see, oldest first (one SQL UNION)."""
    parts = [
        _visible_record_changes(apps.get_model("deposits", "Deposit"), "deposit", since, caller),
        _deposit_record_changes("ReserveEstimate", "reserve", F("public_id"), since, caller),
        _deposit_record_changes(
            "BalanceMovement", "movement", Cast("id", output_field=CharField()), since, caller
        ),
    ]
    if apps.is_installed("cooperation"):
        for label, name in (
            ("organisation", "Organisation"),
            ("person", "Person"),
            ("topic", "Topic"),
        ):
            parts.append(_public_record_changes(apps.get_model("cooperation", name), label, since))
        for label, name in (
            ("event", "Event"),
            ("memorandum", "Memorandum"),
            ("initiative", "Initiative"),
        ):
            model = apps.get_model("cooperation", name)
            parts.append(_visible_record_changes(model, label, since, caller))
    first, *rest = parts
    return first.union(*rest, all=True).order_by("c_at", "c_model", "c_seq")


@extend_schema(
    parameters=[
        OpenApiParameter(
            "since",
            OpenApiTypes.DATETIME,
            required=True,
            description=_("ISO 8601 date or time; changes at or after it are listed."),
        )
    ]
)
class ChangeViewSet(RegistryViewSetMixin, viewsets.GenericViewSet):
    """Creates, updates and deletes of every resource (deposits, reserve estimates,
    balance lines, organisations, people, topics, events, memoranda, initiatives) since
    `since`, oldest first. A record that left the caller's view is `deleted`, one that
    entered it `created`."""

    serializer_class = ChangeSerializer
    permission_classes = [ReadOnly]
    filter_backends = []  # `since` is the one parameter, validated by parse_since

    def list(self, request, *args, **kwargs):
        since = parse_since(request.query_params)
        page = self.paginate_queryset(change_feed(since, self.caller))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
