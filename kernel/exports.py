"""Streaming CSV and GeoJSON downloads of a whole list, whatever surface offers them, and
XLSX workbooks of a page's tables (`workbook_response`).

Exports are not paged: they stream every record of the filtered list, read in chunks
(`CHUNK_SIZE`), so the memory used does not grow with the registry. An app supplies
the rows or features of its records; this module does the framing, the
formula-injection guard and the HTTP response. It belongs to no surface, so the API
and the pages share it.
"""

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator
from itertools import chain, islice

from django.http import FileResponse, StreamingHttpResponse
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from rest_framework.utils.encoders import JSONEncoder

from kernel import access
from kernel.spreadsheets import escape_formula

# Records read per query by `queryset.iterator(chunk_size=CHUNK_SIZE)`; the queryset's
# prefetches run once per chunk.
CHUNK_SIZE = 500


def safe_cell(value) -> str | int | float:
    """A cell a spreadsheet shows as text: formula triggers get a leading apostrophe."""
    if type(value) is str:  # most cells: checked first, as an export has ~20 a record
        return escape_formula(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    return escape_formula(str(value))


def _begun(records: Iterable) -> Iterator:
    """The records with the first chunk, and one more, already read: a database that is
    away then fails the request before its status is sent (a clean 503, never a 200 cut
    short), and a list of one chunk is whole before a byte of it goes out."""
    records = iter(records)
    return chain(list(islice(records, CHUNK_SIZE + 1)), records)


def _chunks(records: Iterator) -> Iterator[list]:
    """The records in lists of `CHUNK_SIZE`, the pieces a download is sent in: one piece a
    record would pass each through the response's framing."""
    while chunk := list(islice(records, CHUNK_SIZE)):
        yield chunk


def _csv_text(rows: Iterable[list]) -> str:
    """The rows as CSV lines, as `csv.writer` writes them."""
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue()


def stream_csv(header: list[str], rows: Iterable[list], filename: str) -> StreamingHttpResponse:
    rows = _begun(rows)
    sent = access.Returned(count=0)  # rows sent so far, for the access record

    def content():
        # The byte order mark makes spreadsheet programs read the file as UTF-8 (Cyrillic names).
        yield "\ufeff" + _csv_text([header])
        for chunk in _chunks(rows):
            yield _csv_text([safe_cell(cell) for cell in row] for row in chunk)
            sent.count += len(chunk)

    response = StreamingHttpResponse(content(), content_type="text/csv; charset=utf-8")
    access.mark(response, sent)
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def stream_geojson(features: Iterable[dict], filename: str) -> StreamingHttpResponse:
    """A FeatureCollection of the features, written one at a time."""
    features = _begun(features)
    sent = access.Returned(count=0)  # features sent so far, for the access record
    encode = JSONEncoder(ensure_ascii=False).encode  # one encoder, not one a feature

    def content():
        yield '{"type": "FeatureCollection", "features": ['
        separator = ""
        for chunk in _chunks(features):
            yield separator + ",\n".join(map(encode, chunk))
            separator = ",\n"
            sent.count += len(chunk)
        yield "]}\n"

    response = StreamingHttpResponse(content(), content_type="application/geo+json")
    access.mark(response, sent)
    response["Content-Disposition"] = f'attachment; filename="{filename}.geojson"'
    return response


def point(longitude, latitude) -> dict | None:
    """A GeoJSON Point in CRS84 (longitude first); None for a record without coordinates."""
    if longitude is None or latitude is None:
        return None
    return {"type": "Point", "coordinates": [float(longitude), float(latitude)]}


def workbook_response(sheets: Iterable[tuple[str, list[str], Iterable[list]]], filename: str):
    """An XLSX workbook of a page's tables, one sheet each: (title, header, rows), written
    in openpyxl's write-only mode. A text cell is always a string cell, never a formula;
    numbers (Decimal too) stay numbers, so a figure is the one the page shows."""
    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(_sheet_title(title))
        for row in chain([header], rows):
            cells = []
            for value in row:
                text = isinstance(value, str | Promise)  # labels may be lazy translations
                cell = WriteOnlyCell(sheet, value=str(value) if text else value)
                if text:
                    cell.data_type = "s"
                cells.append(cell)
            sheet.append(cells)
    output = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it)
    workbook.save(output)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _sheet_title(title: str) -> str:
    """A sheet's name as spreadsheet programs accept it: 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", " ", str(title))[:31].strip()
