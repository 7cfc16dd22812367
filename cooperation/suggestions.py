"""Organisations and events answering a typed name, ranked by the name matcher
(kernel/names.py); events only those the caller may see."""

from cooperation.models import Event, Organisation
from kernel import names
from kernel.languages import localized
from kernel.links import url_maker
from kernel.visibility import Caller


def organisation_names(organisation: Organisation) -> list[str]:
    return [
        organisation.name,
        organisation.name_ru,
        organisation.name_tg,
        organisation.name_native,
        organisation.acronym,
    ]


def suggestions(query: str, caller: Caller) -> list[names.Suggestion]:
    organisation_page, event_page = url_maker("organisation-detail"), url_maker("event-detail")
    found = names.suggest(
        "organisation",
        query,
        Organisation.objects.only(
            "public_id", "name", "name_ru", "name_tg", "name_native", "acronym"
        ).order_by("name"),
        organisation_names,
        lambda o: o.public_id,
        lambda o: o.localized_name(),
        lambda o: organisation_page(o.public_id),
    )
    found += names.suggest(
        "event",
        query,
        Event.objects.visible_to(caller).only(
            "public_id", "title", "title_ru", "title_tg", "visibility"
        ),
        lambda e: [e.title, e.title_ru, e.title_tg],
        lambda e: e.public_id,
        lambda e: localized(e, "title").text,
        lambda e: event_page(e.public_id),
    )
    return found
