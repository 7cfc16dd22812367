"""Template filters of the analyst pages.

`link_to` and `status_label` stand in for `{% url %}` and `get_status_display` in the
rows of the deposit list, where a page repeats them a few hundred times: both redo, on
every call, work whose answer is the same for the whole page.
"""

from decimal import Decimal
from functools import cache

from django import template
from django.template.defaultfilters import floatformat
from django.urls import get_script_prefix, get_urlconf

from deposits.models import Deposit, DepositCommodity, deposit_type_label
from deposits.shares import SCOPE_NOTES
from kernel.links import url_maker
from kernel.visibility import Caller

register = template.Library()

STATUS_LABELS = dict(Deposit.Status.choices)
BOUND_LABELS = dict(DepositCommodity.Bound.choices)


@register.simple_tag(takes_context=True)
def share_scope_note(context) -> str:
    """What the computed shares on this page are shares of, for the one reading it."""
    return SCOPE_NOTES[Caller.of(context["request"]).scope]


@register.filter
def share_figure(row) -> str:
    """A row's share (`deposits.shares.with_shares`) as the pages write it: "12,5%", or
    with the bound its source gives, "over 70%"."""
    figure = f"{percent(row.share_pct)}%"
    return f"{BOUND_LABELS[row.share_bound]} {figure}" if row.share_bound else figure


@register.filter
def percent(value) -> str:
    """A share as the locale writes it, with the decimals it has (at most two): 70, 12,5.

    A share is kept to two places (70.00), but "70.00%" would claim a precision the
    source of a reported share never gave; trailing zeros are dropped."""
    if value is None:
        return ""
    places = min(2, max(0, -Decimal(value).normalize().as_tuple().exponent))
    return floatformat(value, places)


@register.filter
def link_to(value: str, view_name: str) -> str:
    """`{% url view_name value %}`, the URL pattern resolved once rather than per link."""
    return _url_maker(view_name, get_script_prefix(), get_urlconf())(value)


@cache
def _url_maker(view_name: str, script_prefix: str, urlconf):
    """One maker per URL name, as mounted (script prefix, URLconf) when first asked."""
    return url_maker(view_name)


@register.filter
def type_label(deposit_type: str) -> str:
    """A deposit's type in the page's language (deposits.models.DEPOSIT_TYPE_LABELS)."""
    return deposit_type_label(deposit_type)


@register.filter
def status_label(status: str) -> str:
    """A deposit's status in the page's language, as `get_status_display` writes it."""
    return STATUS_LABELS.get(status, status)
