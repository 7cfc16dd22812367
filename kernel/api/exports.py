"""The export formats of the API's lists: `?format=csv` and `?format=geojson`.

The renderers only announce the formats to DRF's content negotiation (and so to the
schema and the browsable API); a list view streams the body itself through
`kernel.exports`, because an export is the whole filtered list, not a page of data.
"""

from rest_framework.renderers import BaseRenderer


class CSVRenderer(BaseRenderer):
    """Announces `?format=csv`; list views stream the body (see `kernel.exports.stream_csv`)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        raise NotImplementedError("CSV is streamed by the list view, never rendered from data.")


class GeoJSONRenderer(BaseRenderer):
    """Announces `?format=geojson`; list views stream the body (see
    `kernel.exports.stream_geojson`)."""

    media_type = "application/geo+json"
    format = "geojson"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        raise NotImplementedError("GeoJSON is streamed by the list view, never rendered from data.")


EXPORT_FORMATS = {CSVRenderer.format, GeoJSONRenderer.format}
