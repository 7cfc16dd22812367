"""Streaming CSV and GeoJSON exports of a list, honouring every filter of the list.

Exports are not paged: they stream the whole filtered list in chunks, so the
memory used does not grow with the registry. A viewset supplies the rows (CSV)
or features (GeoJSON) for a batch of records; this module does the framing,
the formula-injection guard and the HTTP response.
"""

import csv
import json
from collections.abc import Callable, Iterable, Iterator

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer
from rest_framework.utils.encoders import JSONEncoder

from registry.spreadsheets import escape_formula

CHUNK_SIZE = 500


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


def stream_geojson(features: Iterable[dict], filename: str) -> StreamingHttpResponse:
    def content():
        yield '{"type": "FeatureCollection", "features": ['
        separator = ""
        for feature in features:
            yield separator + json.dumps(feature, cls=JSONEncoder, ensure_ascii=False)
            separator = ",\n"
        yield "]}\n"

    response = StreamingHttpResponse(content(), content_type="application/geo+json")
    response["Content-Disposition"] = f'attachment; filename="{filename}.geojson"'
    return response


def point(longitude, latitude) -> dict | None:
    if longitude is None or latitude is None:
        return None
    return {"type": "Point", "coordinates": [float(longitude), float(latitude)]}
