"""The deposit list of the pages as XLSX: the API's export columns.

The pages' CSV is the REST API's `?format=csv` itself (`deposits.api.exports`), and
the workbook has the same rows, so an analyst's export and a partner's are the same
table. A cell a spreadsheet would read as a formula is written as a string cell.
"""

import tempfile

from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from deposits.api.exports import CSV_HEADER, csv_row, records


def xlsx_response(deposits) -> FileResponse:
    """An XLSX workbook built in openpyxl's write-only mode (constant memory per row)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("deposits")
    sheet.append(CSV_HEADER)
    for deposit in records(deposits):
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
