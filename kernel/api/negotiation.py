"""Content negotiation: DRF's, with its answer for the commonest request given at once.

Most API requests name no format: no `?format=` and no Accept header, or `*/*`
(curl, Python's requests, GIS clients, monitoring). DRF's rules give them the
view's first renderer with its own media type, after parsing the header and
ranking every renderer against it (~0.08 ms a request, a tenth of a cached read).
Any other request is negotiated by DRF itself.
"""

from rest_framework.negotiation import DefaultContentNegotiation


class RegistryContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if (
            renderers
            and not format_suffix
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
            and request.headers.get("Accept", "*/*") == "*/*"
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
