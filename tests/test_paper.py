"""Paper: the deposit passport (PDF), the mineral and region pages as PDF and XLSX, and
the pages' print stylesheet, read back as a person would: the PDF's text (pypdf), its
pages as pictures (pdftoppm), the workbook's cells, and Chromium's print of a page.

pdftoppm (poppler-utils) and Chromium are Debian's, installed by .ci/run: without them
the tests that need them skip locally and fail in CI (CI=true).
"""

import io
import os
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from deposits.models import DepositCommodity
from kernel.models import Visibility
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    DistrictFactory,
    MineralFactory,
    RegionFactory,
    ReserveEstimateFactory,
)

pytestmark = pytest.mark.django_db

CHROMIUM = "/usr/bin/chromium"
PASSPORT_TITLES = {"en": "Deposit passport", "ru": "Паспорт месторождения", "tg": "Шиносномаи кон"}


@pytest.fixture(autouse=True)
def _pages(pages_settings):
    pass


def need(tool: str) -> str:
    """The path of a Debian tool the test drives: skipped without it, failed in CI."""
    path = shutil.which(tool)
    if path is None:
        reason = f"{tool} is missing: install it from Debian's packages (.ci/run does)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "paper"


@pytest.fixture
def rendered_pages() -> Path:
    """Where the passports (PDF, and their first page as PNG, one per language) and the
    printed pages are kept after the run, to be looked at: test-artifacts/paper/<engine>/,
    git-ignored like the browser tests' screenshots; one folder per database engine, as CI
    runs the two side by side."""
    folder = ARTIFACTS / connection.vendor
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def konimansur():
    """A public silver deposit with three names, a district and coordinates; its silver
    was estimated twice in C1 (only the later estimate is in force) and lead once."""
    sughd = RegionFactory()
    deposit = DepositFactory(
        name="Konimansuri Kalon",
        name_ru="Большой Конимансур",
        name_tg="Конимансури Калон",
        aliases=["Konimansur", "Koni Mansour"],
        region=sughd,
        district=DistrictFactory(region=sughd),
        latitude=Decimal("40.05"),
        longitude=Decimal("69.70"),
        sources=["ASIA-Plus 13 Dec 2024"],
    )
    silver = MineralFactory()
    CommodityFactory(deposit=deposit, mineral=silver)
    lead = MineralFactory(code="lead", symbol="Pb", name="Lead", name_ru="Свинец", name_tg="Сурб")
    CommodityFactory(
        deposit=deposit,
        mineral=lead,
        role=DepositCommodity.Role.ASSOCIATED,
        reported_share_pct=Decimal("12"),
        reported_share_source="Roundtable 2024",
    )
    estimate = {"deposit": deposit, "mineral": silver, "category": "C1", "balance": True}
    ReserveEstimateFactory(
        **estimate, quantity=Decimal("100"), as_of=date(2010, 1, 1), source="Superseded-2010"
    )
    ReserveEstimateFactory(
        **estimate,
        quantity=Decimal("1250"),
        as_of=date(2020, 6, 30),
        approved_by="GKZ",
        protocol="2040",
        source="Balance-2020",
    )
    return deposit


@pytest.fixture
def hidden_silver(konimansur):
    """An internal deposit holding three times Konimansur's silver: staff see Konimansur's
    share as 25%, anyone else as 100% of the public deposits' reserves."""
    deposit = DepositFactory(name="Secret Ridge", visibility=Visibility.INTERNAL)
    silver = konimansur.commodities.get(role="main").mineral
    CommodityFactory(deposit=deposit, mineral=silver)
    ReserveEstimateFactory(deposit=deposit, mineral=silver, quantity=Decimal("3750"))
    return deposit


def pdf_text(content: bytes) -> str:
    """The text of a PDF, its whitespace made single spaces."""
    return " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split()
    )


def passport(client, deposit, language: str = "en"):
    return client.get(
        reverse("deposit-passport", args=[deposit.public_id]), HTTP_ACCEPT_LANGUAGE=language
    )


# --- the passport ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "ru", "tg"])
def test_the_passport_is_in_the_readers_language(client, konimansur, language, rendered_pages):
    response = passport(client, konimansur, language)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert 1 <= len(reader.pages) <= 2
    name = konimansur.localized_name(language)
    assert reader.metadata.title == name
    text = pdf_text(response.content)
    assert text.index(PASSPORT_TITLES[language]) < text.index(name)
    assert "TJD-" in text and konimansur.public_id in text
    assert all(n in text for n in ("Konimansuri Kalon", "Большой Конимансур", "Конимансури Калон"))
    assert "Koni Mansour" in text and "ASIA-Plus 13 Dec 2024" in text

    # Pictures of the first page, to be looked at (a test artifact per language).
    png = rendered_pages / f"passport-{language}"
    pdf = rendered_pages / f"passport-{language}.pdf"
    pdf.write_bytes(response.content)
    subprocess.run(
        [need("pdftoppm"), "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, png],
        check=True,
    )
    assert png.with_suffix(".png").stat().st_size > 10_000


def test_the_passport_holds_the_reserves_in_force_with_their_protocol_and_source(
    client, konimansur
):
    text = pdf_text(passport(client, konimansur).content)
    in_force, history = text.split("Reserve history", 1)
    assert "1,250 t" in in_force  # the 2020 estimate, in force
    assert "Balance-2020" in in_force and "GKZ, protocol 2040" in in_force
    assert "June 30, 2020" in in_force
    assert "Superseded-2010" not in in_force  # history, replaced in 2020, and listed so
    assert "Superseded-2010" in history and "Replaced by a newer estimate" in history
    assert "Printed on" in text


def test_the_passport_in_russian_writes_figures_as_russian_does(client, konimansur):
    text = pdf_text(passport(client, konimansur, "ru").content)
    assert "1 250 t" in text or "1\xa0250 t" in text
    assert "Напечатано" in text and "Запасы по действующим оценкам" in text


def test_a_hidden_deposits_passport_is_404_for_anyone_who_may_not_see_it(
    client, editor, hidden_silver
):
    assert passport(client, hidden_silver).status_code == 404
    client.force_login(editor)
    assert passport(client, hidden_silver).status_code == 200


def test_the_passports_shares_are_the_readers(client, editor, konimansur, hidden_silver):
    """Anyone reads Konimansur's silver as a share of the public deposits' reserves, so
    the hidden deposit's 3,750 t cannot be worked out from it; staff read it of all."""
    public = pdf_text(passport(client, konimansur).content)
    assert "Silver" in public and "100%" in public and "25%" not in public
    assert "of the public deposits in the registry" in public
    assert "Secret Ridge" not in public and "3,750" not in public
    assert "12%" in public and "Roundtable 2024" in public  # lead's reported share, as stated

    client.force_login(editor)
    staff = pdf_text(passport(client, konimansur).content)
    assert "25%" in staff and "internal ones included" in staff


def test_the_passport_draws_its_map_from_the_shipped_borders(client, konimansur):
    """An SVG outline from PAGES_MAP_OUTLINE with the deposit's point, and no URL outside
    the app: the PDF carries no image fetched from anywhere."""
    from django.template.loader import render_to_string

    from deposits.pages.locator import locator_map

    locator = locator_map(konimansur.latitude, konimansur.longitude)
    svg = render_to_string("deposits/paper/_locator.html", {"locator": locator})
    assert "<circle" in svg and locator["country"].startswith("M")
    x, y = float(locator["point"]["x"]), float(locator["point"]["y"])
    assert 0 < x < locator["width"] and 0 < y < float(locator["height"])
    assert finders.find("deposits/geo/central_asia_countries_50m.geojson")


def test_the_deposit_page_and_the_admin_offer_the_passport(client, editor, konimansur):
    url = reverse("deposit-passport", args=[konimansur.public_id])
    assert url in client.get(konimansur.get_absolute_url()).content.decode()
    client.force_login(editor)
    admin_form = client.get(reverse("admin:deposits_deposit_change", args=[konimansur.pk]))
    assert url in admin_form.content.decode()


# --- charts on paper ------------------------------------------------------------------------

# The colours the charts draw C1 and production in (deposits/pages/charts.py: COLOURS).
C1_BLUE, PRODUCTION_BROWN = (0x6F, 0xA8, 0xDC), (0x8A, 0x5A, 0x00)


def drawn_colours(content: bytes, folder: Path) -> set[tuple[int, int, int]]:
    """The colours of the PDF's pages as pdftoppm draws them (PPM: a header, then RGB)."""
    pdf = folder / "drawn.pdf"
    pdf.write_bytes(content)
    subprocess.run([need("pdftoppm"), "-r", "40", pdf, folder / "page"], check=True)
    colours = set()
    for page in sorted(folder.glob("page*.ppm")):
        data = page.read_bytes()
        # "P6", width, height and the largest value, each after whitespace; one byte of
        # whitespace, then the pixels.
        header = re.match(rb"P6\s+\d+\s+\d+\s+\d+\s", data)
        pixels = data[header.end() :]
        colours |= {tuple(pixels[i : i + 3]) for i in range(0, len(pixels) - 2, 3)}
    return colours


def line(deposit, mineral, year, opening, extraction):
    from deposits.models import BalanceMovement

    return BalanceMovement.objects.create(
        deposit=deposit,
        mineral=mineral,
        category="C1",
        balance=True,
        year=year,
        unit="t",
        opening=Decimal(opening),
        extraction=Decimal(extraction),
        closing=Decimal(opening) - Decimal(extraction),
        source="State Balance of reserves",
    )


def test_the_passport_carries_the_charts_of_the_page_with_their_tables(
    client, konimansur, tmp_path, rendered_pages
):
    """The deposit's reserves at each year end (its estimates in force: 100 t from 2010,
    1,250 t from 2020; its 2021 and 2022 State Balance closings) and its production,
    drawn as on the page (inline SVG) and followed by the same figures as a table."""
    silver = konimansur.commodities.get(role="main").mineral
    line(konimansur, silver, 2021, "1250", "40")
    line(konimansur, silver, 2022, "1210", "35")
    page = client.get(konimansur.get_absolute_url())
    response = passport(client, konimansur)
    text = pdf_text(response.content)
    for chart in page.context["charts"]:
        assert chart["title"] in text
    assert "Balance reserves of Silver at the end of each year, by category (t)" in text
    assert "Production of Silver by year (t)" in text
    assert "2019 100 2020 1,250 2021 1,210 2022 1,175" in text  # the table, year by year
    assert "2021 40 2022 35" in text
    assert {C1_BLUE, PRODUCTION_BROWN} <= drawn_colours(response.content, tmp_path)
    (rendered_pages / "passport-charts-en.pdf").write_bytes(response.content)


def test_a_passport_without_figures_over_the_years_has_no_charts(client, konimansur, tmp_path):
    konimansur.reserves.filter(as_of__year=2010).delete()  # one year of figures: no chart
    response = passport(client, konimansur)
    assert "at the end of each year" not in pdf_text(response.content)
    assert C1_BLUE not in drawn_colours(response.content, tmp_path)


def test_the_mineral_pdf_carries_the_national_charts(client, silver_registry, tmp_path):
    deposit = silver_registry.commodities.get(deposit__name="Konimansuri Kalon").deposit
    line(deposit, silver_registry, 2021, "1250", "40")
    line(deposit, silver_registry, 2022, "1210", "35")
    response = client.get(reverse("mineral-pdf", args=[silver_registry.code]))
    text = pdf_text(response.content)
    assert "National reserves and production over the years" in text
    assert "National balance reserves at the end of each year, by category (t)" in text
    assert "Sums of the yearly State Balance lines of the public deposits" in text
    assert "2021 1,210 2022 1,175" in text and "2021 40 2022 35" in text
    assert {C1_BLUE, PRODUCTION_BROWN} <= drawn_colours(response.content, tmp_path)


# --- the mineral and region pages on paper -------------------------------------------------


@pytest.fixture
def silver_registry(konimansur):
    """Konimansur and two smaller silver deposits; one counted in troy ounces, so the
    national C1 total has more places than the page writes."""
    silver = konimansur.commodities.get(role="main").mineral
    for name, quantity, unit in (("Small Silver", "250", "t"), ("Tiny Silver", "1000", "oz t")):
        deposit = DepositFactory(name=name, region=konimansur.region)
        CommodityFactory(deposit=deposit, mineral=silver)
        ReserveEstimateFactory(
            deposit=deposit, mineral=silver, quantity=Decimal(quantity), unit=unit
        )
    return silver


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_mineral_workbook_holds_the_figures_of_the_page(client, silver_registry, language):
    page = client.get(silver_registry.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
    workbook_response = client.get(
        reverse("mineral-xlsx", args=[silver_registry.code]), HTTP_ACCEPT_LANGUAGE=language
    )
    assert workbook_response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(workbook_response.streaming_content)))
    totals, ranking, regions = (list(sheet.values) for sheet in workbook.worksheets)

    # National totals: 1,250 t + 250 t + 1000 oz t (0.0311034768 t), written to 3 places.
    c1 = next(row for row in page.context["totals"] if row["category"] == "C1")
    assert [row[3] for row in totals[1:]] == [pytest.approx(1500.031)]
    assert round(c1["quantity"], 3) == Decimal("1500.031")
    html = page.content.decode()
    assert ("1,500.031" if language == "en" else "1\xa0500,031") in html
    assert totals[1][4] == c1["deposits"] == 3

    # The ranking: the same deposits, places and shares as the page, and its scope.
    shown = page.context["ranking"]
    assert [r.deposit.name for r in shown] == ["Konimansuri Kalon", "Small Silver"]  # 0% left out
    rows = ranking[1 : 1 + len(shown)]
    assert [(row[0], row[2], Decimal(str(row[3]))) for row in rows] == [
        (r.place, r.deposit.public_id, r.share_pct) for r in shown
    ]
    assert rows[0][1] == konimansur_name(language)
    assert ("public deposits" if language == "en" else "открытых месторождений") in ranking[-2][0]
    assert ranking[-1][0] == (
        "State Balance: not marked complete."
        if language == "en"
        else "Государственный баланс запасов: не отмечен как полный."
    )
    assert regions[1] == (
        silver_registry.commodities.first().deposit.region.localized_name(language),
        3,
    )
    if language == "ru":
        assert totals[0][0] == "Категория" and ranking[0][3] == "Доля (%)"


def konimansur_name(language: str) -> str:
    return {"en": "Konimansuri Kalon", "ru": "Большой Конимансур"}[language]


def test_the_mineral_and_region_pdfs_hold_the_tables_of_the_page(client, silver_registry):
    mineral_pdf = client.get(reverse("mineral-pdf", args=[silver_registry.code]))
    assert mineral_pdf["Content-Type"] == "application/pdf"
    text = pdf_text(mineral_pdf.content)
    assert "National totals by category" in text and "1,500.031" in text
    assert "Konimansuri Kalon" in text and "Small Silver" in text

    region = silver_registry.commodities.first().deposit.region
    region_pdf = client.get(reverse("region-pdf", args=[region.code]), HTTP_ACCEPT_LANGUAGE="tg")
    text = pdf_text(region_pdf.content)
    assert region.name_tg in text and "Нуқра" in text

    region_xlsx = client.get(reverse("region-xlsx", args=[region.code]))
    minerals = list(
        load_workbook(io.BytesIO(b"".join(region_xlsx.streaming_content))).worksheets[0].values
    )
    assert minerals == [("Mineral", "Deposits"), ("Silver", 3), ("Lead", 1)]


def test_paper_of_unknown_records_is_404(client):
    assert client.get(reverse("deposit-passport", args=["TJD-999999"])).status_code == 404
    assert client.get(reverse("mineral-pdf", args=["unobtainium"])).status_code == 404
    assert client.get(reverse("region-xlsx", args=["TJ-XX"])).status_code == 404


# --- the print stylesheet, in Chromium -------------------------------------------------------


def test_the_mineral_page_prints_without_navigation_and_repeats_table_headers(
    client, konimansur, rendered_pages
):
    """Chromium prints the page as a person would (Ctrl+P, A4): the ranking of 50 deposits
    runs onto a second page with its header repeated, and no navigation, language switcher
    or download button is printed. The page is served to Chromium from the test client's
    answer and the app's static files: no server, nothing from the internet."""
    if not Path(CHROMIUM).exists():
        need(CHROMIUM)
    from playwright.sync_api import sync_playwright

    silver = konimansur.commodities.get(role="main").mineral
    for n in range(55):
        deposit = DepositFactory(name=f"Silver deposit {n:02}")
        CommodityFactory(deposit=deposit, mineral=silver)
        ReserveEstimateFactory(deposit=deposit, mineral=silver, quantity=Decimal(10 + n))
    html = client.get(silver.get_absolute_url()).content
    assert b"Switch language" in html

    outside = []

    def serve(route):
        path = route.request.url.removeprefix("http://testserver")
        if path == silver.get_absolute_url():
            return route.fulfill(body=html, content_type="text/html; charset=utf-8")
        found = path.startswith("/static/") and finders.find(path.removeprefix("/static/"))
        if found:
            return route.fulfill(path=found)
        outside.append(route.request.url)
        return route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.route("**/*", serve)
        page.goto(f"http://testserver{silver.get_absolute_url()}")
        printed = page.pdf(format="A4")
        browser.close()
    (rendered_pages / "mineral-printed-by-chromium.pdf").write_bytes(printed)

    pages = [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(printed)).pages]
    assert 2 <= len(pages) <= 4
    text = " ".join(pages)
    assert "Silver deposit 54" in text and "Konimansuri Kalon" in text
    for navigation in ("Switch language", "Staff log in", "Skip to content", "Spreadsheet (XLSX)"):
        assert navigation not in text
    assert "Overview" not in text  # the main navigation and the breadcrumb
    # The ranking's header on every page the ranking runs onto.
    with_ranking = [p for p in pages if "Silver deposit" in p]
    assert len(with_ranking) >= 2
    assert all("Basis of the share" in p for p in with_ranking)
    assert outside == []
