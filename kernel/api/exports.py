"""Streaming CSV and GeoJSON exports of a list, honouring every filter of the list.

Exports are not paged: they stream the whole filtered list in chunks, so the
memory used does not grow with the registry. A viewset supplies the rows (CSV)
or features (GeoJSON) for a batch of records; this module does the framing,
the formula-injection guard and the HTTP response.

On PostgreSQL the database can write the body itself: `stream_copy_csv` streams
`COPY (SELECT ...) TO STDOUT WITH CSV` of a statement whose every column is text made
formula-safe in SQL (`formula_safe_sql`, the rule of `escape_formula`), and
`stream_geojson` also takes features the database has already serialised.
"""

import csv
import json
from collections.abc import Callable, Iterable, Iterator

from django.db import connections
from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer
from rest_framework.utils.encoders import JSONEncoder

from kernel.spreadsheets import escape_formula

CHUNK_SIZE = 500
COPY_BLOCK_BYTES = 64 * 1024  # COPY hands over a row at a time; the response gets blocks


class CSVRenderer(BaseRenderer):
    """Announces `?format=csv`; list views stream the body (see `stream_csv`)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        raise NotImplementedError("CSV is streamed by the list view, never rendered from data.")


class GeoJSONRenderer(BaseRenderer):
    """Announces `?format=geojson`; list views stream the body (see `stream_geojson`)."""

    media_type = "application/geo+json"
    format = "geojson"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        raise NotImplementedError("GeoJSON is streamed by the list view, never rendered from data.")


EXPORT_FORMATS = {CSVRenderer.format, GeoJSONRenderer.format}


def safe_cell(value) -> str | int | float:
    """A cell a spreadsheet shows as text: formula triggers get a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    return escape_formula(str(value))


def formula_safe_sql(expression: str) -> str:
    """A cell as `safe_cell` writes it, in PostgreSQL: text, empty as NULL (an empty CSV
    field), and a leading apostrophe on text a spreadsheet would evaluate."""
    return rf"regexp_replace(NULLIF(({expression})::text, ''), '^([-=+@\t\r])', '''\1')"


def batches(queryset, prepare: Callable[[list], None] | None = None) -> Iterator[list]:
    """The queryset in lists of CHUNK_SIZE (prefetches run per chunk), each prepared once."""
    batch = []
    for record in queryset.iterator(chunk_size=CHUNK_SIZE):
        batch.append(record)
        if len(batch) == CHUNK_SIZE:
            if prepare:
                prepare(batch)
            yield batch
            batch = []
    if batch:
        if prepare:
            prepare(batch)
        yield batch


class _Echo:
    def write(self, value):
        return value


def stream_csv(
    header: list[str],
    rows: Iterable[list],
    filename: str,
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def content():
        # The byte order mark makes spreadsheet programs read the file as UTF-8 (Cyrillic names).
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow([safe_cell(cell) for cell in row])

    response = StreamingHttpResponse(content(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def stream_copy_csv(
    header: list[str], sql: str, params: list, filename: str, using: str
) -> StreamingHttpResponse:
    """The rows of a SELECT as CSV written by PostgreSQL's COPY, streamed.

    Every column must already be the text `safe_cell` would write (`formula_safe_sql`).
    """
    connection = connections[using]
    connection.ensure_connection()
    statement = connection.ops.compose_sql(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params)
    writer = csv.writer(_Echo(), lineterminator="\n")  # COPY ends its rows with \n too

    def content():
        yield ("\ufeff" + writer.writerow(header)).encode()
        block = bytearray()
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as rows:
            for row in rows:
                block += row
                if len(block) >= COPY_BLOCK_BYTES:
                    yield bytes(block)
                    block.clear()
        yield bytes(block)

    response = StreamingHttpResponse(content(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def stream_geojson(features: Iterable[dict | str], filename: str) -> StreamingHttpResponse:
    """A FeatureCollection of features given as dicts, or as JSON text from the database."""

    def content():
        yield '{"type": "FeatureCollection", "features": ['
        separator = ""
        for feature in features:
            if not isinstance(feature, str):
                feature = json.dumps(feature, cls=JSONEncoder, ensure_ascii=False)
            yield separator + feature
            separator = ",\n"
        yield "]}\n"

    response = StreamingHttpResponse(content(), content_type="application/geo+json")
    response["Content-Disposition"] = f'attachment; filename="{filename}.geojson"'
    return response


def point(longitude, latitude) -> dict | None:
    if longitude is None or latitude is None:
        return None
    return {"type": "Point", "coordinates": [float(longitude), float(latitude)]}
