"""The registry speaks Russian and Tajik everywhere: every string shown is marked, every
marked string is in both catalogues, and every catalogue entry is translated.

How to extract, translate and compile: docs/translation.md.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils.functional import Promise

from kernel.translations import catalogue_paths, extract_messages, read_catalogue
from tests.factories import DepositFactory, ReserveEstimateFactory

LANGUAGES = ("ru", "tg")
# %(name)s, %s, %d, %r and {name}; %% is a literal percent sign, not a placeholder.
PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[-#0 +]*\d*[sdifr]|\{\w*\}")


def catalogue(language):
    return read_catalogue(Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES/django.po")


def entries(language):
    return [message for message in catalogue(language) if message.id]


def forms(text) -> tuple[str, ...]:
    return text if isinstance(text, tuple) else (text,)


def key(message) -> tuple:
    return (message.context, forms(message.id)[0])


def test_both_languages_have_a_catalogue():
    assert sorted(path.parent.parent.name for path in catalogue_paths()) == sorted(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated(language):
    untranslated = [message.id for message in entries(language) if not all(forms(message.string))]
    assert untranslated == [], f"{len(untranslated)} untranslated in {language}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_entry_is_fuzzy(language):
    """A guessed translation must be checked by a person before it reaches a page."""
    po = catalogue(language)
    assert not po.fuzzy
    assert [message.id for message in po if message.id and message.fuzzy] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders(language):
    """A placeholder lost or misspelt in a translation is a KeyError on the page."""
    wrong = []
    for message in entries(language):
        expected = sorted(PLACEHOLDER.findall(forms(message.id)[-1]))
        for translation in forms(message.string):
            if sorted(PLACEHOLDER.findall(translation)) != expected:
                wrong.append((message.id, translation))
    assert wrong == []


def test_both_catalogues_hold_the_same_strings():
    assert {key(m) for m in entries("ru")} == {key(m) for m in entries("tg")}


def test_every_marked_string_is_in_the_catalogues():
    """What `make messages` would add is already there (Python and templates alike)."""
    marked = {key(message) for message in extract_messages() if message.id}
    for language in LANGUAGES:
        missing = marked - {key(message) for message in entries(language)}
        assert sorted(missing, key=str) == [], (
            f"not in the {language} catalogue; run `make messages` and translate them"
        )


def test_extraction_reads_python_and_templates():
    """The extraction itself: gettext_lazy, pgettext_lazy and the template tags are seen."""
    found = {key(message) for message in extract_messages()}
    assert (None, "reserve estimates") in found  # a model's verbose_name_plural
    assert ("GKZ category", "C1") in found  # pgettext_lazy in a choices label
    assert (None, "Share of national reserves") in found  # {% translate %}
    assert (None, "%(n)s deposit") in found  # {% blocktranslate count %}


# Kept by the code, never shown on a page or form: their labels need no translation.
INTERNAL_FIELDS = {
    "deposits.Deposit.search_text",
    "deposits.DepositCommodity.share_kilograms",
    "registry.ApiKey.key_hash",
}


def _is_marked(text) -> bool:
    return not text or isinstance(text, Promise)


def test_the_admin_shows_no_unmarked_model_labels():
    """Model names, field labels, help texts and choices of every model the admin shows
    are marked for translation (a plain string stays English on a Russian page)."""
    unmarked = []
    models = {
        *admin.site._registry,
        *(i.model for a in admin.site._registry.values() for i in a.inlines),
    }
    for model in models:
        meta = model._meta
        if meta.app_label not in ("registry", "deposits", "cooperation"):
            continue  # Django's own (users, groups) come with Django's catalogues
        for option in ("verbose_name", "verbose_name_plural"):
            if option not in meta.original_attrs or not _is_marked(getattr(meta, option)):
                unmarked.append(f"{meta.label} {option}")
        for field in meta.get_fields():
            if field.auto_created or not (field.concrete or field.many_to_many):
                continue
            if f"{meta.label}.{field.name}" in INTERNAL_FIELDS:
                continue
            texts = [field.verbose_name, field.help_text]
            texts += [label for _value, label in field.flatchoices or ()]
            unmarked += [
                f"{meta.label}.{field.name}: {text!r}" for text in texts if not _is_marked(text)
            ]
    assert sorted(unmarked) == []


# --- what staff and analysts see -------------------------------------------------


@pytest.fixture
def _compiled(pages_settings):
    """Pages and the admin in the language asked, from the compiled catalogues."""


@pytest.mark.django_db
@pytest.mark.usefixtures("_compiled")
@pytest.mark.parametrize(
    ("language", "names"),
    [
        ("ru", ["Оценки запасов", "Месторождения", "Мероприятия", "Меморандумы", "Ключи API"]),
        ("tg", ["Арзёбиҳои захираҳо", "Конҳо", "Чорабиниҳо", "Ёддоштҳо", "Калидҳои API"]),
    ],
)
def test_the_admin_index_names_the_records_in_the_language(admin_client, language, names):
    index = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE=language)
    html = index.content.decode()
    for name in names:
        assert f">{name}</a>" in html


@pytest.mark.django_db
@pytest.mark.usefixtures("_compiled")
@pytest.mark.parametrize(
    ("language", "column", "status"),
    [("ru", "Идентификатор", "разведано"), ("tg", "Рақами мушаххас", "иктишофшуда")],
)
def test_the_deposit_list_in_the_admin_is_translated(editor_client, language, column, status):
    DepositFactory(name="Jilau")
    html = editor_client.get(
        reverse("admin:deposits_deposit_changelist"), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert column in html  # the IDENTIFIER column
    assert status in html  # a status choice


@pytest.mark.django_db
@pytest.mark.usefixtures("_compiled")
@pytest.mark.parametrize(
    ("language", "status", "category", "crirsco"),
    [
        ("ru", "разрабатывается", "С1", "Indicated (выявленные)"),
        ("tg", "истихроҷ мешавад", "С1", "Indicated (ошкоршуда)"),
    ],
)
def test_a_deposit_page_shows_translated_status_and_categories(
    client, language, status, category, crirsco
):
    deposit = DepositFactory(name="Jilau", status="producing")
    ReserveEstimateFactory(deposit=deposit, category="C1")
    html = client.get(deposit.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<dd>{status}</dd>" in html
    assert f'<th scope="row">{category}</th>' in html  # Cyrillic С, as GKZ protocols write it
    assert crirsco in html


@pytest.mark.django_db
@pytest.mark.usefixtures("_compiled")
@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("ru", ["Качество данных", "местоположение", "нет координат и нет региона"]),
        ("tg", ["Сифати маълумот", "ҷойгиршавӣ", "координатаҳо ва вилоят нестанд"]),
    ],
)
def test_the_data_quality_report_speaks_the_language(viewer_client, language, texts):
    DepositFactory(name="Konchoch", region=None)
    html = viewer_client.get(reverse("data-quality"), HTTP_ACCEPT_LANGUAGE=language)
    for text in texts:
        assert text in html.content.decode()
