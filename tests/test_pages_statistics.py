"""The statistics page (per mineral and per region) and its paper: the PDF and the XLSX hold
the figures the screen shows, in the reader's language, counted over what the reader may
see (deposits/pages/statistics.py)."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from deposits.models import DepositCommodity
from kernel.models import Visibility
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MineralFactory,
    RegionFactory,
    ReserveEstimateFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pages(pages_settings):
    pass


@pytest.fixture
def registry():
    """Silver in Sughd: two public deposits (1,250 t and 250 t of balance C1, one also
    1000 oz t, 40 t of C2 and 10 t off-balance) and an internal one in Khatlon holding
    3,750 t of C1; gold, public, in Khatlon, with no estimate."""
    sughd = RegionFactory()
    khatlon = RegionFactory(code="TJ-KT", name="Khatlon", name_ru="Хатлонская область")
    silver = MineralFactory()
    gold = MineralFactory(code="gold", symbol="Au", name="Gold", name_ru="Золото", name_tg="Тилло")
    big = DepositFactory(name="Konimansuri Kalon", region=sughd)
    small = DepositFactory(name="Small Silver", region=sughd)
    hidden = DepositFactory(name="Secret Ridge", region=khatlon, visibility=Visibility.INTERNAL)
    for deposit in (big, small, hidden):
        CommodityFactory(deposit=deposit, mineral=silver)
    CommodityFactory(deposit=DepositFactory(name="Gold Creek", region=khatlon), mineral=gold)
    CommodityFactory(
        deposit=small, mineral=gold, role=DepositCommodity.Role.ASSOCIATED
    )  # small holds gold too
    estimate = {"mineral": silver, "category": "C1", "balance": True}
    ReserveEstimateFactory(deposit=big, quantity=Decimal("1250"), **estimate)
    ReserveEstimateFactory(deposit=small, quantity=Decimal("250"), **estimate)
    ReserveEstimateFactory(
        deposit=small, mineral=silver, category="B", quantity=Decimal("1000"), unit="oz t"
    )
    ReserveEstimateFactory(deposit=big, mineral=silver, category="C2", quantity=Decimal("40"))
    ReserveEstimateFactory(
        deposit=big, mineral=silver, category="C1", balance=False, quantity=Decimal("10")
    )
    ReserveEstimateFactory(deposit=hidden, quantity=Decimal("3750"), **estimate)
    return silver


def workbook(response):
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [list(sheet.values) for sheet in book.worksheets]


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(response.content)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def get(client, name: str, language: str = "en"):
    return client.get(reverse(name), HTTP_ACCEPT_LANGUAGE=language)


def test_the_page_the_pdf_and_the_workbook_hold_the_same_figures(client, registry):
    page = get(client, "statistics")
    assert page.status_code == 200
    html = page.content.decode()
    silver = next(m for m in page.context["minerals"] if m.code == "silver")
    # 1,250 t + 250 t + 1000 oz t (0.0311034768 t), to three places; C2 and off-balance apart.
    assert round(silver.in_force["balance_abc1"], 3) == Decimal("1500.031")
    assert silver.in_force["balance_c2"] == Decimal("40")
    assert silver.in_force["off_balance"] == Decimal("10")
    assert "1,500.031" in html and "tonnes (t)" in html
    gold = next(m for m in page.context["minerals"] if m.code == "gold")
    assert gold.in_force == {"balance_abc1": None, "balance_c2": None, "off_balance": None}

    per_mineral, per_region, cross = workbook(get(client, "statistics-xlsx"))
    assert per_mineral[0] == (
        "Mineral",
        "Symbol",
        "Deposits",
        "Balance reserves A+B+C1",
        "Balance reserves C2",
        "Off-balance reserves",
        "Unit",
    )
    # Most deposits first, then by name, as on the page.
    assert per_mineral[1:3] == [
        ("Gold", "Au", 2, None, None, None, "tonnes (t)"),
        ("Silver", "Ag", 2, pytest.approx(1500.031), 40, 10, "tonnes (t)"),
    ]
    assert [row[0] for row in per_mineral[1:3]] == [m.name for m in page.context["minerals"]]
    assert "public deposits" in per_mineral[-1][0]
    assert per_region == [
        ("Region", "Code", "Deposits"),
        ("Khatlon", "TJ-KT", 1),
        ("Sughd", "TJ-SU", 2),
    ]
    assert cross == [("Mineral", "Khatlon", "Sughd"), ("Gold", 1, 1), ("Silver", 0, 2)]

    text = pdf_text(get(client, "statistics-pdf"))
    assert "Reserves and deposits per mineral" in text and "1,500.031" in text
    assert "Deposits per mineral and region" in text and "Printed on" in text


def test_hidden_deposits_count_for_staff_only(client, editor, registry):
    """The internal deposit's 3,750 t and its place in Khatlon are in no figure anyone else
    reads: not on the page, not in the PDF, not in the workbook."""
    anonymous = [
        get(client, "statistics").content.decode(),
        pdf_text(get(client, "statistics-pdf")),
    ]
    for text in anonymous:
        assert "1,500.031" in text
        assert "5,250.031" not in text and "Secret Ridge" not in text
    per_mineral, per_region, _cross = workbook(get(client, "statistics-xlsx"))
    assert per_mineral[2][:4] == ("Silver", "Ag", 2, pytest.approx(1500.031))
    assert ("Khatlon", "TJ-KT", 1) in per_region

    client.force_login(editor)
    assert "5,250.031" in get(client, "statistics").content.decode()
    assert "5,250.031" in pdf_text(get(client, "statistics-pdf"))
    per_mineral, per_region, cross = workbook(get(client, "statistics-xlsx"))
    assert per_mineral[1][:4] == ("Silver", "Ag", 3, pytest.approx(5250.031))
    assert ("Khatlon", "TJ-KT", 2) in per_region
    assert ("Silver", 1, 2) in cross
    assert "internal ones included" in per_mineral[-1][0]


def test_the_statistics_are_in_the_readers_language(client, registry):
    html = get(client, "statistics", "ru").content.decode()
    assert "Серебро" in html and "Хатлонская область" in html
    assert "1\xa0500,031" in html
    per_mineral, per_region, cross = workbook(get(client, "statistics-xlsx", "ru"))
    assert per_mineral[0][0] == "Полезное ископаемое" and per_mineral[1][0] == "Золото"
    assert per_region[1][0] == "Хатлонская область"
    assert cross[0][1] == "Хатлонская область"
    text = pdf_text(get(client, "statistics-pdf", "tg"))
    assert "Нуқра" in text and "Тилло" in text and "Вилояти Суғд" in text


def test_every_page_links_to_the_statistics_and_they_link_to_their_paper(client, registry):
    home = get(client, "home").content.decode()
    assert f'href="{reverse("statistics")}"' in home
    page = get(client, "statistics").content.decode()
    assert reverse("statistics-pdf") in page and reverse("statistics-xlsx") in page
    assert 'aria-current="page">Statistics<' in page


def test_an_empty_registry_has_statistics_too(client):
    assert "No deposits yet." in get(client, "statistics").content.decode()
    per_mineral, per_region, cross = workbook(get(client, "statistics-xlsx"))
    assert per_mineral[-1][0] == "Counted over the public deposits in the registry."
    assert per_region == [("Region", "Code", "Deposits")]
    assert cross == [("Mineral",)]
    assert "No deposits yet." in pdf_text(get(client, "statistics-pdf"))


def test_the_statistics_as_of_a_day_sum_the_reserves_in_force_that_day(client, registry):
    """Konimansuri Kalon's 1,250 t were re-estimated at 900 t in 2024: as of the end of
    2023 the page, the PDF and the workbook still sum 1,250 t; without a day, 900 t."""
    big = registry.reserves.get(quantity=Decimal("1250"))
    big.as_of = datetime.date(2010, 1, 1)
    big.save()
    ReserveEstimateFactory(deposit=big.deposit, mineral=registry, category="C1",
                           quantity=Decimal("900"), as_of=datetime.date(2024, 3, 1))  # fmt: skip

    def silver(response):
        return next(m for m in response.context["minerals"] if m.code == "silver").in_force

    assert round(silver(get(client, "statistics"))["balance_abc1"], 3) == Decimal("1150.031")
    day = {"as_of": "2023-12-31"}
    page = client.get(reverse("statistics"), day)
    assert round(silver(page)["balance_abc1"], 3) == Decimal("1500.031")
    html = page.content.decode()
    assert "Figures as of Dec. 31, 2023" in html
    assert f"{reverse('statistics-pdf')}?as_of=2023-12-31" in html
    per_mineral = workbook(client.get(reverse("statistics-xlsx"), day))[0]
    assert ("Silver", "Ag", 2, pytest.approx(1500.031), 40, 10, "tonnes (t)") in per_mineral
    assert "Figures as of Dec. 31, 2023" in [row[0] for row in per_mineral]
    text = pdf_text(client.get(reverse("statistics-pdf"), day))
    assert "Figures as of Dec. 31, 2023" in text and "1,500.031" in text


def test_a_bad_day_is_a_form_error_on_the_statistics_page(client, registry):
    page = client.get(reverse("statistics"), {"as_of": "2023-02-30"})
    assert page.status_code == 400
    assert page.context["as_of_form"].errors["as_of"]
    assert 'aria-invalid="true"' in page.content.decode()
