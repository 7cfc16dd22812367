"""Domain logic of cooperation: the memorandum lifecycle and the cross-app queries.

`record_transition` is the only writer of `Memorandum.status`; the admin, the
API and importers all go through it.

`cooperation_for_deposit`, `cooperation_for_mineral` and
`cooperation_for_organisation` answer "what cooperation concerns this?" with
four lazy querysets, each evaluated in one query. A deposit is concerned by a
topic that names it or one of its minerals; a mineral by a topic that names it
or one of its deposits. Events are concerned through their topics; memoranda
through their own mineral and deposit links or their topics; initiatives
through their topics or their memorandum.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from cooperation.models import (
    DatePrecision,
    Event,
    EventParticipant,
    EventTopic,
    Initiative,
    Memorandum,
    MemorandumTransition,
    Topic,
    status_after,
)
from deposits.models import Deposit, DepositCommodity, Mineral


@transaction.atomic
def record_transition(
    memorandum: Memorandum,
    status: str,
    on: datetime.date,
    note: str = "",
    *,
    correction: bool = False,
    date_precision: str = DatePrecision.DAY,
) -> MemorandumTransition:
    """Record that `memorandum` reached `status` on `on` (or was suspended or resumed),
    and make it its status.

    Raises ValidationError (keyed by field: status, date, note, signed_on, or
    __all__ for the parties) and writes nothing when a lifecycle rule forbids it.
    """
    # The row lock serialises two clerks recording transitions of one memorandum.
    locked = Memorandum.objects.select_for_update().get(pk=memorandum.pk)
    errors = locked.transition_errors(status, on, correction=correction, note=note)
    if errors:
        raise ValidationError(errors)
    recorded = MemorandumTransition.objects.create(
        memorandum=locked,
        status=status,
        date=on,
        date_precision=date_precision,
        correction=correction,
        note=note,
    )
    # A resumption gives back the stage the suspension interrupted.
    locked.status = status_after(locked.recorded_transitions())
    locked.save(update_fields=["status", "updated_at"])
    memorandum.status = locked.status
    return recorded


@dataclass(frozen=True)
class Cooperation:
    """The cooperation items concerning one record; each a lazy queryset."""

    events: QuerySet[Event]
    topics: QuerySet[Topic]
    memoranda: QuerySet[Memorandum]
    initiatives: QuerySet[Initiative]

    def visible_to(self, caller) -> "Cooperation":
        """Only the events, memoranda and initiatives the caller may see (topics are public)."""
        return Cooperation(
            events=self.events.visible_to(caller),
            topics=self.topics,
            memoranda=self.memoranda.visible_to(caller),
            initiatives=self.initiatives.visible_to(caller),
        )


def _cooperation(topic_filter: Q, memorandum_filter: Q) -> Cooperation:
    topic_ids = Topic.objects.filter(topic_filter).values("pk")
    memorandum_ids = Memorandum.objects.filter(memorandum_filter | Q(topics__in=topic_ids)).values(
        "pk"
    )
    return Cooperation(
        events=Event.objects.filter(
            pk__in=EventTopic.objects.filter(topic__in=topic_ids).values("event_id")
        ),
        topics=Topic.objects.filter(pk__in=topic_ids),
        memoranda=Memorandum.objects.filter(pk__in=memorandum_ids),
        initiatives=Initiative.objects.filter(
            pk__in=Initiative.objects.filter(
                Q(topics__in=topic_ids) | Q(memorandum__in=memorandum_ids)
            ).values("pk")
        ),
    )


def cooperation_for_deposit(deposit: Deposit) -> Cooperation:
    """Events, topics, memoranda and initiatives about `deposit` or any of its minerals."""
    mineral_ids = DepositCommodity.objects.filter(deposit=deposit).values("mineral_id")
    return _cooperation(
        topic_filter=Q(deposits=deposit) | Q(minerals__in=mineral_ids),
        memorandum_filter=Q(deposits=deposit) | Q(minerals__in=mineral_ids),
    )


def cooperation_for_mineral(mineral: Mineral) -> Cooperation:
    """Events, topics, memoranda and initiatives about `mineral` or any deposit of it."""
    deposit_ids = DepositCommodity.objects.filter(mineral=mineral).values("deposit_id")
    return _cooperation(
        topic_filter=Q(minerals=mineral) | Q(deposits__in=deposit_ids),
        memorandum_filter=Q(minerals=mineral) | Q(deposits__in=deposit_ids),
    )


def cooperation_for_organisation(organisation) -> Cooperation:
    """The events it took part in, the memoranda it is party to, the initiatives it
    leads or partners in, and the topics of those events and memoranda."""
    event_ids = EventParticipant.objects.filter(organisation=organisation).values("event_id")
    memoranda = Memorandum.objects.with_party(organisation)
    return Cooperation(
        events=Event.objects.filter(pk__in=event_ids),
        topics=Topic.objects.filter(
            pk__in=Topic.objects.filter(
                Q(event_links__event__in=event_ids) | Q(memoranda__in=memoranda.values("pk"))
            ).values("pk")
        ),
        memoranda=memoranda,
        initiatives=Initiative.objects.involving(organisation),
    )
