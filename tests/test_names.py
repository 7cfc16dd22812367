"""One name matcher (kernel/names.py): any spelling finds the record it names, on every
surface that searches names, and never a record the reader may not see.

The spellings are those of the sources in ../shared/data: the curated deposits' names and
aliases, the MinMod/USGS records' names and other names, and the regions' and districts'
names in English, Russian and Tajik (deposits/data/tj_admin_units.csv).
"""

import pytest
from django.test import Client
from django.urls import reverse

from deposits.models import Deposit
from kernel import names
from reports.quality import findings
from tests.factories import DepositFactory, OrganisationFactory, PersonFactory

# Every test reads the demo registry, loaded once for the module (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_for_module")]

DEPOSITS = "/api/v1/deposits/"
SEARCH = "/api/v1/search/"


@pytest.fixture
def demo(demo_for_module, db):
    """The demo registry, loaded once for the module (tests/conftest.py)."""


def first_deposit(api_client, query) -> str | None:
    response = api_client.get(DEPOSITS, {"q": query})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    return results[0]["name"] if results else None


def suggested(client, query, **params) -> list[tuple[str, str]]:
    response = client.get(SEARCH, {"q": query, **params})
    assert response.status_code == 200, response.content
    return [(r["kind"], r["id"]) for r in response.json()["results"]]


# --- the key ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spellings",
    [
        ["konimansur", "Koni Mansour", "Konimansoor", "Кони-Мансур", "KONI-MANSUR"],
        ["Jilau", "Dzhilau", "Djilau", "Джилау", "Ҷилау"],
        ["Khujand", "Khudzhand", "Худжанд", "Хуҷанд", "Xujand"],
        ["Murghob", "Murgob", "Мурғоб"],
        ["Istiqlol", "Istiklol", "Истиқлол", "Истиклол"],
        ["Shahriston", "Шаҳристон", "Шахристон"],
        ["Rushon", "Рӯшон", "Rooshon"],
        ["Ayni", "Айнӣ", "Aini", "Айни"],
        ["Yovon", "Ёвон", "Yowon"],
        ["Yakhsu", "Iakhsu", "Яхсу"],
        ["Bolshoy", "Bolshoi", "Bolshoiy", "Большой"],
        ["Taror", "Tarror", "Таррор"],
        ["Kŭhistoni", "Kuhistoni", "Кӯҳистони"],
        ["Gurufat'ma", "Gurufatma", "Гуруфатьма"],
        ["Konimansuri Kalon", "Konimansur Kalon", "Конимансури Калон"],
        ["Dara-i-Pioz", "Dara Pioz", "Дара-Пиоз"],
    ],
)
def test_spellings_of_one_name_share_one_key(spellings):
    assert len({names.key(s) for s in spellings}) == 1, {s: names.key(s) for s in spellings}


def test_tajik_letters_have_their_latin():
    assert [names.key(letter) for letter in "ғӣқӯҳҷ"] == ["g", "i", "k", "u", "h", "j"]


def test_a_key_is_its_own_key():
    for name in ["Akkhol", "Dzhizhikrut", "Юбилейное", "Oooulya", "Konimansuri Kalon"]:
        assert names.key(names.key(name)) == names.key(name), name


def test_digits_are_kept_as_they_are():
    assert names.key("SYN-000070") == "sin000070"
    assert names.score("syn-000007", ["SYN-000070"]) == 0


def test_scores_rank_exact_then_prefix_then_word_then_similar():
    assert names.score("Koni Mansour", ["Konimansur"]) == names.EXACT
    prefix = names.score("konimans", ["Konimansur"])
    word = names.score("kalon", ["Konimansuri Kalon"])
    similar = names.score("Konimnasur", ["Konimansur"])
    assert names.EXACT > prefix > word > similar >= names.MATCH
    assert names.score("Zidda", ["Ziddy"]) < names.MATCH  # one letter in four


# --- the table: at least 40 spellings from the sources, each finding its record first --

DEPOSIT_SPELLINGS = [
    ("konimansur", "Konimansuri Kalon"),
    ("Koni Mansour", "Konimansuri Kalon"),
    ("Konimansoor", "Konimansuri Kalon"),
    ("Кони-Мансур", "Konimansuri Kalon"),
    ("Большой Конимансур", "Konimansuri Kalon"),
    ("Bolshoy Konimansur", "Konimansuri Kalon"),
    ("Big Koni Mansur", "Konimansuri Kalon"),
    ("Конимансури Калон", "Konimansuri Kalon"),
    ("Konimansur Kalon", "Konimansuri Kalon"),
    ("Джилау", "Jilau"),
    ("Dzhilau", "Jilau"),
    ("Djilau", "Jilau"),
    ("Пакрут", "Pakrut"),
    ("Pokrud", "Pakrut"),
    ("Покруд", "Pakrut"),
    ("Jijikrut", "Dzhizhikrut"),
    ("Jezhikrut", "Dzhizhikrut"),
    ("Джижикрут", "Dzhizhikrut"),
    ("Tarror", "Taror"),
    ("Тарор", "Taror"),
    ("Kanchoch", "Konchoch"),
    ("Кончоч", "Konchoch"),
    ("Oltintopqon", "Altyn-Topkan"),
    ("Алтын-Топкан", "Altyn-Topkan"),
    ("Northern Altyn-Topkan", "Zarnisori Shimoli"),
    ("Зарнисори Шимолӣ", "Zarnisori Shimoli"),
    ("Maikhura", "Maykhura"),
    ("Майхура", "Maykhura"),
    ("Yakhsu", "Jakhsu"),
    ("Яхсу", "Jakhsu"),
    ("Dara-i-Pioz", "Dara-Pioz"),
    ("Дара-Пиоз", "Dara-Pioz"),
    ("Юбилейное", "Yubileinoe"),
    ("Дальнее", "Dalnee"),
    ("Чорух-Дайрон", "Chorukh-Dairon"),
    ("Акархар", "Aqarkhar"),
    ("Гуруфатьма", "Gurufat'ma"),
    ("Alimtai", "Alimtay"),
    ("Алимтай", "Alimtay"),
    ("Tanabchi", "Tanapchi"),
    ("Revat", "Rivat"),
    ("Rawat", "Rivat"),
    ("Karatag", "Qaratag"),
    ("Sherkend", "Sherqend"),
    ("Санг-Хок", "Sang-Khok"),
    ("Туюктау", "Tuyuktau"),
    ("Ходжамартис", "Khodzhamartis"),
    ("Khodzhasartys", "Khodzhamunyn, Khodzhasartys"),
    ("Мушистон", "Mushiston"),
    ("Зидды", "Ziddy"),
]


@pytest.mark.parametrize(("query", "deposit"), DEPOSIT_SPELLINGS)
def test_a_spelling_finds_its_deposit_first(demo, api_client, query, deposit):
    assert first_deposit(api_client, query) == deposit


PLACE_SPELLINGS = [
    ("Sughd", "region", "TJ-SU"),
    ("Согдийская область", "region", "TJ-SU"),
    ("Вилояти Суғд", "region", "TJ-SU"),
    ("Sogd", "region", "TJ-SU"),
    ("Khatlon", "region", "TJ-KT"),
    ("Хатлонская область", "region", "TJ-KT"),
    ("Вилояти Хатлон", "region", "TJ-KT"),
    ("Dushanbe", "region", "TJ-DU"),
    ("Шаҳри Душанбе", "region", "TJ-DU"),
    ("Горно-Бадахшанская автономная область", "region", "TJ-GB"),
    ("Kuhistoni Badakhshon", "region", "TJ-GB"),
    ("Вилояти Мухтори Кӯҳистони Бадахшон", "region", "TJ-GB"),
    ("Районы республиканского подчинения", "region", "TJ-RA"),
    ("Ноҳияҳои тобеи ҷумҳурӣ", "region", "TJ-RA"),
    ("Khujand", "district", "TJ-SU-01"),
    ("Худжанд", "district", "TJ-SU-01"),
    ("Хуҷанд", "district", "TJ-SU-01"),
    ("Пенджикент", "district", "TJ-SU-05"),
    ("Шаҳри Панҷакент", "district", "TJ-SU-05"),
    ("Kulob", "district", "TJ-KT-02"),
    ("Куляб", "district", "TJ-KT-02"),
    ("Kulyab", "district", "TJ-KT-02"),
    ("Кӯлоб", "district", "TJ-KT-02"),
    ("Hisor", "district", "TJ-RA-04"),
    ("Гиссар", "district", "TJ-RA-04"),
    ("Ҳисор", "district", "TJ-RA-04"),
    ("Asht", "district", "TJ-SU-10"),
    ("Аштский район", "district", "TJ-SU-10"),
    ("Ноҳияи Ашт", "district", "TJ-SU-10"),
    ("Мургаб", "district", "TJ-GB-05"),
    ("Murghob", "district", "TJ-GB-05"),
    ("Истаравшан", "district", "TJ-SU-06"),
    ("Vahdat", "district", "TJ-RA-01"),
    ("Ваҳдат", "district", "TJ-RA-01"),
    ("Канибадам", "district", "TJ-SU-04"),
    ("Konibodom", "district", "TJ-SU-04"),
    ("серебро", "mineral", "silver"),
    ("Нуқра", "mineral", "silver"),
    ("сурьма", "mineral", "antimony"),
    ("Тилло", "mineral", "gold"),
    ("KIGAM", "organisation", None),
    ("Кигам", "organisation", None),
]


@pytest.mark.parametrize(("query", "kind", "code"), PLACE_SPELLINGS)
def test_a_spelling_suggests_its_place_mineral_or_partner_first(
    demo, api_client, query, kind, code
):
    if code is None:
        from cooperation.models import Organisation

        code = Organisation.objects.get(acronym="KIGAM").public_id
    assert suggested(api_client, query)[0] == (kind, code)


# --- different deposits with similar names are not confused ------------------------

LOOK_ALIKES = [
    ("Zidda", "Zidda", "Ziddy"),
    ("Ziddy", "Ziddy", "Zidda"),
    ("Khodzhamumyn", "Khodzhamumyn", "Khodzhamunyn, Khodzhasartys"),
    ("Khodzhamunyn", "Khodzhamunyn, Khodzhasartys", "Khodzhamumyn"),
    ("Khodzhamartis", "Khodzhamartis", "Khodzhamunyn, Khodzhasartys"),
    ("Karatau", "Karatau", "Qaratag"),
    ("Qaratag", "Qaratag", "Karatau"),
    ("Nurek salt", "Nurek salt", "Nurek"),
    ("Nurek", "Nurek", "Nurek salt"),
    ("Chore", "Chore", "Chorukh-Dairon"),
    ("Altyn-Topkan", "Altyn-Topkan", "Zarnisori Shimoli"),
    ("Ravnou", "Ravnou", "Rivat"),
    ("Chapar", "Chapar", "Chaltash"),
    ("Konchoch", "Konchoch", "Konimansuri Kalon"),
    ("Jilau", "Jilau", "Dzhizhikrut"),
]


@pytest.mark.parametrize(("query", "meant", "other"), LOOK_ALIKES)
def test_look_alike_deposits_are_not_confused(demo, api_client, query, meant, other):
    found = [d["name"] for d in api_client.get(DEPOSITS, {"q": query}).json()["results"]]
    assert found[0] == meant
    assert other not in found[:1]


# --- where the matcher is used --------------------------------------------------------


def test_q_orders_by_match_quality_unless_an_ordering_is_asked(demo, api_client):
    found = [d["name"] for d in api_client.get(DEPOSITS, {"q": "Khodzhamunyn"}).json()["results"]]
    assert found == ["Khodzhamunyn, Khodzhasartys", "Khodzhamumyn"]
    ordered = api_client.get(DEPOSITS, {"q": "Khodzhamunyn", "ordering": "name"}).json()
    assert [d["name"] for d in ordered["results"]] == [
        "Khodzhamumyn",
        "Khodzhamunyn, Khodzhasartys",
    ]


def test_pages_and_exports_share_the_matcher(demo, client):
    page = client.get(reverse("deposit-list"), {"q": "Кони-Мансур"})
    assert "Konimansuri Kalon" in page.content.decode()
    export = client.get(reverse("deposit-export-csv"), {"q": "Джилау"})
    body = b"".join(export.streaming_content).decode()
    assert "Jilau" in body and "Konimansuri" not in body


def test_search_text_keeps_the_keys_and_follows_renames(db):
    deposit = DepositFactory(name="Konimansuri Kalon", aliases=["Кони-Мансур"])
    assert "konimansurkalon" in deposit.search_text.splitlines()
    assert "konimansur" in deposit.search_text.splitlines()
    deposit.name = "Qudratobod"
    deposit.save(update_fields=["name"])
    assert list(Deposit.objects.search("Кудратобод")) == [deposit]


def test_admin_searches_deposits_organisations_and_people(demo, editor_client):
    changelist = reverse("admin:deposits_deposit_changelist")
    page = editor_client.get(changelist, {"q": "Кони-Мансур"}).content.decode()
    assert "Konimansuri Kalon" in page
    page = editor_client.get(changelist, {"q": "Khodzhamunyn"}).content.decode()
    assert page.index("Khodzhamunyn, Khodzhasartys") < page.index("Khodzhamumyn")


def test_admin_searches_organisations_and_people_in_any_spelling(admin_client):
    OrganisationFactory(name="Main Geology Directorate", name_ru="Главное управление геологии")
    PersonFactory(name="Jamshed Khudoyorov", name_ru="Джамшед Худоёров")
    organisations = admin_client.get(
        reverse("admin:cooperation_organisation_changelist"), {"q": "glavnoe upravlenie"}
    )
    assert "Main Geology Directorate" in organisations.content.decode()
    people = admin_client.get(reverse("admin:cooperation_person_changelist"), {"q": "Dzhamshed"})
    assert "Jamshed Khudoyorov" in people.content.decode()
    people = admin_client.get(reverse("admin:cooperation_person_changelist"), {"q": "Худоёров"})
    assert "Jamshed Khudoyorov" in people.content.decode()


def test_suggestions_carry_kind_id_label_in_the_language_and_score(demo, api_client):
    body = api_client.get(SEARCH, {"q": "Кони-Мансур"}).json()
    first = body["results"][0]
    assert first["kind"] == "deposit" and first["label"] == "Konimansuri Kalon"
    assert first["score"] == 100.0
    russian = api_client.get(SEARCH, {"q": "Sughd"}, headers={"Accept-Language": "ru"}).json()
    assert russian["results"][0]["label"] == "Согдийская область"
    events = suggested(api_client, "roundtable on cooperation")
    assert events and events[0][0] == "event"
    assert len(suggested(api_client, "Kh", limit=3)) <= 3


def test_each_suggestion_links_its_page(demo, api_client, client):
    for query, kind in [
        ("Кони-Мансур", "deposit"),
        ("Sughd", "region"),
        ("silver", "mineral"),
        ("Asht", "district"),
        ("roundtable on cooperation", "event"),
        ("KIGAM", "organisation"),
    ]:
        results = api_client.get(SEARCH, {"q": query}).json()["results"]
        first = next(r for r in results if r["kind"] == kind)
        page = client.get(first["url"])
        assert page.status_code == 200, (kind, first["url"])
        if kind == "district":  # its page is its region's, which lists it
            assert first["label"] in page.content.decode()


def test_the_search_endpoint_is_in_the_schema(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/search/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"q", "limit"}
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert "$ref" in answer  # one object holding `results`, not a bare list


def test_did_you_mean_when_a_page_search_finds_nothing(demo, client):
    page = client.get(reverse("deposit-list"), {"q": "Pakrod"}).content.decode()
    assert "Did you mean:" in page
    assert "q=Pakrut" in page


def test_the_spelling_table_is_a_page_linked_from_the_list(demo, client):
    listing = client.get(reverse("deposit-list")).content.decode()
    assert reverse("name-spelling") in listing
    page = client.get(reverse("name-spelling")).content.decode()
    assert "ҷ" in page and "dzh, dj, zh, j" in page and "jijikrut" in page


# --- visibility ---------------------------------------------------------------------


@pytest.fixture
def hidden_deposits(db):
    return {
        "internal": DepositFactory(name="Qudratobod", visibility="internal"),
        "partners": DepositFactory(name="Safedobod", visibility="partners"),
    }


def test_suggestions_never_reveal_a_hidden_deposit(
    hidden_deposits, api_client, partner_client, staff_api_client
):
    assert suggested(api_client, "Qudratobod") == []
    assert suggested(api_client, "Safedobod") == []
    assert suggested(partner_client, "Safedobod") == [
        ("deposit", hidden_deposits["partners"].public_id)
    ]
    assert suggested(partner_client, "Qudratobod") == []
    assert suggested(staff_api_client, "Кудратобод") == [
        ("deposit", hidden_deposits["internal"].public_id)
    ]


def test_did_you_mean_never_reveals_a_hidden_deposit(hidden_deposits, editor_client):
    near = {"q": "Qudratabat"}
    assert names.DID_YOU_MEAN <= names.score(near["q"], ["Qudratobod"]) < names.MATCH
    anonymous = Client().get(reverse("deposit-list"), near).content.decode()
    assert "Qudratobod" not in anonymous and "Did you mean:" not in anonymous
    staff_page = editor_client.get(reverse("deposit-list"), near).content.decode()
    assert "Did you mean:" in staff_page and "Qudratobod" in staff_page


def test_hidden_events_are_not_suggested(api_client, staff_api_client):
    from tests.factories import EventFactory

    event = EventFactory(title="Closed working meeting on Qudratobod", visibility="internal")
    assert [k for k, _ in suggested(api_client, "Qudratobod")] == []
    assert ("event", event.public_id) in suggested(staff_api_client, "Qudratobod")


# --- bad input: a clear 400 or nothing, never a 500 ---------------------------------

EMPTY_ANSWERS = ["a", "Ж", "!!!", "---", "\u202e", "\u202eualij", "%", "_", "\x01\x02", "  .  "]


@pytest.mark.parametrize("query", EMPTY_ANSWERS)
def test_queries_with_nothing_to_match_find_nothing(demo, api_client, client, query):
    assert suggested(api_client, query) == []
    assert api_client.get(DEPOSITS, {"q": query}).json()["count"] == 0
    assert client.get(reverse("deposit-list"), {"q": query}).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "q"), ({"q": ""}, "q"), ({"q": "x" * 500}, "q"), ({"q": "Jil\x00au"}, "q")],
)
def test_the_search_endpoint_refuses_bad_queries_with_a_400(api_client, params, field):
    response = api_client.get(SEARCH, params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("query", ["x" * 500, "Jil\x00au"])
def test_the_q_filter_refuses_bad_queries_with_a_400(api_client, client, query):
    response = api_client.get(DEPOSITS, {"q": query})
    assert response.status_code == 400
    assert "q" in response.json()
    assert client.get(reverse("deposit-list"), {"q": query}).status_code == 200


def test_limit_is_checked(api_client):
    assert api_client.get(SEARCH, {"q": "Jilau", "limit": "0"}).status_code == 400
    assert api_client.get(SEARCH, {"q": "Jilau", "limit": "many"}).status_code == 400


# --- the data-quality report's duplicates -------------------------------------------


def test_suspected_duplicates_are_found_across_scripts(db):
    from decimal import Decimal

    # far from the demo registry's deposits, which the module may have loaded
    at = {"latitude": Decimal("37.0"), "longitude": Decimal("74.5")}
    latin = DepositFactory(name="Qudratobod", **at)
    cyrillic = DepositFactory(name="Кудратобод", **at)
    DepositFactory(name="Safedobod", **at)
    duplicates = [
        (f.record, f.message) for f in findings() if f.check == "duplicate" and "obod" in f.record
    ]
    assert duplicates == [
        (
            f"deposit {latin.public_id} Qudratobod",
            f"suspected duplicate of {cyrillic.public_id} Кудратобод (0.0 km apart)",
        )
    ]


def test_docs_show_the_tables_the_matcher_uses():
    from django.conf import settings

    text = (settings.BASE_DIR / "docs" / "search.md").read_text().replace("**", "")
    for letter, latin in names.spelling_table():
        assert f"| {letter} | {latin} |" in text, letter
    for variants, folded in names.folding_table():
        assert f"| {folded} |" in text and variants.split(" (")[0] in text, variants
