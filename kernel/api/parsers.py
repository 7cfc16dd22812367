"""JSON request bodies, bounded before they are parsed.

Python's JSON parser recurses once per nesting level: a body nested thousands of levels
deep raised RecursionError, a 500. Every JSON endpoint reads its body through this
parser (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES), so no body deeper than MAX_DEPTH
reaches `json`, and none larger than DATA_UPLOAD_MAX_MEMORY_SIZE is read, even one
sent without a Content-Length (registry/security.py refuses the others before reading).
"""

import io
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# The registry's documents nest a few levels (a deposit, its minerals, their fields).
MAX_DEPTH = 32

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(rb"[\[{][\]}]")


def deeper_than(body: bytes, depth: int) -> bool:
    """Whether the JSON text nests arrays and objects more than `depth` levels, found
    without recursion: strings are dropped, then innermost bracket pairs are removed
    one level per pass. A malformed body may count as deep; it is refused either way."""
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", body))
    for _level in range(depth):
        if not brackets:
            return False
        brackets = _INNERMOST_PAIR.sub(b"", brackets)
    return bool(brackets)


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestDataTooBig  # answered 413 by registry.security, as with Content-Length
        if deeper_than(body, MAX_DEPTH):
            raise ParseError(
                _("JSON parse error - the body nests more than %(depth)d levels deep.")
                % {"depth": MAX_DEPTH}
            )
        return super().parse(io.BytesIO(body), media_type, parser_context)
