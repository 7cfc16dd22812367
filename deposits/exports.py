"""Deposit lists of the pages as CSV and XLSX files, streamed row by row.

A cell that a spreadsheet would read as a formula is written as text: in CSV
through the registry's one `escape_formula` (registry/spreadsheets.py), in XLSX
as a string cell, so an exported record can never run in an analyst's spreadsheet.
"""

import csv
import tempfile
from collections.abc import Iterable, Iterator
from itertools import islice

from django.db.models import Prefetch
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from deposits.models import Deposit, DepositCommodity
from deposits.services import attach_reserve_shares, share_estimates
from registry.spreadsheets import escape_formula

CHUNK_SIZE = 2000

HEADER = [
    "public_id",
    "name",
    "aliases",
    "region_code",
    "region",
    "district",
    "latitude",
    "longitude",
    "status",
    "deposit_type",
    "belt",
    "minerals",
    "updated_at",
    "url",
]


def describe_minerals(deposit: Deposit) -> str:
    """`silver (main, 70.00% reported); lead (associated)`: codes, roles and shares."""
    parts = []
    for commodity in deposit.commodities.all():
        details = [commodity.role]
        share = commodity.share
        if share.pct is not None:
            details.append(f"{share.pct}% {share.basis}")
        parts.append(f"{commodity.mineral.code} ({', '.join(details)})")
    return "; ".join(parts)


def deposit_rows(deposits, request, include_visibility: bool = False) -> Iterator[list]:
    """The header, then one row per deposit; shares computed a chunk at a time."""
    yield [*HEADER, "visibility"] if include_visibility else HEADER
    deposits = deposits.prefetch_related(
        Prefetch("commodities", queryset=DepositCommodity.objects.select_related("mineral")),
        Prefetch("reserves", queryset=share_estimates()),
    )
    rows = deposits.iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(islice(rows, CHUNK_SIZE)):
        attach_reserve_shares(chunk)
        for d in chunk:
            row = [
                d.public_id,
                d.name,
                "; ".join(d.aliases),
                d.region.code if d.region else "",
                d.region.name if d.region else "",
                d.district.name if d.district else "",
                d.latitude,
                d.longitude,
                d.status,
                d.deposit_type,
                d.belt.name if d.belt else "",
                describe_minerals(d),
                d.updated_at.isoformat(),
                request.build_absolute_uri(d.get_absolute_url()),
            ]
            if include_visibility:
                row.append(d.visibility)
            yield row


def filename(extension: str) -> str:
    return f"deposits-{timezone.localdate().isoformat()}.{extension}"


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_response(deposits, request, include_visibility: bool = False) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterable[str]:
        yield "\ufeff"  # byte order mark: spreadsheets then read the file as UTF-8
        for row in deposit_rows(deposits, request, include_visibility):
            yield writer.writerow([escape_formula(v) for v in row])

    return StreamingHttpResponse(
        lines(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename("csv")}"'},
    )


def xlsx_response(deposits, request, include_visibility: bool = False) -> FileResponse:
    """An XLSX workbook built in openpyxl's write-only mode (constant memory per row)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("deposits")
    for row in deposit_rows(deposits, request, include_visibility):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, never a formula
            cells.append(cell)
        sheet.append(cells)
    output = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it)
    workbook.save(output)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=filename("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
