"""Template filters of the analyst pages."""

from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat

register = template.Library()


@register.filter
def percent(value) -> str:
    """A share as the locale writes it, with the decimals it has (at most two): 70, 12,5."""
    if value is None:
        return ""
    value = Decimal(value)
    places = min(2, max(0, -value.normalize().as_tuple().exponent))
    return floatformat(value, places)
