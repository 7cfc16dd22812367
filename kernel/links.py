"""URLs of many records at once, for lists, maps and documents that link every row.

`reverse` resolves a URL pattern on every call; a page of links, or a map of thousands
of points, asks the same pattern again and again with another argument.
"""

from urllib.parse import quote

from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS

_MARKER = "URL-ARGUMENT"  # matches the str and slug converters the patterns use


def url_parts(name: str) -> tuple[str, str]:
    """The URL named `name` (of one argument) before and after its argument."""
    head, tail = reverse(name, args=[_MARKER]).split(_MARKER)
    return head, tail


def url_maker(name: str):
    """`reverse(name, args=[value])` for many values: the URL is resolved once and each
    value quoted into it as `reverse` quotes it."""
    head, tail = url_parts(name)
    return lambda value: f"{head}{quote(value, safe=RFC3986_SUBDELIMS + '/~:@')}{tail}"
