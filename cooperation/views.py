"""Pages of the international cooperation: events as a timeline, memoranda with
their lifecycle, organisations with what they took part in, initiatives.

Events, memoranda and initiatives carry a visibility like deposits and are read
through `Caller.of(request)`; organisations and topics are public.
"""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render

from cooperation.models import (
    Event,
    EventParticipant,
    EventTopic,
    Initiative,
    Memorandum,
    MemorandumParty,
    Organisation,
)
from cooperation.services import cooperation_for_organisation
from kernel.visibility import Caller


def events_for_timeline(events):
    """Events with their hosts and topics prefetched, newest first."""
    return events.prefetch_related(
        Prefetch(
            "participants",
            queryset=EventParticipant.objects.select_related("organisation", "person"),
        ),
        Prefetch("topic_links", queryset=EventTopic.objects.select_related("topic")),
    ).order_by("-start_date", "title", "pk")


def memoranda_with_parties(memoranda):
    return memoranda.prefetch_related(
        Prefetch(
            "parties", queryset=MemorandumParty.objects.select_related("organisation", "signatory")
        )
    ).order_by("-signed_on", "title", "pk")


def initiatives_with_organisations(initiatives):
    return initiatives.select_related("lead_organisation", "memorandum").prefetch_related(
        "partners"
    )


def cooperation_index(request):
    caller = Caller.of(request)
    return render(
        request,
        "cooperation/index.html",
        {
            "events": events_for_timeline(Event.objects.visible_to(caller)),
            "memoranda": memoranda_with_parties(Memorandum.objects.visible_to(caller)),
            "initiatives": initiatives_with_organisations(Initiative.objects.visible_to(caller)),
            "organisations": Organisation.objects.select_related("parent"),
        },
    )


def event_detail(request, public_id: str):
    caller = Caller.of(request)
    event = get_object_or_404(
        events_for_timeline(Event.objects.visible_to(caller)), public_id=public_id
    )
    topic_links = list(event.topic_links.all())
    return render(
        request,
        "cooperation/event_detail.html",
        {
            "event": event,
            "topic_links": topic_links,
            "memoranda": memoranda_with_parties(event.memoranda.visible_to(caller)),
            "initiatives": initiatives_with_organisations(event.initiatives.visible_to(caller)),
        },
    )


def memorandum_detail(request, public_id: str):
    caller = Caller.of(request)
    memorandum = get_object_or_404(
        memoranda_with_parties(Memorandum.objects.visible_to(caller)).prefetch_related(
            "topics", "minerals", "commitments__party"
        ),
        public_id=public_id,
    )
    return render(
        request,
        "cooperation/memorandum_detail.html",
        {
            "memorandum": memorandum,
            "transitions": memorandum.transitions.order_by("id"),
            "deposits": memorandum.deposits.visible_to(caller).select_related("region"),
            "events": memorandum.events.visible_to(caller).order_by("-start_date"),
            "initiatives": initiatives_with_organisations(
                memorandum.initiatives.visible_to(caller)
            ),
        },
    )


def organisation_detail(request, public_id: str):
    caller = Caller.of(request)
    organisation = get_object_or_404(
        Organisation.objects.select_related("parent"), public_id=public_id
    )
    cooperation = cooperation_for_organisation(organisation).visible_to(caller)
    return render(
        request,
        "cooperation/organisation_detail.html",
        {
            "organisation": organisation,
            "events": events_for_timeline(cooperation.events),
            "memoranda": memoranda_with_parties(cooperation.memoranda),
            "initiatives": initiatives_with_organisations(cooperation.initiatives),
            "people": organisation.people.all(),
            "children": organisation.children.all(),
        },
    )
