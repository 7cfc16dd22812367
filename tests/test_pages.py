"""The analyst pages: each renders, filters like the API, survives bad input, hides what it must."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from deposits.models import Deposit, DepositCommodity
from kernel.models import Visibility
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MineralFactory,
    RegionFactory,
    ReserveEstimateFactory,
)

pytestmark = pytest.mark.django_db

LIST = reverse("deposit-list")


@pytest.fixture(autouse=True)
def _pages(pages_settings):
    pass


@pytest.fixture
def konimansur():
    """Konimansuri Kalon as the demo has it: silver main (70% reported), lead and zinc."""
    sughd = RegionFactory()
    deposit = DepositFactory(
        name="Konimansuri Kalon",
        aliases=["Konimansur", "Koni Mansour", "Большой Конимансур"],
        region=sughd,
        latitude=Decimal("40.05"),
        longitude=Decimal("69.70"),
        sources=["ASIA-Plus, 13 Dec 2024"],
    )
    CommodityFactory(
        deposit=deposit,
        mineral=MineralFactory(),
        reported_share_pct=Decimal("70"),
        reported_share_source="Roundtable report, 9 Dec 2024",
    )
    lead = MineralFactory(code="lead", symbol="Pb", name="Lead", name_ru="Свинец", group="base")
    CommodityFactory(deposit=deposit, mineral=lead, role=DepositCommodity.Role.ASSOCIATED)
    return deposit


@pytest.fixture
def gold_in_khatlon():
    khatlon = RegionFactory(code="TJ-KT", name="Khatlon", name_ru="Хатлонская область")
    gold = MineralFactory(code="gold", symbol="Au", name="Gold", name_ru="Золото")
    deposit = DepositFactory(name="Golden Valley", region=khatlon)
    CommodityFactory(deposit=deposit, mineral=gold)
    return deposit


@pytest.fixture
def internal_deposit():
    deposit = DepositFactory(name="Secret Ridge", visibility=Visibility.INTERNAL)
    CommodityFactory(deposit=deposit, mineral=MineralFactory())
    return deposit


def names_in(response) -> list[str]:
    return [d.name for d in response.context["page"].object_list]


# --- every page renders ------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        reverse("home"),
        LIST,
        reverse("mineral-detail", args=["silver"]),
        reverse("region-detail", args=["TJ-SU"]),
    ],
)
def test_pages_render(client, konimansur, gold_in_khatlon, url):
    response = client.get(url)
    assert response.status_code == 200
    assert b"<main" in response.content


def test_home_shows_counts_charts_and_latest_changes(client, konimansur, gold_in_khatlon):
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert "Deposits per mineral" in html
    assert "Konimansuri Kalon" in html  # top share of silver, and the latest changes
    charts = dict(response.context["share_charts"])
    silver = next(m for m in charts if m.code == "silver")
    assert [(r.deposit.name, r.share_pct, r.share_basis) for r in charts[silver]] == [
        ("Konimansuri Kalon", Decimal("70.000"), "reported")
    ]
    assert {r.code: r.deposit_count for r in response.context["regions"]}["TJ-KT"] == 1


def test_deposit_page_shows_minerals_shares_reserves_and_sources(client, konimansur):
    ReserveEstimateFactory(
        deposit=konimansur,
        mineral=konimansur.commodities.get(mineral__code="lead").mineral,
        category="C2",
        balance=True,
        quantity=Decimal("1200"),
    )
    response = client.get(konimansur.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "70%" in html and "Roundtable report, 9 Dec 2024" in html
    assert "Inferred" in html  # C2's usual CRIRSCO counterpart, as guidance
    assert "ASIA-Plus, 13 Dec 2024" in html
    assert "Change history" not in html and "/admin/" not in html.split("<main")[1]


def test_staff_see_history_and_an_edit_link(client, editor, konimansur):
    client.force_login(editor)
    html = client.get(konimansur.get_absolute_url()).content.decode()
    assert "Change history" in html
    assert reverse("admin:deposits_deposit_change", args=[konimansur.pk]) in html


def test_mineral_page_ranks_deposits_and_totals_categories(client, konimansur):
    silver = konimansur.commodities.get(role="main").mineral
    ReserveEstimateFactory(deposit=konimansur, mineral=silver, category="C1", quantity=Decimal("5"))
    other = DepositFactory(name="Small Silver")
    CommodityFactory(deposit=other, mineral=silver)
    ReserveEstimateFactory(deposit=other, mineral=silver, category="B", quantity=Decimal("15"))
    CommodityFactory(deposit=DepositFactory(name="Unexplored"), mineral=silver)  # holds none
    response = client.get(silver.get_absolute_url())
    assert [(r.deposit.name, r.share_pct) for r in response.context["ranking"]] == [
        ("Small Silver", Decimal("75.00")),
        ("Konimansuri Kalon", Decimal("25.00")),
    ]
    totals = {row["category"]: row["quantity"] for row in response.context["totals"]}
    assert totals == {"B": Decimal(15), "C1": Decimal(5)}


def test_mineral_totals_count_only_deposits_the_visitor_may_see(client, editor, konimansur):
    silver = konimansur.commodities.get(role="main").mineral
    ReserveEstimateFactory(deposit=konimansur, mineral=silver, category="C1", quantity=Decimal("5"))
    hidden = DepositFactory(name="Secret Ridge", visibility=Visibility.INTERNAL)
    CommodityFactory(deposit=hidden, mineral=silver)
    ReserveEstimateFactory(deposit=hidden, mineral=silver, category="C1", quantity=Decimal("20"))

    def c1_total():
        totals = client.get(silver.get_absolute_url()).context["totals"]
        return {row["category"]: row["quantity"] for row in totals}["C1"]

    assert c1_total() == Decimal(5)
    client.force_login(editor)
    assert c1_total() == Decimal(25)


def test_unknown_records_answer_404(client):
    assert client.get(reverse("deposit-detail", args=["TJD-999999"])).status_code == 404
    assert client.get(reverse("mineral-detail", args=["unobtainium"])).status_code == 404
    assert client.get(reverse("region-detail", args=["TJ-XX"])).status_code == 404


# --- the list filters like the API -------------------------------------------


def test_filter_silver_in_sughd(client, konimansur, gold_in_khatlon):
    response = client.get(LIST, {"mineral": "silver", "region": "TJ-SU"})
    assert names_in(response) == ["Konimansuri Kalon"]
    assert "1 deposit matches." in response.content.decode()


def test_the_table_shows_minerals_with_roles_and_shares_in_the_page_language(
    client, viewer, konimansur, gold_in_khatlon, internal_deposit
):
    gold = gold_in_khatlon.commodities.get().mineral
    ReserveEstimateFactory(deposit=gold_in_khatlon, mineral=gold, quantity=Decimal("2"))
    ReserveEstimateFactory(mineral=gold, quantity=Decimal("4"))  # nationally 6 t: 33.33%
    client.force_login(viewer)
    html = client.get(LIST).content.decode()
    assert (
        '<a href="/minerals/silver/">Silver</a>: 70% <span class="muted">(reported)</span>' in html
    )
    assert '<a href="/minerals/lead/">Lead</a> <span class="muted">(associated)</span></li>' in html
    assert (
        '<a href="/minerals/gold/">Gold</a>: 33.33% <span class="muted">(computed)</span>' in html
    )
    assert '<a href="/regions/TJ-SU/">Sughd</a>' in html
    assert "Konimansur, Koni Mansour, Большой Конимансур" in html
    assert '<span class="badge internal">Internal</span>' in html
    russian = client.get(LIST, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<a href="/minerals/gold/">Золото</a>: 33,33%' in russian
    assert '<a href="/regions/TJ-SU/">Согдийская область</a>' in russian


def test_the_filter_form_shows_the_choices_it_applied(client, konimansur, gold_in_khatlon):
    """The selects (templates/deposits/widgets/select.html) keep what the analyst chose."""
    html = client.get(
        LIST, {"mineral": "silver", "region": "TJ-SU", "status": "explored", "critical": "true"}
    ).content.decode()
    assert '<select name="mineral" id="id_mineral" multiple>' in html
    assert (  # no test mineral is critical: choosing silver under critical=true lists none
        '<option value="silver" selected data-name="Silver" data-words="Ag silver Нуқра Серебро"'
        ' data-count="0">Silver (0)</option>'
    ) in html
    assert '<option value="gold" data-name="Gold"' in html
    assert '<option value="TJ-SU" selected data-name="Sughd"' in html
    assert '<option value="TJ-KT" data-name="Khatlon"' in html
    assert '<option value="explored" selected>' in html
    assert '<option value="producing">' in html
    assert '<option value="true" selected>Yes</option>' in html
    assert '<option value="unknown">Any</option>' in html


# --- the active filters as chips, the counts of the choices ------------------------------


def chips_of(response) -> list[tuple[str, str, str]]:
    return [(str(c["label"]), str(c["value"]), c["url"]) for c in response.context["chips"]]


def test_each_active_filter_value_is_a_chip_linking_the_list_without_it(
    client, konimansur, gold_in_khatlon
):
    rest = "critical=unknown&q=&ordering=-name"
    response = client.get(f"{LIST}?mineral=silver&mineral=gold&region=TJ-SU&{rest}&page=2")
    assert chips_of(response) == [
        ("Mineral", "Silver", f"{LIST}?mineral=gold&region=TJ-SU&{rest}"),
        ("Mineral", "Gold", f"{LIST}?mineral=silver&region=TJ-SU&{rest}"),
        ("Region", "Sughd", f"{LIST}?mineral=silver&mineral=gold&{rest}"),
    ]  # "Any" and an empty search are no filter; the page number goes, the order stays
    html = response.content.decode()
    assert '<ul class="chips" aria-label="Active filters">' in html
    assert (
        f'<a class="chip" href="{LIST}?mineral=silver&amp;mineral=gold&amp;critical=unknown'
        '&amp;q=&amp;ordering=-name"><span class="visually-hidden">Remove the filter</span>'
        " Region: <strong>Sughd</strong>"
    ) in html
    assert f'<a class="clear-all" href="{LIST}?ordering=-name">Clear all filters</a>' in html
    assert "<summary>Filters (3)</summary>" in html
    # following a chip's link lists what it says
    assert names_in(client.get(chips_of(response)[2][2])) == ["Konimansuri Kalon", "Golden Valley"]


def test_chips_name_every_kind_of_filter_in_the_page_language(client, konimansur):
    params = {
        "mineral": "silver",
        "min_share": "50",
        "region": "TJ-SU",
        "status": "explored",
        "critical": "true",
        "q": "Koni",
        "as_of": "2025-01-01",
    }
    assert [c[:2] for c in chips_of(client.get(LIST, params, HTTP_ACCEPT_LANGUAGE="ru"))] == [
        ("Полезное ископаемое", "Серебро"),
        ("Регион", "Согдийская область"),
        ("Состояние", "разведано"),
        ("Критически важное полезное ископаемое", "Да"),
        ("Минимальная доля запасов (%)", "50"),
        ("Данные на дату", "2025-01-01"),
        ("Название или другое написание", "Koni"),
    ]
    assert [c[:2] for c in chips_of(client.get(LIST, params, HTTP_ACCEPT_LANGUAGE="tg"))][:2] == [
        ("Маъдан", "Нуқра"),
        ("Вилоят", "Вилояти Суғд"),
    ]


def test_removing_the_last_mineral_removes_the_share_measured_on_it(client, konimansur):
    chips = chips_of(client.get(LIST, {"mineral": "silver", "min_share": "50"}))
    assert chips == [
        ("Mineral", "Silver", LIST),
        ("Minimum reserve share (%)", "50", f"{LIST}?mineral=silver"),
    ]
    assert client.get(chips[0][2]).context["valid"]


def test_a_refused_value_is_a_chip_as_written_and_removing_it_mends_the_list(client, konimansur):
    response = client.get(LIST, {"mineral": ["silver", "unobtainium"]})
    assert not response.context["valid"]
    assert chips_of(response) == [
        ("Mineral", "Silver", f"{LIST}?mineral=unobtainium"),
        ("Mineral", "unobtainium", f"{LIST}?mineral=silver"),
    ]
    assert names_in(client.get(chips_of(response)[1][2])) == ["Konimansuri Kalon"]
    assert '<details class="filter-panel" open>' in response.content.decode()


def test_no_filter_no_chips(client, konimansur):
    response = client.get(LIST, {"ordering": "name", "critical": "unknown", "min_share": " "})
    assert response.context["chips"] == []
    html = response.content.decode()
    assert 'class="chips"' not in html and "<summary>Filters</summary>" in html


def choice_counts(response, name) -> dict[str, int | None]:
    choices = response.context["form"].fields[name].widget.choices
    return {value: choice.count for value, choice in choices}


def test_each_mineral_and_region_says_how_many_deposits_choosing_it_would_list(
    client, viewer, konimansur, gold_in_khatlon, internal_deposit
):
    """Counted under the other filters, OR within its own (so what is chosen beside it
    does not change a choice's count), over the deposits the reader may see."""
    response = client.get(LIST, {"region": "TJ-SU", "mineral": "gold"})
    assert names_in(response) == []
    assert choice_counts(response, "mineral") == {"gold": 0, "lead": 1, "silver": 1}
    assert choice_counts(response, "region") == {"TJ-KT": 1, "TJ-SU": 0}
    assert choice_counts(client.get(LIST), "region") == {"TJ-KT": 1, "TJ-SU": 1}
    assert choice_counts(client.get(LIST, {"status": "producing"}), "mineral") == {
        "gold": 0,
        "lead": 0,
        "silver": 0,
    }
    assert choice_counts(client.get(LIST, {"q": "Golden"}), "region") == {"TJ-KT": 1, "TJ-SU": 0}
    client.force_login(viewer)  # the internal deposit holds silver in Sughd
    assert choice_counts(client.get(LIST), "mineral") == {"gold": 1, "lead": 1, "silver": 2}
    assert choice_counts(client.get(LIST), "region") == {"TJ-KT": 1, "TJ-SU": 2}


def test_minerals_are_not_counted_under_a_minimum_share_nor_anything_under_an_error(
    client, konimansur
):
    response = client.get(LIST, {"mineral": "silver", "min_share": "50"})
    assert names_in(response) == ["Konimansuri Kalon"]
    assert set(choice_counts(response, "mineral").values()) == {None}
    assert choice_counts(response, "region") == {"TJ-SU": 1}
    assert '<option value="silver" selected data-name="Silver"' in response.content.decode()
    refused = client.get(LIST, {"region": "TJ-XX"})
    assert set(choice_counts(refused, "region").values()) == {None}


def test_choices_are_counted_only_over_a_registry_small_enough(
    client, settings, konimansur, gold_in_khatlon, internal_deposit
):
    settings.PAGES_FILTER_COUNTS_MAX_DEPOSITS = 2  # the reader sees two deposits: counted
    assert choice_counts(client.get(LIST), "region") == {"TJ-KT": 1, "TJ-SU": 1}
    settings.PAGES_FILTER_COUNTS_MAX_DEPOSITS = 1
    response = client.get(LIST, {"mineral": "silver"})
    assert set(choice_counts(response, "mineral").values()) == {None}
    assert set(choice_counts(response, "region").values()) == {None}
    html = response.content.decode()
    assert 'data-words="Ag silver Нуқра Серебро">Silver</option>' in html


def test_choices_are_in_the_alphabetical_order_of_the_page_language(client, konimansur):
    MineralFactory(code="antimony", symbol="Sb", name="Antimony", name_ru="Сурьма", name_tg="")
    english = ["antimony", "lead", "silver"]
    assert list(choice_counts(client.get(LIST), "mineral")) == english
    russian = client.get(LIST, HTTP_ACCEPT_LANGUAGE="ru")
    assert list(choice_counts(russian, "mineral")) == ["lead", "silver", "antimony"]


def test_the_list_escapes_what_editors_typed(client):
    """Names, aliases and types are the clerks' text, written into the rows' HTML."""
    deposit = DepositFactory(
        name='<script>alert("x")</script> & Co',
        aliases=["<b>bold</b>"],
        deposit_type="vein <i>",
    )
    CommodityFactory(deposit=deposit)
    html = client.get(LIST).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</a>" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<td>vein &lt;i&gt;</td>" in html
    assert "<script>alert" not in html and "<b>bold" not in html
    chip = client.get(LIST, {"q": "<b>x</b>", "deposit_type": "vein <i>"}).content.decode()
    assert "Name or alias: <strong>&lt;b&gt;x&lt;/b&gt;</strong>" in chip
    assert "Deposit type: <strong>vein &lt;i&gt;</strong>" in chip


@pytest.mark.parametrize("text", ["konimansur", "КОНИМАНСУР", "koni mansour", "TJD-000001"])
def test_search_names_and_aliases_in_latin_and_cyrillic(client, konimansur, gold_in_khatlon, text):
    konimansur.public_id = "TJD-000001"
    konimansur.save()
    assert names_in(client.get(LIST, {"q": text})) == ["Konimansuri Kalon"]


def test_multiple_values_mean_or(client, konimansur, gold_in_khatlon):
    response = client.get(LIST, {"region": ["TJ-SU", "TJ-KT"]})
    assert set(names_in(response)) == {"Konimansuri Kalon", "Golden Valley"}


def test_minimum_share_and_critical(client, konimansur, gold_in_khatlon):
    assert names_in(client.get(LIST, {"mineral": "silver", "min_share": "50"})) == [
        "Konimansuri Kalon"
    ]
    assert names_in(client.get(LIST, {"mineral": "silver", "min_share": "80"})) == []
    assert names_in(client.get(LIST, {"critical": "true"})) == []


def test_sorting_keeps_the_filter_in_the_links(client, konimansur, gold_in_khatlon):
    response = client.get(LIST, {"region": ["TJ-SU", "TJ-KT"], "ordering": "-name"})
    assert names_in(response) == ["Konimansuri Kalon", "Golden Valley"]
    html = response.content.decode()
    assert 'aria-sort="descending"' in html
    assert "?region=TJ-SU&amp;region=TJ-KT&amp;ordering=name" in html


def test_pagination_keeps_the_filter(client, settings):
    settings.PAGES_PAGE_SIZE = 2
    for _ in range(5):
        DepositFactory()
    response = client.get(LIST, {"status": "explored", "page": "2"})
    assert response.context["page"].number == 2
    assert "status=explored&amp;page=3" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"mineral": "unobtainium"},
        {"min_share": "lots", "mineral": "silver"},
        {"min_share": "50"},  # a share needs a mineral
        {"region": "TJ-XX"},
        {"ordering": "nonsense"},
        {"bbox": "1,2,3"},
        {"critical": "perhaps"},
        {"updated_since": "yesterday"},
        {"status": "glorious"},
    ],
)
def test_bad_filters_show_the_form_with_an_error_and_no_rows(client, konimansur, params):
    response = client.get(LIST, params)
    assert response.status_code == 200
    html = response.content.decode()
    if response.context["valid"]:  # an unparseable value that Django reads as "no filter"
        assert params == {"critical": "perhaps"}
    else:
        assert 'role="alert"' in html and 'class="errorlist"' in html
        assert names_in(response) == []
        assert "export.csv" not in html


@pytest.mark.parametrize("page", ["abc", "0", "-1", "99999", "1e9", ""])
def test_bad_page_numbers_show_a_page(client, konimansur, page):
    response = client.get(LIST, {"page": page})
    assert response.status_code == 200
    assert names_in(response) == ["Konimansuri Kalon"]


@pytest.mark.parametrize("params", [{"mineral": "nope"}, {"min_share": "x", "mineral": "silver"}])
def test_bad_filters_on_export_and_map_answer_400(client, params):
    for name in ("deposit-export-csv", "deposit-export-xlsx", "deposit-map-data"):
        assert client.get(reverse(name), params).status_code == 400


# --- visibility: one implementation ------------------------------------------


def test_anonymous_visitors_see_public_records_only(client, konimansur, internal_deposit):
    assert names_in(client.get(LIST)) == ["Konimansuri Kalon"]
    assert client.get(internal_deposit.get_absolute_url()).status_code == 404
    assert "Secret Ridge" not in client.get(reverse("home")).content.decode()
    csv_text = b"".join(client.get(reverse("deposit-export-csv")).streaming_content).decode()
    assert "Secret Ridge" not in csv_text
    assert "visibility" not in client.get(LIST).context["form"].fields


def test_staff_see_partner_and_internal_records(client, viewer, konimansur, internal_deposit):
    client.force_login(viewer)
    assert set(names_in(client.get(LIST))) == {"Konimansuri Kalon", "Secret Ridge"}
    assert names_in(client.get(LIST, {"visibility": "internal"})) == ["Secret Ridge"]
    assert client.get(internal_deposit.get_absolute_url()).status_code == 200


def test_deposit_types_of_hidden_deposits_are_not_offered(client, konimansur, internal_deposit):
    internal_deposit.deposit_type = "Secret type"
    internal_deposit.save()
    choices = dict(client.get(LIST).context["form"].fields["deposit_type"].choices)
    assert "Secret type" not in choices


def test_deposit_types_offered_are_those_of_visible_deposits_in_the_database_order(client, viewer):
    types = ["skarn", "Porphyry", "porphyry", "Скарн", "skarn", "", "vein", "epithermal"]
    levels = ["public"] * 6 + ["internal", "partners"]
    for deposit_type, visibility in zip(types, levels, strict=True):
        DepositFactory(deposit_type=deposit_type, visibility=visibility)

    def offered():
        return [t for t, _ in client.get(LIST).context["form"].fields["deposit_type"].choices]

    def distinct(*levels):
        deposits = Deposit.objects.filter(visibility__in=levels).exclude(deposit_type="")
        return list(
            deposits.order_by("deposit_type").values_list("deposit_type", flat=True).distinct()
        )

    assert offered() == distinct("public") and len(offered()) == 4
    client.force_login(viewer)
    assert offered() == distinct("public", "partners", "internal") and len(offered()) == 6


# --- exports and the map -----------------------------------------------------


def test_csv_export_is_exactly_the_filtered_list(client, konimansur, gold_in_khatlon):
    response = client.get(reverse("deposit-export-csv"), {"region": "TJ-SU"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:2] == ["Identifier", "Name"]
    assert [r[1] for r in rows[1:]] == ["Konimansuri Kalon"]
    shares = rows[1][rows[0].index("Reserve shares (% of national reserves)")]
    assert "Silver 70.00% (reported)" in shares


def test_exports_never_write_formulas(client):
    DepositFactory(name='=HYPERLINK("http://evil")', aliases=["+1-2", "@cmd"])
    csv_text = b"".join(client.get(reverse("deposit-export-csv")).streaming_content).decode()
    assert "'=HYPERLINK" in csv_text and "'+1-2; @cmd" in csv_text
    response = client.get(reverse("deposit-export-xlsx"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    name = sheet.cell(row=2, column=2)
    assert name.value == '=HYPERLINK("http://evil")' and name.data_type == "s"


def test_xlsx_export_matches_the_list(client, konimansur, gold_in_khatlon):
    response = client.get(reverse("deposit-export-xlsx"), {"mineral": "gold"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.values)
    assert rows[0][0] == "Identifier"
    assert [r[1] for r in rows[1:]] == ["Golden Valley"]


def test_map_data_are_the_filtered_located_deposits(client, konimansur, gold_in_khatlon):
    data = client.get(reverse("deposit-map-data"), {"mineral": "silver"}).json()
    assert data["deposits"] == [[konimansur.public_id, "Konimansuri Kalon", 40.05, 69.7]]
    head, tail = data["url"]
    assert head + konimansur.public_id + tail == konimansur.get_absolute_url()
    assert client.get(reverse("deposit-map-data"), {"mineral": "gold"}).json()["deposits"] == []


def test_map_data_are_capped(client, settings):
    settings.PAGES_MAP_MAX_POINTS = 2
    for _ in range(3):
        DepositFactory(latitude=Decimal("38.5"), longitude=Decimal("68.8"))
    data = client.get(reverse("deposit-map-data")).json()
    assert len(data["deposits"]) == 2 and data["truncated"] is True


def test_pages_load_no_asset_from_the_internet(client, konimansur):
    for url in (reverse("home"), LIST, konimansur.get_absolute_url()):
        html = client.get(url).content.decode()
        assert "<script>" not in html  # data in JSON blocks, code in static files
        for attribute in ('src="http', 'href="http', 'src="//', 'href="//'):
            assert attribute not in html, url


# --- performance: no query per row -------------------------------------------


def make_deposits(count: int) -> None:
    silver = MineralFactory()
    lead = MineralFactory(code="lead", symbol="Pb", name="Lead", group="base")
    for _ in range(count):
        deposit = DepositFactory(latitude=Decimal("39.5"), longitude=Decimal("69.5"))
        CommodityFactory(deposit=deposit, mineral=silver)
        CommodityFactory(deposit=deposit, mineral=lead, role=DepositCommodity.Role.ASSOCIATED)
        ReserveEstimateFactory(deposit=deposit, mineral=silver)


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


# The deposit list page, on every engine: count, the page's rows with their regions, the
# rows' minerals with their shares (`prefetch_commodities`), the minerals, regions and
# belts of the form's choices, the deposit types offered (those of visible deposits), the
# deposits the map cannot draw (its note), and whether the reader sees few enough deposits
# to count the choices (`choice_counts`). Validating a mineral and a region filter adds one
# query each; counting the choices one grouped query for the minerals and one for the
# regions.
LIST_QUERIES = 9


@pytest.mark.parametrize("params", [{}, {"mineral": "silver", "region": "TJ-SU"}])
@pytest.mark.parametrize("counted", [True, False])
def test_list_query_count_does_not_grow_with_rows(client, settings, params, counted):
    settings.PAGES_FILTER_COUNTS_MAX_DEPOSITS = 1_000 if counted else 2
    make_deposits(3)
    few = count_queries(client, LIST, params)
    make_deposits(30)
    expected = LIST_QUERIES + (2 if params else 0) + (2 if counted else 0)
    assert count_queries(client, LIST, params) == few == expected


def test_export_and_map_query_counts_do_not_grow_with_rows(client):
    make_deposits(3)
    few = [count_queries(client, reverse(n)) for n in ("deposit-export-csv", "deposit-map-data")]
    make_deposits(30)
    many = [count_queries(client, reverse(n)) for n in ("deposit-export-csv", "deposit-map-data")]
    assert few == many


def test_home_detail_mineral_and_region_query_counts_do_not_grow_with_rows(client, konimansur):
    urls = [
        reverse("home"),
        konimansur.get_absolute_url(),
        reverse("mineral-detail", args=["silver"]),
        reverse("region-detail", args=["TJ-SU"]),
    ]
    make_deposits(3)
    few = [count_queries(client, url) for url in urls]
    make_deposits(30)
    gold = MineralFactory(code="gold", symbol="Au", name="Gold")  # a second ranking
    CommodityFactory(deposit=konimansur, mineral=gold, role=DepositCommodity.Role.ASSOCIATED)
    ReserveEstimateFactory(deposit=konimansur, mineral=gold)
    assert [count_queries(client, url) for url in urls] == few


# --- languages ---------------------------------------------------------------


def test_language_switcher_changes_the_page_language(client, konimansur):
    response = client.post(
        reverse("set_language"), {"language": "ru", "next": konimansur.get_absolute_url()}
    )
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert '<html lang="ru">' in html
    assert "Доля в запасах страны" in html  # translated page text
    assert "Согдийская область" in html and "Серебро" in html  # data names in Russian


@pytest.mark.parametrize(
    ("language", "text", "region"),
    [
        ("en", "Deposits per mineral", "Sughd"),
        ("ru", "Месторождения по полезным ископаемым", "Согдийская область"),
        ("tg", "Конҳо аз рӯи маъданҳо", "Вилояти Суғд"),
    ],
)
def test_every_language_has_its_texts_and_names(client, konimansur, language, text, region):
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert text in html and region in html


@pytest.mark.parametrize(
    ("language", "shown"),
    [("en", "Konimansuri Kalon"), ("ru", "Большой Конимансур"), ("tg", "Konimansuri Kalon")],
)
def test_a_deposit_is_named_in_the_page_language(client, konimansur, language, shown):
    """Russian and Tajik names where the registry has them, English otherwise."""
    konimansur.name_ru = "Большой Конимансур"
    konimansur.save()
    for url in (konimansur.get_absolute_url(), reverse("deposit-list")):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert f">{shown}<" in html, (url, language)


def test_numbers_follow_the_locale(client, konimansur):
    commodity = konimansur.commodities.get(role="main")
    commodity.reported_share_pct = Decimal("12.5")
    commodity.save()
    assert "12.5%" in client.get(konimansur.get_absolute_url()).content.decode()
    html = client.get(konimansur.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "12,5%" in html


# --- cooperation pages -------------------------------------------------------


@pytest.fixture
def roundtable(konimansur):
    """The Dec 2024 roundtable with Konimansur in focus, a party memorandum, an initiative."""
    from tests.factories import (
        EventParticipantFactory,
        EventTopicFactory,
        InitiativeFactory,
        MemorandumFactory,
        MemorandumPartyFactory,
        TopicFactory,
    )

    topic = TopicFactory(name="Konimansur silver")
    topic.deposits.add(konimansur)
    event = EventTopicFactory(
        topic=topic,
        role="in-focus",
        event__title="Tajikistan - Korea roundtable",
        event__start_date=date(2024, 12, 9),
    ).event
    participant = EventParticipantFactory(event=event, organisation__name="KIGAM")
    memorandum = MemorandumFactory(title="GGD - KIGAM memorandum")
    memorandum.topics.add(topic)
    MemorandumPartyFactory(memorandum=memorandum, organisation=participant.organisation)
    InitiativeFactory(title="Geodata laboratory", memorandum=memorandum)
    return event


def test_cooperation_pages_render(client, roundtable):
    index = client.get(reverse("cooperation-index")).content.decode()
    assert "Tajikistan - Korea roundtable" in index and "GGD - KIGAM memorandum" in index
    assert "Geodata laboratory" in index
    organisation = roundtable.participants.get().organisation
    memorandum = roundtable.topics.get().memoranda.get()
    for url in (
        reverse("event-detail", args=[roundtable.public_id]),
        reverse("memorandum-detail", args=[memorandum.public_id]),
        reverse("organisation-detail", args=[organisation.public_id]),
    ):
        html = client.get(url).content.decode()
        assert "Tajikistan - Korea roundtable" in html or "GGD - KIGAM" in html, url


def test_deposit_and_mineral_pages_show_their_cooperation(client, konimansur, roundtable):
    html = client.get(konimansur.get_absolute_url()).content.decode()
    assert "Tajikistan - Korea roundtable" in html and "GGD - KIGAM memorandum" in html
    assert "Dec. 9, 2024" in html


def test_hidden_cooperation_is_hidden(client, viewer, konimansur, roundtable):
    roundtable.visibility = Visibility.INTERNAL
    roundtable.save()
    assert client.get(reverse("event-detail", args=[roundtable.public_id])).status_code == 404
    assert (
        "Tajikistan - Korea roundtable"
        not in client.get(konimansur.get_absolute_url()).content.decode()
    )
    assert (
        "Tajikistan - Korea roundtable"
        not in client.get(reverse("cooperation-index")).content.decode()
    )
    client.force_login(viewer)
    assert client.get(reverse("event-detail", args=[roundtable.public_id])).status_code == 200


def test_cooperation_query_counts_do_not_grow_with_rows(client, konimansur, roundtable):
    from tests.factories import EventTopicFactory

    topic = roundtable.topic_links.get().topic
    urls = (reverse("cooperation-index"), konimansur.get_absolute_url())
    few = [count_queries(client, url) for url in urls]
    for _ in range(5):
        EventTopicFactory(topic=topic, event__visibility="public")
    assert [count_queries(client, url) for url in urls] == few


@pytest.mark.parametrize("language", ["ru", "tg"])
def test_every_page_text_is_translated(language):
    """Each {% translate "..." %} of the page templates has a Russian and a Tajik text."""
    import re
    from pathlib import Path

    from babel.messages.pofile import read_po
    from django.conf import settings

    root = Path(settings.BASE_DIR)
    with (root / "locale" / language / "LC_MESSAGES" / "django.po").open("rb") as po:
        catalog = read_po(po)
    used = set()
    for folder in ("templates/deposits", "templates/cooperation", "templates"):
        for template in (root / folder).glob("*.html"):
            used |= set(re.findall(r'{% translate "([^"]+)"', template.read_text()))

    def translation(text: str) -> str:
        message = catalog.get(text.replace("%", "%%")) or catalog.get(text)
        return message.string if message else ""

    missing = sorted(text for text in used if not translation(text))
    assert missing == []


@pytest.mark.parametrize("language", ["en", "ru", "tg"])
@pytest.mark.parametrize(
    "value",
    ["70", "70.00", "12.5", "12.50", "0.33", "0.335", "0.005", "99.999", "100", "1E+2", "0"],
)
def test_shares_are_written_as_django_writes_numbers(language, value):
    """The pages' share format is Django's `floatformat` with the share's own decimals
    (at most two), in the page's language: 70, 12,5, 0,34."""
    from django.template.defaultfilters import floatformat
    from django.utils import translation

    from deposits.templatetags.pages import percent

    share = Decimal(value)
    places = min(2, max(0, -share.normalize().as_tuple().exponent))
    with translation.override(language):
        assert percent(share) == floatformat(share, places)
        assert percent(Decimal("12.50")) == ("12.5" if language == "en" else "12,5")
    assert percent(None) == ""
