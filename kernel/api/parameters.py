"""Whole-number query parameters (page, page_size, limit, offset, top), read one way
by the API and the OGC endpoint: absent is the default, anything else a 400 naming the
parameter and saying what it takes."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError


def whole_number(params, name: str, default=None, minimum: int = 1, maximum: int | None = None):
    """The query parameter `name` as an int from `minimum` (to `maximum`), or `default`
    when it is absent or empty."""
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: [_("Give a whole number, not %r.") % raw]}) from None
    if maximum is not None and not minimum <= value <= maximum:
        message = _("Give a number from %(minimum)d to %(maximum)d.")
        raise ValidationError({name: [message % {"minimum": minimum, "maximum": maximum}]})
    if value < minimum:
        raise ValidationError({name: [_("Give a number of %d or more.") % minimum]})
    return value
