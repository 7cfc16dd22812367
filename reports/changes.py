"""The change feed: every create, update and delete a partner needs to keep its copy in sync.

Built from the history tables (django-simple-history). A change is listed when
the caller may see the record after it, or could see it before it: a record
that leaves the caller's view (made internal, say) is reported as `deleted`
for that caller, and one that enters it as `created`. A reserve estimate is
visible with its deposit as the deposit was at the time of the change.
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


class ChangeSerializer(serializers.Serializer):
    model = serializers.ChoiceField(
        choices=["deposit", "reserve", "movement", "memorandum"], source="c_model"
    )
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


def _visible_record_changes(model, label: str, since, caller):
    """Changes of a model with its own `visibility` and `public_id` (deposits, memoranda)."""
    history = model.history.model
    visible_after = visible(caller)
    visible_before = visible(caller, "previous_")
    return (
        history.objects.filter(history_date__gte=since)
        .annotate(previous_visibility=_latest(history, "id", "visibility", before=True))
        .filter(visible_after | visible_before)
        .annotate(
            c_model=Value(label, output_field=CharField()),
            c_id=F("public_id"),
            c_action=SQLCase(
                When(history_type="-", then=Value(DELETED)),
                When(~visible_after, then=Value(DELETED)),
                When(history_type="+", then=Value(CREATED)),
                When(~visible_before, then=Value(CREATED)),
                default=Value(UPDATED),
                output_field=CharField(),
            ),
            c_at=F("history_date"),
            c_seq=F("history_id"),
        )
        .values(*COLUMNS)
        .order_by()
    )


def _deposit_record_changes(model_name: str, label: str, identifier, since, caller):
    """Changes of records visible with their deposit (reserve estimates, balance lines),
    as the deposit was at the time of the change."""
    records = apps.get_model("deposits", model_name).history.model
    deposits = apps.get_model("deposits", "Deposit")
    current = deposits.objects.filter(pk=OuterRef("deposit_id")).values("visibility")[:1]
    deposit_visibility = Coalesce(
        _latest(deposits.history.model, "deposit_id", "visibility", before=False),
        Subquery(current),
    )
    return (
        records.objects.filter(history_date__gte=since)
        .annotate(deposit_visibility=deposit_visibility)
        .filter(visible(caller, "deposit_"))
        .annotate(
            c_model=Value(label, output_field=CharField()),
            c_id=identifier,
            c_action=SQLCase(
                When(history_type="+", then=Value(CREATED)),
                When(history_type="-", then=Value(DELETED)),
                default=Value(UPDATED),
                output_field=CharField(),
            ),
            c_at=F("history_date"),
            c_seq=F("history_id"),
        )
        .values(*COLUMNS)
        .order_by()
    )


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
        memorandum = apps.get_model("cooperation", "Memorandum")
        parts.append(_visible_record_changes(memorandum, "memorandum", since, caller))
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
    """Creates, updates and deletes of deposits, reserve estimates, balance lines and
    memoranda since `since`, oldest first. A record that left the caller's view is
    `deleted`."""

    serializer_class = ChangeSerializer
    permission_classes = [ReadOnly]
    filter_backends = []  # `since` is the one parameter, validated by parse_since

    def list(self, request, *args, **kwargs):
        since = parse_since(request.query_params)
        page = self.paginate_queryset(change_feed(since, self.caller))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
