"""A deposit's passport: the one- or two-page card the ministry hands partners, as a PDF in
the reader's language. It reads the deposit as its page does (`read_deposit`: the same
visibility, the same shares for the same caller), with the reserve estimates in force
only, and draws its locator map from the borders the app ships."""

from django.utils.translation import get_language

from deposits.models import ReserveEstimate
from deposits.pages.deposit_detail import read_deposit, sorted_reserves
from deposits.pages.locator import locator_map
from kernel.paper import pdf_response
from kernel.visibility import Caller


def deposit_passport(request, public_id: str):
    deposit = read_deposit(Caller.of(request), public_id, ReserveEstimate.objects.in_force())
    return pdf_response(
        request,
        "deposits/paper/passport.html",
        {
            "deposit": deposit,
            "commodities": deposit.commodities.all(),
            "reserves": sorted_reserves(deposit.reserves.all()),
            "locator": locator_map(deposit.latitude, deposit.longitude),
        },
        filename=f"{deposit.public_id}-passport-{get_language()}",
    )
