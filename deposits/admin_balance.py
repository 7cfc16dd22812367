"""The admin's State Balance screen: a clerk picks a mineral and a year and reads each
deposit's lines with the totals per category, whether that year is closed, and downloads
the same table as CSV or XLSX (`deposits.balance`: one column list for all three)."""

from decimal import Decimal

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from deposits.balance import COLUMNS, FIGURES, StateBalance, state_balance
from deposits.models import BalanceClosure, BalanceMovement, Mineral
from kernel.exports import stream_csv, workbook_response

YEAR_FIELD = BalanceMovement._meta.get_field("year")


class StateBalanceForm(forms.Form):
    mineral = forms.ModelChoiceField(
        Mineral.objects.order_by("name"),
        to_field_name="code",
        label=gettext_lazy("Mineral"),
        empty_label=None,
    )
    year = forms.IntegerField(
        label=gettext_lazy("Year"),
        min_value=YEAR_FIELD.validators[0].limit_value,
        max_value=YEAR_FIELD.validators[1].limit_value,
    )


def _filename(balance: StateBalance) -> str:
    return f"state-balance-{balance.mineral.code}-{balance.year}"


def _rows(balance: StateBalance):
    """The table, then whether the year is closed: the downloads say what the screen says."""
    yield from balance.rows()
    yield []
    yield [balance.status()]
    if balance.unnormalised:
        yield [balance.unnormalised]


def _figure(value: Decimal) -> str:
    """A figure as the screen writes it: every significant digit, grouped, no trailing
    zeros (the downloads keep the numbers themselves)."""
    value = value.normalize()
    if value == value.to_integral_value():
        value = value.quantize(Decimal(1))
    return number_format(value, force_grouping=True)


def _cells(rows: list[dict]) -> list[list[tuple]]:
    """Rows as the screen's table writes them: (text, is a figure) in column order."""
    return [
        [
            (_figure(row[key]), True) if key in FIGURES else (row[key], False)
            for key, _label in COLUMNS
        ]
        for row in rows
    ]


def state_balance_view(model_admin, request):
    """`?mineral=<code>&year=<year>`, and `&format=csv` or `xlsx` for the download. Bad
    input is a form error on the screen, never a download of nothing."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    form = StateBalanceForm(request.GET if "mineral" in request.GET else None)
    balance = None
    if form.is_valid():
        balance = state_balance(form.cleaned_data["mineral"], form.cleaned_data["year"])
        file_format = request.GET.get("format")
        if file_format == "csv":
            return stream_csv(balance.header(), _rows(balance), _filename(balance))
        if file_format == "xlsx":
            title = _("State Balance %(year)s") % {"year": balance.year}
            return workbook_response(
                [(title, balance.header(), _rows(balance))], _filename(balance)
            )
    query = {}
    if balance is not None:
        query = {"mineral": balance.mineral.code, "year": balance.year}
    closure_add = reverse("admin:deposits_balanceclosure_add")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("State Balance by mineral and year"),
        "form": form,
        "balance": balance,
        "header": [(label, key in FIGURES) for key, label in COLUMNS],
        "lines": _cells(balance.lines) if balance else [],
        "totals": _cells(balance.totals) if balance else [],
        "csv_url": "?" + urlencode({**query, "format": "csv"}),
        "xlsx_url": "?" + urlencode({**query, "format": "xlsx"}),
        "close_url": (
            f"{closure_add}?{urlencode({'mineral': balance.mineral.pk, 'year': balance.year})}"
            if balance is not None and not balance.closed
            else ""
        ),
        "may_close": request.user.has_perm("deposits.add_balanceclosure"),
        "closure_model": BalanceClosure._meta,
    }
    return TemplateResponse(request, "admin/deposits/state_balance.html", context)
