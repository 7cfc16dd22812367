"""Record content in three languages: staff enter Russian and Tajik versions of free text
(descriptions, event, memorandum and initiative titles) beside the English; pages show the
reader's version, or the English marked "(in English)" (kernel/languages.py)."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from cooperation.models import Event, Initiative, Memorandum, Organisation
from deposits.models import Deposit, Region
from kernel.languages import localized
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    EventFactory,
    EventTopicFactory,
    InitiativeFactory,
    MemorandumFactory,
    OrganisationFactory,
)

pytestmark = pytest.mark.django_db

IN_ENGLISH = {"ru": "(на английском)", "tg": "(бо забони англисӣ)"}


@pytest.fixture(autouse=True)
def _pages(pages_settings):
    pass


@pytest.fixture
def roundtable():
    """An event translated into Russian only, about a deposit described in Tajik only."""
    deposit = DepositFactory(
        name="Konimansuri Kalon",
        description="A silver-polymetallic deposit.",
        description_tg="Кони нуқраю полиметаллӣ.",
    )
    CommodityFactory(deposit=deposit)
    event = EventTopicFactory(
        role="in-focus",
        event__title="Tajikistan - Korea roundtable",
        event__title_ru="Таджикско-корейский круглый стол",
        event__description="Talks on critical minerals.",
        event__description_ru="Переговоры о критически важных минералах.",
    ).event
    event.topic_links.get().topic.deposits.add(deposit)
    return event


# --- the rule --------------------------------------------------------------------------


def test_the_readers_version_else_the_english_said_to_be_english():
    event = Event(title="Roundtable", title_ru="Круглый стол", description="Talks.")
    assert localized(event, "title", "ru") == ("Круглый стол", "ru", "ru")
    assert not localized(event, "title", "ru").in_english
    assert localized(event, "title", "tg").text == "Roundtable"
    assert localized(event, "title", "tg").in_english
    assert not localized(event, "title", "en").in_english  # English to an English reader
    assert localized(event, "description", "ru") == ("Talks.", "en", "ru")
    assert localized(Event(), "description", "ru") == ("", "en", "ru")
    assert not localized(Event(), "description", "ru").in_english  # nothing to mark
    with translation.override("tg"):
        assert str(localized(event, "title")) == "Roundtable"


def test_names_follow_the_same_rule_without_the_mark():
    region = Region(code="TJ-SU", name="Sughd", name_ru="Согдийская область")
    assert region.localized_name("ru") == "Согдийская область"
    assert region.localized_name("tg") == "Sughd"
    with translation.override("ru"):
        assert region.localized_name() == "Согдийская область"


def render(source: str, **context) -> str:
    return Template("{% load languages %}" + source).render(Context(context))


def test_the_template_tag_marks_english_and_escapes_every_version():
    event = Event(
        title="<b>Roundtable</b>", description="Line one\nline two", title_ru="Круглый <стол>"
    )
    with translation.override("ru"):
        assert render('{% free_text e "title" %}', e=event) == "Круглый &lt;стол&gt;"
        marked = render('{% free_text e "description" lines=True %}', e=event)
        assert marked == (
            '<span lang="en">Line one<br>line two</span> '
            f'<span class="in-english">{IN_ENGLISH["ru"]}</span>'
        )
        assert render('{{ e|in_language:"title" }}', e=event) == "Круглый &lt;стол&gt;"
    with translation.override("tg"):
        assert render('{% free_text e "title" %}', e=event).startswith(
            '<span lang="en">&lt;b&gt;Roundtable&lt;/b&gt;</span>'
        )
    with translation.override("en"):
        assert render('{% free_text e "title" %}', e=event) == "&lt;b&gt;Roundtable&lt;/b&gt;"
        long = Event(description=" ".join(["word"] * 50))
        assert render('{% free_text e "description" words=3 %}', e=long) == "word word word …"


# --- the pages -------------------------------------------------------------------------


def test_the_event_page_in_russian_and_in_tajik(client, roundtable):
    url = reverse("event-detail", args=[roundtable.public_id])
    russian = client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "<title>Таджикско-корейский круглый стол" in russian
    assert "<h1>Таджикско-корейский круглый стол" in russian
    assert "Переговоры о критически важных минералах." in russian
    assert 'lang="en"' not in russian.split("<main", 1)[1]  # nothing fell back
    assert "Tajikistan - Korea roundtable" not in russian

    tajik = client.get(url, HTTP_ACCEPT_LANGUAGE="tg").content.decode()
    assert '<h1><span lang="en">Tajikistan - Korea roundtable</span>' in tajik
    assert '<span lang="en">Talks on critical minerals.</span>' in tajik
    assert tajik.count(IN_ENGLISH["tg"]) == 2

    english = client.get(url).content.decode()
    assert "<h1>Tajikistan - Korea roundtable" in english and "(in English)" not in english


def test_the_deposit_page_and_the_cooperation_lists_read_the_readers_version(client, roundtable):
    deposit = Deposit.objects.get(name="Konimansuri Kalon")
    tajik = client.get(deposit.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="tg").content.decode()
    assert "Кони нуқраю полиметаллӣ." in tajik and "A silver-polymetallic deposit." not in tajik
    russian = client.get(deposit.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<span lang="en">A silver-polymetallic deposit.</span>' in russian
    assert "Таджикско-корейский круглый стол" in russian  # the cooperation concerning it

    MemorandumFactory(title="GGD - KIGAM memorandum", title_tg="Ёддошти ССГ - KIGAM")
    InitiativeFactory(
        title="Geodata laboratory",
        title_ru="Лаборатория геоданных",
        description="Shared " * 60,
        visibility="public",
    )
    index = client.get(reverse("cooperation-index"), HTTP_ACCEPT_LANGUAGE="tg").content.decode()
    assert "Ёддошти ССГ - KIGAM" in index and "GGD - KIGAM memorandum" not in index
    assert '<span lang="en">Geodata laboratory</span>' in index
    assert "Таджикско-корейский" not in index and '<span lang="en">Tajikistan - Korea' in index
    russian_index = client.get(reverse("cooperation-index"), HTTP_ACCEPT_LANGUAGE="ru")
    assert "Лаборатория геоданных" in russian_index.content.decode()


def test_the_organisation_page_reads_its_description_in_the_readers_language(client):
    organisation = OrganisationFactory(
        description="The national geological survey.",
        description_ru="Национальная геологическая служба.",
    )
    url = reverse("organisation-detail", args=[organisation.public_id])
    assert (
        "Национальная геологическая служба."
        in client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    )
    assert (
        '<span lang="en">The national geological survey.</span>'
        in client.get(url, HTTP_ACCEPT_LANGUAGE="tg").content.decode()
    )


# --- the admin, the API and history ------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        ("deposits/deposit", [("description_ru", "description_tg")]),
        ("cooperation/event", [("title_ru", "title_tg"), ("description_ru", "description_tg")]),
        (
            "cooperation/memorandum",
            [("title_ru", "title_tg"), ("description_ru", "description_tg")],
        ),
        (
            "cooperation/initiative",
            [("title_ru", "title_tg"), ("description_ru", "description_tg")],
        ),
        ("cooperation/organisation", [("description_ru", "description_tg")]),
        ("cooperation/topic", [("description_ru", "description_tg")]),
    ],
)
def test_the_admin_form_puts_the_languages_side_by_side(admin_client, model, fields):
    html = admin_client.get(f"/admin/{model}/add/").content.decode()
    for russian, tajik in fields:
        assert f'class="form-row field-{russian} field-{tajik}"' in html


def test_the_admin_saves_a_translation_into_history(admin_client):
    event = EventFactory(title="Forum on geology", visibility="public")
    form = admin_client.get(f"/admin/cooperation/event/{event.pk}/change/").context["adminform"]
    data = {
        name: value
        for name, value in form.form.initial.items()
        if value is not None and name in form.form.fields
    }
    data.update(
        {
            "title_ru": "Форум по геологии",
            "title_tg": "Форуми геология",
            "version": event.version,
            "participants-TOTAL_FORMS": 0,
            "participants-INITIAL_FORMS": 0,
            "topic_links-TOTAL_FORMS": 0,
            "topic_links-INITIAL_FORMS": 0,
            "sources": "test fixture",
        }
    )
    response = admin_client.post(f"/admin/cooperation/event/{event.pk}/change/", data)
    assert response.status_code == 302, response.context["errors"]
    event.refresh_from_db()
    assert (event.title_ru, event.title_tg) == ("Форум по геологии", "Форуми геология")
    latest = event.history.latest()
    assert latest.title_ru == "Форум по геологии"
    assert latest.prev_record.title_ru == ""


def test_the_api_reads_and_writes_the_translations_as_extra_fields(staff_api_client):
    deposit = DepositFactory(description="Gold.", description_ru="Золото.")
    CommodityFactory(deposit=deposit, reported_share_pct=Decimal("5"), reported_share_source="x")
    document = staff_api_client.get(f"/api/v1/deposits/{deposit.public_id}/").json()
    assert (document["description"], document["description_ru"], document["description_tg"]) == (
        "Gold.",
        "Золото.",
        "",
    )
    response = staff_api_client.patch(
        f"/api/v1/deposits/{deposit.public_id}/",
        {"description_tg": "Тилло."},
        format="json",
        HTTP_IF_MATCH=staff_api_client.get(f"/api/v1/deposits/{deposit.public_id}/")["ETag"],
    )
    assert response.status_code == 200, response.content
    deposit.refresh_from_db()
    assert deposit.description_tg == "Тилло."
    assert deposit.history.latest().description_tg == "Тилло."

    event = EventFactory(title="Forum", title_tg="Форум", visibility="public")
    body = staff_api_client.get(f"/api/v1/events/{event.public_id}/").json()
    assert (body["title"], body["title_ru"], body["title_tg"]) == ("Forum", "", "Форум")
    assert {"description_ru", "description_tg"} <= set(body)
    for model, url in ((Memorandum, "memoranda"), (Initiative, "initiatives")):
        record = (MemorandumFactory if model is Memorandum else InitiativeFactory)(
            visibility="public"
        )
        body = staff_api_client.get(f"/api/v1/{url}/{record.public_id}/").json()
        assert {"title", "title_ru", "title_tg", "description_ru", "description_tg"} <= set(body)
    organisation = OrganisationFactory(description_tg="Хадамоти геологӣ")
    body = staff_api_client.get(f"/api/v1/organizations/{organisation.public_id}/").json()
    assert body["description_tg"] == "Хадамоти геологӣ"
    assert Organisation.objects.get().history.latest().description_tg == "Хадамоти геологӣ"


def test_the_schema_documents_the_translations(staff_api_client):
    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    assert {"description_ru", "description_tg"} <= set(schemas["Deposit"]["properties"])
    for name in ("Event", "Memorandum", "Initiative"):
        assert {"title_ru", "title_tg", "description_ru", "description_tg"} <= set(
            schemas[name]["properties"]
        )


def test_a_search_suggests_an_event_by_its_russian_title_in_the_readers_language(client):
    EventFactory(title="Mining forum", title_ru="Горный форум", visibility="public")
    found = client.get("/api/v1/search/", {"q": "Горный форум"}, HTTP_ACCEPT_LANGUAGE="ru").json()
    events = [s for s in found["results"] if s["kind"] == "event"]
    assert events and events[0]["label"] == "Горный форум"


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "Hydrothermal"), ("ru", "Гидротермальное"), ("tg", "Гидротермалӣ")],
)
def test_deposit_types_are_vocabulary_in_the_readers_language(client, language, label):
    deposit = DepositFactory(name="Takob", deposit_type="Hydrothermal")
    DepositFactory(name="Kaldzhar", deposit_type="Skarn, as a clerk wrote it")
    detail = client.get(deposit.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
    listing = client.get(reverse("deposit-list"), HTTP_ACCEPT_LANGUAGE=language)
    assert f"<dd>{label}</dd>" in detail.content.decode()
    assert listing.content.decode().count(f"<td>{label}</td>") == 1
    choices = dict(listing.context["form"].fields["deposit_type"].choices)
    assert choices["Hydrothermal"] == label
    assert choices["Skarn, as a clerk wrote it"] == "Skarn, as a clerk wrote it"
