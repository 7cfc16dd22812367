"""The change feed: every create, update and delete a partner needs to keep its copy in sync.

Built from the history tables (django-simple-history), one part per resource of the
API, in one SQL UNION. A change is listed when the caller may see the record after
it, or could see it before it: a record that leaves the caller's view is reported as
`deleted` for that caller, and one that enters it as `created`. Records with a
visibility of their own (deposits, events, memoranda, initiatives) are judged by it;
reserve estimates and balance lines by their deposit's visibility at the time of the
change, before and after it, so an estimate moved to a deposit the caller may not see
is `deleted` for that caller; State Balance closures, organisations, people and topics
have no visibility (the API shows them to everyone).

A partner key also sees what its organisation's data-sharing clauses open
(cooperation.grants). A change of a deposit, estimate or balance line made while a clause
opened it counts as visible to that partner, judged by what the clauses covered and
whether they were in force at the change's moment (the log of `GrantChange`), never by
what they cover today; and a clause opening or closing (or its memorandum suspended or
resumed) is an event of its own, with no history row (a clause closes by date): its
moments are logged ahead in `GrantChange`, and each whose moment has come is listed as
the deposit (and, where the clause shares them, each of its estimates and balance lines)
`created` or `deleted`, once for the organisation however many of its clauses open the
deposit: when the first opens it and when the last closes it.
"""

import datetime

from django.apps import apps
from django.db.models import Case as SQLCase
from django.db.models import (
    CharField,
    Exists,
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

# Each collection of the feed: (label, app, model, how it is judged). `visible` records
# have a visibility and a public id, `of_deposit` ones are seen with their deposit,
# `public` ones are seen by everyone.
COLLECTIONS = [
    ("deposit", "deposits", "Deposit", "visible"),
    ("reserve", "deposits", "ReserveEstimate", "of_deposit"),
    ("movement", "deposits", "BalanceMovement", "of_deposit"),
    ("closure", "deposits", "BalanceClosure", "public"),
    ("organisation", "cooperation", "Organisation", "public"),
    ("person", "cooperation", "Person", "public"),
    ("topic", "cooperation", "Topic", "public"),
    ("event", "cooperation", "Event", "visible"),
    ("memorandum", "cooperation", "Memorandum", "visible"),
    ("initiative", "cooperation", "Initiative", "visible"),
]
MODELS = [label for label, _app, _name, _kind in COLLECTIONS]


class ChangeSerializer(serializers.Serializer):
    model = serializers.ChoiceField(choices=MODELS, source="c_model")
    id = serializers.CharField(
        source="c_id",
        help_text=_(
            "The record's id in its resource (deposits/<id>/, reserves/<id>/, movements/<id>/, "
            "balance/closures/<id>/, ...)."
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


def _latest(history, id_field: str, column: str, *, before: bool, at: str = "history_date"):
    """The `column` of the record's history row just before (or at) the outer row's time
    (its `at`)."""
    rows = history.objects.filter(id=OuterRef(id_field))
    if before:
        rows = rows.filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
    else:
        rows = rows.filter(history_date__lte=OuterRef(at))
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


def id_field(model) -> str:
    """The field a record is known by in the feed and in its resource: its public id, or
    its number where it has none (balance lines, closures)."""
    return "public_id" if any(f.name == "public_id" for f in model._meta.fields) else "id"


def feed_lookup(model, ids) -> dict:
    """The filter finding the records of `model` the feed names by `ids` (`id_field`: public
    ids, or numbers, where an id that is not a number names no record)."""
    field = id_field(model)
    if field == "id":
        ids = [int(i) for i in ids if str(i).isdigit()]
    return {f"{field}__in": list(ids)}


def _feed_id(model):
    field = id_field(model)
    return F(field) if field == "public_id" else Cast(field, output_field=CharField())


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


def _grants():
    """cooperation.grants where the app is installed (reports sits above it)."""
    if not apps.is_installed("cooperation"):
        return None
    from cooperation import grants

    return grants


def _opened(caller, deposit_column: str, figures: bool = False):
    """The condition that a clause opened the deposit of the row to `caller` at the moment
    of the row's change; None where no clause can."""
    grants = _grants()
    if grants is None or not caller.may_hold_grants:
        return None
    return grants.opened_at(caller.organisation_id, deposit_column, "history_date", figures)


def _or(condition, opened):
    return condition if opened is None else condition | opened


def _visible_record_changes(model, label: str, since, caller, opens_deposits=False):
    """Changes of a model with its own `visibility` and `public_id` (deposits, events,
    memoranda, initiatives); for deposits (`opens_deposits`), also those a clause opened
    to the caller at the time."""
    history = model.history.model
    opened = _opened(caller, "id") if opens_deposits else None
    visible_after = _or(visible(caller), opened)
    visible_before = _or(visible(caller, "previous_"), opened)
    rows = (
        history.objects.filter(history_date__gte=since)
        .annotate(
            previous_visibility=_latest(history, "id", "visibility", before=True),
        )
        .filter(visible_after | visible_before)
    )
    return _entries(rows, label, F("public_id"), _action(visible_after, visible_before))


def _public_record_changes(model, label: str, since):
    """Changes of a model without a visibility, which every caller sees (State Balance
    closures, organisations, people, topics)."""
    rows = model.history.model.objects.filter(history_date__gte=since)
    action = SQLCase(
        When(history_type="+", then=Value(CREATED)),
        When(history_type="-", then=Value(DELETED)),
        default=Value(UPDATED),
        output_field=CharField(),
    )
    return _entries(rows, label, _feed_id(model), action)


def _deposit_visibility_at_change(deposit_id: str, at: str = "history_date"):
    """The visibility of the deposit `deposit_id` (a column of the outer row) as it was at
    the outer row's time (its `at`); its current one when its history starts later."""
    deposits = apps.get_model("deposits", "Deposit")
    current = deposits.objects.filter(pk=OuterRef(deposit_id)).values("visibility")[:1]
    return Coalesce(
        _latest(deposits.history.model, deposit_id, "visibility", before=False, at=at),
        Subquery(current),
    )


def _deposit_record_changes(model_name: str, label: str, identifier, since, caller):
    """Changes of records visible with their deposit (reserve estimates, balance lines):
    visible after the change when the deposit it names was visible at the time, before it
    when the deposit its previous version named was. A record moved to a deposit the
    caller may not see is `deleted` for them; one moved out of such a deposit `created`."""
    records = apps.get_model("deposits", model_name).history.model
    visible_after = _or(visible(caller, "deposit_"), _opened(caller, "deposit_id", True))
    visible_before = _or(
        visible(caller, "previous_deposit_"), _opened(caller, "previous_deposit", True)
    )
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


def grant_changes(since, caller):
    """What the caller's clauses opened and closed since `since` (`GrantChange` rows whose
    moment has come), as entries of the deposits and, where the clause shares them, of
    their estimates and balance lines. Judged at each row's moment: a deposit the caller
    saw by its level then is left out (for it nothing opened or closed), and one opened by
    several clauses of the organisation is `created` when the first opens it and `deleted`
    when the last closes it (what opens and closes at one moment is weighed together,
    so a clause's figures withdrawn and the clause reopened without them is no deleted
    deposit)."""
    grants = _grants()
    if grants is None or not caller.may_hold_grants:
        return []
    from django.utils import timezone

    from cooperation.models import GrantChange

    organisation_id = caller.organisation_id
    rows = GrantChange.objects.filter(
        organisation_id=organisation_id, at__gte=since, at__lte=timezone.now()
    )

    def turning(rows, figures: bool):
        """The rows at which what the organisation has open of a deposit (its figures, by
        `figures`) turns from nothing to something or back: one per moment."""

        def count(before: bool):
            moment = Q(at__lt=OuterRef("at")) if before else Q(at__lte=OuterRef("at"))
            return grants.open_count(
                organisation_id, OuterRef("deposit_id"), None, figures=figures, rows=moment
            )

        def sibling(action, id_lookup):
            return Exists(
                GrantChange.objects.filter(
                    organisation_id=organisation_id,
                    deposit_id=OuterRef("deposit_id"),
                    at=OuterRef("at"),
                    action=action,
                    **({"figures": True} if figures else {}),
                    **{f"id__{id_lookup}": OuterRef("id")},
                )
            )

        opened = Q(action=GrantChange.CREATED, before=0, after__gt=0) & ~Q(
            sibling(GrantChange.CREATED, "lt")
        )
        closed = Q(action=GrantChange.DELETED, before__gt=0, after=0) & ~Q(
            sibling(GrantChange.DELETED, "gt")
        )
        return (
            rows.annotate(
                before=count(True),
                after=count(False),
                deposit_visibility=_deposit_visibility_at_change("deposit_id", at="at"),
            )
            .filter(opened | closed)
            .exclude(visible(caller.by_level, "deposit_"))
        )

    def entries(rows, label, identifier):
        return (
            rows.annotate(
                c_model=Value(label, output_field=CharField()),
                c_id=identifier,
                c_action=F("action"),
                c_at=F("at"),
                c_seq=F("id"),
            )
            .values(*COLUMNS)
            .order_by()
        )

    figures = turning(rows.filter(figures=True), True)
    return [
        entries(turning(rows, False), "deposit", F("deposit__public_id")),
        entries(
            figures.filter(deposit__reserves__isnull=False),
            "reserve",
            F("deposit__reserves__public_id"),
        ),
        entries(
            figures.filter(deposit__movements__isnull=False),
            "movement",
            Cast("deposit__movements__id", output_field=CharField()),
        ),
    ]


def collections():
    """(label, model) of each collection of the feed whose app is installed."""
    return [
        (label, apps.get_model(app, name))
        for label, app, name, _kind in COLLECTIONS
        if apps.is_installed(app)
    ]


def collection_of(model) -> str | None:
    """The feed's label of a model, or of one of its history models (None if not fed)."""
    model = getattr(model, "instance_type", model)  # a history model names its record's
    for label, app, name, _kind in COLLECTIONS:
        if model._meta.app_label == app and model.__name__ == name:
            return label
    return None


def change_feed(since, caller, only: dict[str, set[int]] | None = None):
    """All changes since `since` the caller may see, oldest first (one SQL UNION).

    `only` narrows the feed to the history rows it names, by collection ({"deposit":
    {history ids}}): the changes of one committed transaction, which webhooks push."""
    parts = []
    for label, app, name, kind in COLLECTIONS:
        if not apps.is_installed(app) or (only is not None and not only.get(label)):
            continue
        model = apps.get_model(app, name)
        if kind == "visible":
            part = _visible_record_changes(
                model, label, since, caller, opens_deposits=label == "deposit"
            )
        elif kind == "public":
            part = _public_record_changes(model, label, since)
        else:
            part = _deposit_record_changes(name, label, _feed_id(model), since, caller)
        if only is not None:
            part = part.filter(history_id__in=only[label])
        parts.append(part)
    if only is None:  # what clauses open and close comes with no write to push
        parts.extend(grant_changes(since, caller))
    if not parts:
        return []
    first, *rest = parts
    return first.union(*rest, all=True).order_by("c_at", "c_model", "c_seq")


def visible_now(caller, label: str, ids) -> set[str]:
    """Which of the records `ids` of a collection `caller` may see now (by the feed's ids:
    public ids, a balance line's or closure's number), through the one visibility rule."""
    kind = next(k for lbl, _app, _name, k in COLLECTIONS if lbl == label)
    model = dict(collections())[label]
    rows = model.objects.all() if kind == "public" else model.objects.visible_to(caller)
    found = rows.filter(**feed_lookup(model, ids)).values_list(id_field(model), flat=True)
    return {str(i) for i in found}


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
    balance lines, State Balance closures, organisations, people, topics, events,
    memoranda, initiatives) since `since`, oldest first. A record that left the caller's
    view is `deleted`, one that entered it `created`."""

    serializer_class = ChangeSerializer
    permission_classes = [ReadOnly]
    filter_backends = []  # `since` is the one parameter, validated by parse_since

    def list(self, request, *args, **kwargs):
        since = parse_since(request.query_params)
        page = self.paginate_queryset(change_feed(since, self.caller))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
