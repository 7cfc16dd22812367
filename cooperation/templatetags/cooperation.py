"""`{% cooperation_concerning record %}`: the cooperation concerning a deposit or a mineral,
drawn into the deposits app's pages.

The deposits app may not import this one (cooperation builds on deposits, never the
reverse), so its pages load this tag library by name instead of calling these queries.
"""

from django import template

from cooperation.services import cooperation_for_deposit, cooperation_for_mineral
from cooperation.views import (
    events_for_timeline,
    initiatives_with_organisations,
    memoranda_with_parties,
)
from deposits.models import Mineral
from kernel.visibility import Caller

register = template.Library()


@register.inclusion_tag("cooperation/_concerning.html", takes_context=True)
def cooperation_concerning(context, record) -> dict:
    """The events, memoranda and initiatives about `record` (a Deposit or a Mineral) that
    the page's caller may see, one query per kind."""
    concerning = cooperation_for_mineral if isinstance(record, Mineral) else cooperation_for_deposit
    cooperation = concerning(record).visible_to(Caller.of(context["request"]))
    return {
        "cooperation": {
            "events": events_for_timeline(cooperation.events),
            "memoranda": memoranda_with_parties(cooperation.memoranda),
            "initiatives": initiatives_with_organisations(cooperation.initiatives),
        }
    }
