"""A deposit: its facts, minerals with their shares, reserves by category, map, sources;
for staff its change history and a link into the admin. Its cooperation is drawn by the
template (`{% cooperation_concerning deposit %}`)."""

from django.conf import settings
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from deposits.models import UNDATED, Deposit, Mineral, ReserveEstimate
from deposits.pages.charts import deposit_charts
from deposits.pages.common import figures_date, map_config, map_row
from deposits.querysets import document_estimates
from deposits.shares import prefetch_commodities, recorded_on
from kernel.links import url_parts
from kernel.visibility import Caller

CATEGORY_ORDER = {value: index for index, value in enumerate(ReserveEstimate.Category.values)}

ByMineral = list[tuple[Mineral, list[ReserveEstimate]]]


def sorted_reserves(reserves) -> tuple[ByMineral, ByMineral]:
    """A document's estimates (flagged `in_force`, `document_estimates`) per mineral, in
    force apart from history: those in force in the order A, B, C1, C2, P1-P3, then
    CRIRSCO; history in the same order, newest first within a category."""
    in_force: dict[Mineral, list[ReserveEstimate]] = {}
    history: dict[Mineral, list[ReserveEstimate]] = {}
    for estimate in reserves:
        (in_force if estimate.in_force else history).setdefault(estimate.mineral, []).append(
            estimate
        )

    def category(e):
        return CATEGORY_ORDER.get(e.category, 99)

    def newest_first(e):
        return (category(e), e.as_of is None, -(e.as_of or UNDATED).toordinal(), -e.pk)

    return (
        [
            (mineral, sorted(rows, key=lambda e: (category(e), e.as_of is None)))
            for mineral, rows in in_force.items()
        ],
        [(mineral, sorted(rows, key=newest_first)) for mineral, rows in history.items()],
    )


def change_history(deposit: Deposit, limit: int) -> list[dict]:
    """The latest changes of a deposit with the fields each one changed (no query per row)."""
    records = list(deposit.history.select_related("history_user")[: limit + 1])
    changes = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        if len(changes) == limit:
            break
        fields = []
        if older is not None and newer.history_type == "~":
            fields = [
                Deposit._meta.get_field(c.field).verbose_name
                for c in newer.diff_against(older).changes
            ]
        changes.append({"record": newer, "fields": fields})
    return changes


def staff_context(user, deposit: Deposit) -> dict:
    """What staff see beyond the public page: the history, a link into the admin."""
    if not user.is_staff:
        return {}
    context = {"history": change_history(deposit, settings.PAGES_HISTORY_LENGTH)}
    admin_url = reverse("admin:deposits_deposit_change", args=[deposit.pk])
    if user.has_perm("deposits.change_deposit"):
        context["admin_url"] = admin_url
    elif user.has_perm("deposits.view_deposit"):
        context["admin_view_url"] = admin_url
    return context


def read_deposit(caller: Caller, public_id: str, on=None) -> Deposit:
    """The deposit as its page and its passport show it to `caller` (404 when hidden):
    region, district, belt, its minerals with their shares, and its reserve estimates
    recorded, each flagged in force or history (`document_estimates`), all as of `on`
    (as recorded now without a day)."""
    return get_object_or_404(
        Deposit.objects.visible_to(caller)
        .select_related("region", "district", "belt")
        .prefetch_related(
            prefetch_commodities(caller, on=on),
            Prefetch("reserves", queryset=document_estimates(on).select_related("mineral")),
        ),
        public_id=public_id,
    )


def deposit_detail(request, public_id: str):
    form, asked, as_of = figures_date(request)
    on = recorded_on(as_of)
    deposit = read_deposit(Caller.of(request), public_id, on)
    reserves, reserve_history = sorted_reserves(deposit.reserves.all())
    point = None
    if deposit.latitude is not None and deposit.longitude is not None:
        point = {
            "url": url_parts("deposit-detail"),
            "deposits": [map_row(deposit)],
            "truncated": False,
        }
    return render(
        request,
        "deposits/deposit_detail.html",
        {
            "deposit": deposit,
            "commodities": deposit.commodities.all(),
            "reserves": reserves,
            "reserve_history": reserve_history,
            "map_config": map_config(points=point),
            "charts": deposit_charts(deposit, on),
            "charts_on": on,
            "as_of": as_of,
            "as_of_asked": asked,
            "as_of_form": form,
            **staff_context(request.user, deposit),
        },
        status=400 if form.errors else 200,
    )
