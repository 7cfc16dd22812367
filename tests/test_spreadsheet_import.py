"""Spreadsheet import in the admin: preview, refusals by row, all or nothing, idempotence."""

import csv
import io
import json
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from deposits.models import Deposit, DepositCommodity, ReserveEstimate
from kernel import spreadsheets
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    DistrictFactory,
    MineralFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

CSV_FORMAT, XLSX_FORMAT = "0", "1"
HEADER = [
    "id",
    "name",
    "name_ru",
    "name_tg",
    "aliases",
    "region",
    "district",
    "latitude",
    "longitude",
    "status",
    "deposit_type",
    "belt",
    "exploration_level",
    "visibility",
    "main_minerals",
    "associated_minerals",
    "reported_shares",
    "reported_share_source",
    "description",
    "sources",
]


@pytest.fixture
def reference(db):
    RegionFactory()
    RegionFactory(code="TJ-KT", name="Khatlon")
    DistrictFactory()
    for code, symbol, name in [
        ("silver", "Ag", "Silver"),
        ("lead", "Pb", "Lead"),
        ("zinc", "Zn", "Zinc"),
        ("gold", "Au", "Gold"),
    ]:
        MineralFactory(code=code, symbol=symbol, name=name)


def deposit_row(**values):
    """A row of Konimansuri Kalon, or, given another name, of a deposit without its aliases
    (they would make it a second record of Konimansuri Kalon: deposits/entry.py)."""
    row = dict.fromkeys(HEADER, "")
    row.update(
        name="Konimansuri Kalon",
        aliases="Konimansur; Большой Конимансур",
        region="TJ-SU",
        district="TJ-SU-10",
        status="explored",
        visibility="public",
        main_minerals="silver",
        associated_minerals="lead; zinc",
        reported_shares="silver: 70",
        reported_share_source="Roundtable report, December 2024",
        sources="ASIA-Plus, 13 Dec 2024",
    )
    if values.get("name", "Konimansuri Kalon") != "Konimansuri Kalon":
        row["aliases"] = ""
    row.update(values)
    return row


def csv_file(rows, header=HEADER, name="deposits.csv", encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding), "text/csv")


def xlsx_file(rows, header=HEADER, name="deposits.xlsx"):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(column, "") for column in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), "application/vnd.ms-excel")


def preview(client, upload, file_format=CSV_FORMAT, model="deposit", **extra):
    return client.post(
        reverse(f"admin:deposits_{model}_import"),
        {"import_file": upload, "format": file_format, "resource": "0", **extra},
    )


def confirm(client, response, model="deposit"):
    form = response.context["confirm_form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    return client.post(reverse(f"admin:deposits_{model}_process_import"), data, follow=True)


def export(client, file_format):
    """Export every deposit with all columns ticked, as the export page offers by default."""
    form = client.get(reverse("admin:deposits_deposit_export")).context["form"]
    data = {name: "on" for name in form.fields if name.startswith("depositresource_")}
    data.update(format=file_format, resource="0")
    return client.post(reverse("admin:deposits_deposit_export"), data)


def refusals(response):
    """(row number, column, message) of every refused row in the preview."""
    result = response.context["result"]
    found = []
    for row in result.invalid_rows:
        for field, messages in row.error_dict.items():
            found.extend((row.number, field, message) for message in messages)
    return found


def test_preview_writes_nothing_and_confirm_imports_with_history(editor_client, editor, reference):
    response = preview(editor_client, csv_file([deposit_row()]))
    assert response.status_code == 200
    assert response.context["result"].totals["new"] == 1
    assert "confirm_form" in response.context
    assert Deposit.objects.count() == 0

    confirmed = confirm(editor_client, response)
    assert confirmed.status_code == 200
    deposit = Deposit.objects.get()
    assert deposit.public_id.startswith("TJD-")
    assert deposit.aliases == ["Konimansur", "Большой Конимансур"]
    assert deposit.district.code == "TJ-SU-10"
    roles = {c.mineral.code: c.role for c in deposit.commodities.all()}
    assert roles == {"silver": "main", "lead": "associated", "zinc": "associated"}
    silver = deposit.commodities.get(mineral__code="silver")
    assert silver.reported_share_pct == Decimal("70")
    assert deposit.history.get().history_user == editor
    assert silver.history.get().history_user == editor


def test_each_refused_row_is_named_with_its_column_and_reason(editor_client, reference):
    CommodityFactory(
        mineral=MineralFactory(code="silver"),
        reported_share_pct=Decimal("40"),
        reported_share_source="earlier report",
    )
    before = Deposit.objects.count()
    rows = [
        deposit_row(name="Good one", reported_shares="", reported_share_source=""),
        deposit_row(name="Unknown region", region="TJ-XX", reported_shares=""),
        deposit_row(name="Outside", latitude="95", longitude="70", reported_shares=""),
        deposit_row(name="Unknown mineral", main_minerals="unobtainium", reported_shares=""),
        deposit_row(name="Too much silver"),  # 40% elsewhere + 70% here
        deposit_row(name="Bad share", reported_shares="silver: plenty"),
    ]
    response = preview(editor_client, csv_file(rows))
    found = refusals(response)
    by_row = {number: (field, message) for number, field, message in found}
    assert by_row[2][0] == "region" and "TJ-XX" in by_row[2][1]
    assert by_row[3][0] == "latitude" and "outside Tajikistan" in by_row[3][1]
    assert by_row[4][0] == "main_minerals" and "unobtainium" in by_row[4][1]
    assert by_row[5][0] == "reported_share_pct" and "110" in by_row[5][1]
    assert by_row[6][0] == "reported_shares" and "mineral: percent" in by_row[6][1]
    assert 1 not in by_row
    assert "confirm_form" not in response.context  # all or nothing: no way to import
    assert Deposit.objects.count() == before


def test_import_only_the_valid_rows_when_asked(editor_client, reference):
    rows = [
        deposit_row(name="Jilau", reported_shares="", reported_share_source=""),
        deposit_row(name="Outside", latitude="95", longitude="70", reported_shares=""),
    ]
    response = preview(editor_client, csv_file(rows), import_valid_rows_only="on")
    assert len(refusals(response)) == 1
    confirm(editor_client, response)
    assert list(Deposit.objects.values_list("name", flat=True)) == ["Jilau"]
    assert DepositCommodity.objects.filter(deposit__name="Outside").count() == 0


def test_russian_and_tajik_names_import_and_an_older_sheet_without_them_still_does(
    editor_client, reference
):
    row = deposit_row(name_ru="Большой Конимансур", name_tg="Конимансури Калон")
    confirm(editor_client, preview(editor_client, csv_file([row])))
    deposit = Deposit.objects.get()
    assert (deposit.name_ru, deposit.name_tg) == ("Большой Конимансур", "Конимансури Калон")
    older = [column for column in HEADER if column not in ("name_ru", "name_tg")]
    jilau = deposit_row(name="Jilau", reported_shares="", reported_share_source="")
    row = {k: v for k, v in jilau.items() if k in older}
    confirm(editor_client, preview(editor_client, csv_file([row], header=older)))
    assert Deposit.objects.get(name="Jilau").name_ru == ""


def test_reimporting_an_export_changes_nothing(editor_client, reference):
    confirm(editor_client, preview(editor_client, csv_file([deposit_row()])))
    history = Deposit.history.count(), DepositCommodity.history.count()

    content = export(editor_client, CSV_FORMAT).content
    assert content.decode("utf-8-sig").splitlines()[0].split(",") == HEADER

    response = preview(editor_client, SimpleUploadedFile("export.csv", content, "text/csv"))
    assert response.context["result"].totals["skip"] == 1
    confirm(editor_client, response)
    assert (Deposit.history.count(), DepositCommodity.history.count()) == history


def test_export_edit_import_round_trip_updates_by_identifier(editor_client, reference):
    confirm(editor_client, preview(editor_client, csv_file([deposit_row()])))
    deposit = Deposit.objects.get()
    workbook = openpyxl.load_workbook(io.BytesIO(export(editor_client, XLSX_FORMAT).content))
    sheet = workbook.active
    header = [cell.value for cell in sheet[1]]
    sheet.cell(row=2, column=header.index("status") + 1, value="producing")
    sheet.cell(row=2, column=header.index("associated_minerals") + 1, value="lead")
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload = SimpleUploadedFile("edited.xlsx", buffer.getvalue())
    response = preview(editor_client, upload, XLSX_FORMAT)
    assert response.context["result"].totals["update"] == 1
    confirm(editor_client, response)
    deposit.refresh_from_db()
    assert deposit.status == "producing"
    assert set(deposit.commodities.values_list("mineral__code", flat=True)) == {"silver", "lead"}


def test_rows_without_identifier_match_by_alias_in_the_same_region(editor_client, reference):
    existing = DepositFactory(name="Konimansuri Kalon", aliases=["Konimansur"])
    response = preview(
        editor_client,
        csv_file([deposit_row(name="Konimansur", reported_shares="", reported_share_source="")]),
    )
    assert response.context["result"].totals["update"] == 1
    confirm(editor_client, response)
    assert Deposit.objects.get().pk == existing.pk


def test_unknown_identifier_is_refused(editor_client, reference):
    response = preview(editor_client, csv_file([deposit_row(id="TJD-999999")]))
    [(number, field, message)] = refusals(response)
    assert (number, field) == (1, "id")
    assert "unknown identifier" in message


@pytest.mark.parametrize(
    ("upload", "file_format", "message"),
    [
        (SimpleUploadedFile("empty.csv", b""), CSV_FORMAT, "file is empty"),
        (SimpleUploadedFile("blank.csv", b"\n\n"), CSV_FORMAT, "The file is empty"),
        (
            SimpleUploadedFile("fake.xlsx", b"name,region\nJilau,TJ-SU\n"),
            XLSX_FORMAT,
            "not an XLSX",
        ),
        (
            SimpleUploadedFile("latin.csv", "name\nДжилау\n".encode("cp1251")),
            CSV_FORMAT,
            "not UTF-8",
        ),
        (
            SimpleUploadedFile("formula.csv", b"name,region\n=HYPERLINK(1),TJ-SU\n"),
            CSV_FORMAT,
            "holds a formula",
        ),
        (xlsx_file([deposit_row()], name="workbook.csv"), CSV_FORMAT, "workbook (XLSX)"),
    ],
)
def test_files_that_are_not_what_they_claim(editor_client, reference, upload, file_format, message):
    response = preview(editor_client, upload, file_format)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors["import_file"])
    assert Deposit.objects.count() == 0


def test_a_formula_in_an_xlsx_cell_is_refused(editor_client, reference):
    upload = xlsx_file([deposit_row(description="=1+2")])
    response = preview(editor_client, upload, XLSX_FORMAT)
    assert "holds a formula" in str(response.context["form"].errors["import_file"])


def test_a_50_mb_file_is_refused(editor_client, reference):
    upload = SimpleUploadedFile("huge.csv", b"name\n" + b"x" * (50 * 1024 * 1024))
    response = preview(editor_client, upload)
    assert "files up to 10.0\xa0MB" in str(response.context["form"].errors["import_file"])
    assert Deposit.objects.count() == 0


def zip_bomb(sheet_megabytes: int, one_row: bool = False) -> bytes:
    """A small, valid XLSX whose first sheet's XML unpacks to `sheet_megabytes` MB."""
    workbook = openpyxl.Workbook()
    workbook.active.append(["name"])
    plain = io.BytesIO()
    workbook.save(plain)
    source = zipfile.ZipFile(plain)
    cell = b'<c t="inlineStr"><is><t>x</t></is></c>'
    chunk = (cell if one_row else b"<row>" + cell + b"</row>") * 20_000
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.infolist():
            if member.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(member, source.read(member))
                continue
            with archive.open(member.filename, "w", force_zip64=True) as sheet:
                sheet.write(
                    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                    b'main"><sheetData>' + (b"<row>" if one_row else b"")
                )
                for _chunk in range(sheet_megabytes * 2**20 // len(chunk)):
                    sheet.write(chunk)
                sheet.write((b"</row>" if one_row else b"") + b"</sheetData></worksheet>")
    return bomb.getvalue()


def test_a_zip_bomb_is_refused_at_once_and_nothing_is_imported(editor_client, reference):
    bomb = zip_bomb(300)
    assert len(bomb) < 1024 * 1024
    started = time.monotonic()
    response = preview(editor_client, SimpleUploadedFile("bomb.xlsx", bomb), XLSX_FORMAT)
    took = time.monotonic() - started
    error = str(response.context["form"].errors["import_file"])
    assert "unpacks to 299.1\xa0MB" in error and "up to 10.0\xa0MB unpacked" in error
    assert took < 5, took
    assert Deposit.objects.count() == 0
    # The refusal's time (docs/reliability.md): the whole admin preview, and the check alone.
    started = time.monotonic()
    with pytest.raises(ValidationError):
        spreadsheets.check_upload(bomb, "xlsx")
    check = time.monotonic() - started
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "zip-bomb.json").write_text(
        json.dumps({"bytes": len(bomb), "admin_preview_seconds": took, "check_seconds": check})
    )


@pytest.mark.parametrize(
    ("limit", "value", "upload", "message"),
    [
        ("MAX_ROWS", 2, lambda: xlsx_file([deposit_row()] * 3), "more than 2 rows"),
        ("MAX_ROWS", 2, lambda: csv_file([deposit_row()] * 3), "more than 2 rows"),
        ("MAX_COLUMNS", 19, lambda: xlsx_file([deposit_row()]), "Row 1 has 20 columns"),
        ("MAX_COLUMNS", 19, lambda: csv_file([deposit_row()]), "Row 1 has 20 columns"),
        ("MAX_CELLS", 50, lambda: xlsx_file([deposit_row()] * 2), "more than 50 cells"),
        ("MAX_CHECK_SECONDS", -1, lambda: xlsx_file([deposit_row()]), "within -1 seconds"),
        ("MAX_UNPACKED_BYTES", 1000, lambda: xlsx_file([deposit_row()]), "unpacks to"),
    ],
)
def test_every_bound_of_the_file_check_refuses_with_a_clear_message(
    editor_client, reference, monkeypatch, limit, value, upload, message
):
    monkeypatch.setattr(spreadsheets, limit, value)
    file_format = XLSX_FORMAT if upload().name.endswith("xlsx") else CSV_FORMAT
    response = preview(editor_client, upload(), file_format)
    assert message in str(response.context["form"].errors["import_file"])
    assert Deposit.objects.count() == 0


def test_one_row_of_many_cells_is_refused_within_the_time_bound(editor_client, reference):
    """openpyxl reads a whole row before the check sees it: the unpacked size bounds it."""
    bomb = zip_bomb(4, one_row=True)
    started = time.monotonic()
    response = preview(editor_client, SimpleUploadedFile("row.xlsx", bomb), XLSX_FORMAT)
    assert "columns" in str(response.context["form"].errors["import_file"])
    assert time.monotonic() - started < 2 * spreadsheets.MAX_CHECK_SECONDS


@pytest.mark.parametrize(
    "value",
    ["=1+2", '+HYPERLINK("http://x")', "@SUM(A1)", "-2+3+cmd|' /C calc'!A0", "\tx", "\r=1"],
)
@pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT])
def test_every_formula_prefix_is_refused_with_its_row(editor_client, reference, value, file_format):
    rows = [deposit_row(name="Jilau"), deposit_row(name=value)]
    upload = csv_file(rows) if file_format == CSV_FORMAT else xlsx_file(rows)
    response = preview(editor_client, upload, file_format)
    error = str(response.context["form"].errors["import_file"])
    assert "holds a formula" in error
    assert ("Row 3, column name" if file_format == CSV_FORMAT else "Cell B3") in error
    assert Deposit.objects.count() == 0


@pytest.mark.parametrize("value", ["-38.5", "+38.5", "-1e3", "-0,5"])
def test_a_negative_number_is_no_formula(value):
    assert not spreadsheets.is_formula(value)
    assert spreadsheets.is_formula(value + "+1")


def test_a_name_with_a_hidden_character_is_refused_by_row(editor_client, reference):
    rows = [deposit_row(name="Jilau"), deposit_row(name="Konimansur\u202eriaD")]
    response = preview(editor_client, csv_file(rows))
    [(number, column, message)] = refusals(response)
    assert (number, column) == (2, "name")
    assert "U+202E" in message and "RIGHT-TO-LEFT OVERRIDE" in message


def test_exported_text_that_looks_like_a_formula_is_made_inert(editor_client, reference):
    DepositFactory(name="=HYPERLINK(evil)", region=RegionFactory())
    rows = export(editor_client, CSV_FORMAT).content.decode("utf-8-sig").splitlines()
    assert "'=HYPERLINK(evil)" in rows[1]


def test_reserve_estimates_refusals(editor_client, reference):
    deposit = DepositFactory()
    header = ["deposit", "mineral", "category", "balance", "quantity", "unit", "as_of", "source"]
    rows = [
        {"deposit": deposit.public_id, "mineral": "gold", "category": "C1", "balance": "1",
         "quantity": "12.5", "unit": "t", "as_of": "2020-01-01", "source": "protocol 12"},
        {"deposit": deposit.public_id, "mineral": "gold", "category": "C2", "balance": "1",
         "quantity": "-3", "unit": "t", "as_of": "2020-01-01", "source": "x"},
        {"deposit": deposit.public_id, "mineral": "gold", "category": "B", "balance": "1",
         "quantity": "3", "unit": "pood", "as_of": "2020-01-01", "source": "x"},
        {"deposit": deposit.public_id, "mineral": "gold", "category": "A", "balance": "1",
         "quantity": "3", "unit": "t", "as_of": "31/31/2020", "source": "x"},
        {"deposit": "TJD-999999", "mineral": "gold", "category": "A", "balance": "1",
         "quantity": "3", "unit": "t", "as_of": "2020-01-01", "source": "x"},
    ]  # fmt: skip
    response = preview(editor_client, csv_file(rows, header=header), model="reserveestimate")
    by_row = {number: field for number, field, _ in refusals(response)}
    assert by_row == {2: "quantity", 3: "unit", 4: "as_of", 5: "deposit"}
    assert "unknown deposit 'TJD-999999'" in refusals(response)[-1][2]
    assert ReserveEstimate.objects.count() == 0


def test_viewers_cannot_import(viewer_client, reference):
    response = viewer_client.get(reverse("admin:deposits_deposit_import"))
    assert response.status_code == 403


def test_import_costs_a_fixed_number_of_queries_per_row(reference):
    """Minerals are read once per import; each row costs the same few queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from tablib import Dataset

    from deposits.resources import DepositResource

    names = (f"Deposit {n}" for n in range(100))

    def queries_to_import(count):
        rows = [deposit_row(name=next(names), reported_shares="") for _ in range(count)]
        dataset = Dataset(headers=HEADER)
        for row in rows:
            dataset.append([row[column] for column in HEADER])
        with CaptureQueriesContext(connection) as queries:
            result = DepositResource().import_data(dataset, raise_errors=True)
        assert result.totals["new"] == count
        return len(queries)

    queries_to_import(1)  # warms the process's caches (content types, ...)
    one, three = queries_to_import(1), queries_to_import(3)
    # A row with three minerals: the match search, region and district, the region's
    # check, the entry check's look-alike search, the identifier (read and move), the
    # deposit and its history, its current minerals, each mineral with its history and
    # its own share estimates (the share rule's kept sum), three savepoints (set and
    # released), and for the deposit and each mineral whether any data-sharing clause
    # exists that its change could move (cooperation/grants.py).
    assert three - one == 2 * 30
