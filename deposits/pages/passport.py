"""A deposit's passport: the card of a few pages the ministry hands partners, as a PDF in
the reader's language. It reads the deposit as its page does (`read_deposit`: the same
visibility, the same shares for the same caller, the same estimates in force and history,
as of the same day, `as_of`), draws its locator map from the borders the app ships, and
carries the page's charts over the years with their tables."""

from django.http import HttpResponseBadRequest
from django.utils.translation import get_language

from deposits.pages.charts import deposit_charts
from deposits.pages.common import figures_date
from deposits.pages.deposit_detail import read_deposit, sorted_reserves
from deposits.pages.locator import locator_map
from deposits.shares import recorded_on
from kernel.paper import pdf_response
from kernel.visibility import Caller


def deposit_passport(request, public_id: str):
    form, _asked, as_of = figures_date(request)
    if form.errors:
        # Paper has no form to show the error on: the day is refused, nothing printed.
        return HttpResponseBadRequest(
            " ".join(form.errors["as_of"]), content_type="text/plain; charset=utf-8"
        )
    on = recorded_on(as_of)
    deposit = read_deposit(Caller.of(request), public_id, on)
    reserves, reserve_history = sorted_reserves(deposit.reserves.all())
    return pdf_response(
        request,
        "deposits/paper/passport.html",
        {
            "deposit": deposit,
            "commodities": deposit.commodities.all(),
            "reserves": reserves,
            "reserve_history": reserve_history,
            "charts": deposit_charts(deposit, on),
            "charts_on": on,
            "as_of": as_of,
            "locator": locator_map(deposit.latitude, deposit.longitude),
        },
        filename=f"{deposit.public_id}-passport-{get_language()}",
    )
