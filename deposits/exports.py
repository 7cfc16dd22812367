"""The deposit list of the pages as CSV and XLSX: the API's export columns, streamed.

Both files have the rows of the REST API's `?format=csv`, so an analyst's export
and a partner's are the same table. A cell a spreadsheet would read as a formula
is written as text: in CSV by the registry's one `escape_formula`, in XLSX as a
string cell.
"""

import tempfile

from django.db.models import Prefetch
from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from deposits.api.exports import CSV_HEADER, csv_row, deposits_csv, records
from deposits.models import DepositCommodity
from deposits.services import share_estimates


def with_shares(deposits):
    """Prefetch what the rows show: minerals, and the estimates that make the shares."""
    return deposits.prefetch_related(
        Prefetch("commodities", queryset=DepositCommodity.objects.select_related("mineral")),
        Prefetch("reserves", queryset=share_estimates()),
    )


def csv_response(deposits):
    return deposits_csv(with_shares(deposits))


def xlsx_response(deposits) -> FileResponse:
    """An XLSX workbook built in openpyxl's write-only mode (constant memory per row)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("deposits")
    sheet.append(CSV_HEADER)
    for deposit in records(with_shares(deposits)):
        cells = []
        for value in csv_row(deposit):
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula
            cells.append(cell)
        sheet.append(cells)
    output = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it)
    workbook.save(output)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=f"deposits-{timezone.localdate().isoformat()}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
