"""A deposit's reserve history in its admin form, apart from the estimates in force.

The form edits the estimates in force (`ReserveEstimate.objects.in_force()`, the one
rule, asked through `deposits.querysets.with_in_force`); every other estimate of the
deposit is history, listed read-only under them with what took it out of force: a
withdrawal (superseded or written off, by its protocol) or the newer estimate that
replaced it. Each row links to the estimate's own form.
"""

from dataclasses import dataclass
from itertools import groupby

from django.urls import reverse

from deposits.models import UNDATED, Deposit, ReserveEstimate
from deposits.querysets import with_in_force


@dataclass(frozen=True)
class HistoricEstimate:
    estimate: ReserveEstimate
    url: str
    # The newer estimate of the same mineral, category and balance that replaced it;
    # None when a withdrawal took it out of force.
    replaced_by: ReserveEstimate | None
    replaced_by_url: str


def _key(estimate: ReserveEstimate) -> tuple:
    return (estimate.mineral_id, estimate.category, estimate.balance)


def _order(estimate: ReserveEstimate) -> tuple:
    # The order in force is decided in (ReserveEstimateQuerySet.in_force): by date, an
    # undated one first, then by entry.
    return (estimate.as_of or UNDATED, estimate.pk)


def _url(estimate: ReserveEstimate | None) -> str:
    if estimate is None:
        return ""
    return reverse("admin:deposits_reserveestimate_change", args=[estimate.pk])


def reserve_history(deposit: Deposit) -> list[HistoricEstimate]:
    """The deposit's estimates that are not in force, by mineral, category and date."""
    estimates = sorted(
        with_in_force(ReserveEstimate.objects.filter(deposit=deposit)).select_related("mineral"),
        key=lambda e: (e.mineral.name, e.mineral_id, e.category, str(e.balance), *_order(e)),
    )
    history = []
    for _group, same in groupby(estimates, key=_key):
        same = list(same)
        for estimate, newer in zip(same, [*same[1:], None], strict=True):
            if estimate.in_force:
                continue
            replaced_by = None if estimate.withdrawal else newer
            history.append(
                HistoricEstimate(estimate, _url(estimate), replaced_by, _url(replaced_by))
            )
    return history
