"""The reserve-share rule: a deposit's share of the national reserves of a mineral.

A share is derived, never typed twice. Where a deposit has balance A+B+C1 estimates
in force of a mineral, its share is their contained quantity over the total of such
estimates (of the deposits the reader may see, below), units normalised to kilograms
(`COMPUTED`). Only estimates in
force count: a re-estimate replaces the estimate before it. Where the deposit has
none, the share a published source reported stands (`REPORTED`), whatever other
deposits of the mineral have. Every share says its basis; a share is rounded to two
decimals, half up.

A computed share is a share of what its reader may see: the denominator sums the
estimates of the deposits whose visibility the caller may see, never of hidden ones,
so no reader can derive a figure kept from them (a public deposit's share over a total
that counted internal deposits would give their reserves away). Staff see every
deposit, so theirs are shares of everything recorded. Each computed share says its
scope (`share_scope`); docs/reserves.md explains the rule to clerks and partners.

A partner whose organisation holds a data-sharing grant in force (kernel.visibility,
cooperation.grants) may see deposits beyond its levels. Their reserves count in its
denominators only where the grant shares reserve figures (`opened_totals`, added to
the kept totals of its levels); a deposit a grant opens without its figures shows no
computed share and no kilograms to that partner (`figures_shown`), since either would
give its reserves away.

The rule is written once, as ORM expressions (`with_shares`), so the API, the
pages, OGC, the exports, the statistics, the `min_share` filter and the rankings
all read the same figure, computed by the database on SQLite and PostgreSQL alike.
Its two sums are kept rather than summed on every read: each deposit mineral's own
kilograms (`DepositCommodity.share_kilograms`) and each mineral's total per visibility
level of the deposits (`NationalReserveTotal`), refreshed here alone (`refresh_kept`,
called on every estimate, deposit-mineral and visibility write by deposits.signals and
after bulk loads).

As of a past date (`on`) the rule reads the estimates in force on that date instead, and
the kept sums cannot serve: they are the figures as recorded now. So the kept sums are a
cache of one definition rather than a second rule: an estimate's kilograms are one SQL
expression (`kilograms`, the factors of `deposits.units.KILOGRAMS_PER_UNIT` written as
a `Case`), summed per deposit mineral and per mineral over `share_estimates(on)` by
`_summed`. `refresh_kept` stores those sums for `on=None`; `with_shares(..., on=D)`
computes the same sums for D in the query (a deposit mineral's own kilograms as a
subquery, the national totals of the levels the caller may see in one query first). The
database does the arithmetic in both: exact `numeric` on PostgreSQL; on SQLite, which
has no decimal type, the same double precision as the kept sums' own columns there, and
Python rounds the share half up after reading 15 significant digits
(`SharePercentField`), so both engines write the same figures. Figures as of today are
the kept ones (`recorded_on`): no day, or today, costs what it always did.
"""

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Collate, NullIf, RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deposits.models import (
    DepositCommodity,
    NationalReserveTotal,
    ReserveEstimate,
    refresh_superseded,
)
from deposits.units import KILOGRAMS_PER_UNIT
from kernel.memo import memoised
from kernel.visibility import OPENS_FIGURES, STAFF, Caller, opened_beyond, visible

COMPUTED = "computed"
REPORTED = "reported"
# A deposit's share of national reserves counts explored balance reserves only.
SHARE_CATEGORIES = ("A", "B", "C1")

SHARE_PLACES = Decimal("0.01")


class SharePercentField(DecimalField):
    """A share as every surface reads it: rounded to two decimals, half up, in Python.

    The database hands over the unrounded percentage (exact on PostgreSQL, a float on
    SQLite, which has no decimal type); rounding it here, rather than in SQL, gives the
    same figure on both engines, half-way cases included."""

    def __init__(self):
        super().__init__(max_digits=30, decimal_places=12)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return Decimal(value).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


# Kilograms as the kept sums hold them.
KILOGRAMS = DecimalField(max_digits=40, decimal_places=12)


def recorded_on(day: date | None) -> date | None:
    """The `on` of the rule for figures asked as of `day`: None (the figures as recorded
    now, the kept sums) for no day or today; else the day. An estimate dated after today
    counts in today's figures, as it is recorded."""
    if day is None or day >= timezone.localdate():
        return None
    return day


def share_estimates(estimates: QuerySet | None = None, on: date | None = None) -> QuerySet:
    """The estimates that count towards shares: balance A, B, C1 with a quantity, in force
    on `on` (as recorded now without it; a re-estimate replaces the one before it,
    `ReserveEstimate.objects.in_force`)."""
    estimates = ReserveEstimate.objects.all() if estimates is None else estimates
    return (
        estimates.in_force(on)
        .filter(balance=True, category__in=SHARE_CATEGORIES, quantity__isnull=False)
        .order_by()
    )


def kilograms() -> Case:
    """An estimate's contained quantity in kilograms, as SQL: the quantity times its unit's
    factor (`KILOGRAMS_PER_UNIT`, exact decimals); NULL for a unit without one. The one
    conversion the kept sums and the sums as of a date both use."""
    factor = DecimalField(max_digits=24, decimal_places=12)
    return Case(
        *(
            When(unit=unit, then=F("quantity") * Value(per_unit, output_field=factor))
            for unit, per_unit in KILOGRAMS_PER_UNIT.items()
        ),
        default=None,
        output_field=KILOGRAMS,
    )


class Percent(Func):
    """`part` × 100 / `whole`, unrounded (see SharePercentField). Exact numeric arithmetic on
    PostgreSQL; SQLite divides as REAL, never as integers."""

    template = "(%(expressions)s)"
    arg_joiner = " * 100 / "

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, arg_joiner=" * 100.0 / ", **extra_context)


# What the pages say a computed share is a share of, per scope.
SCOPE_NOTES = {
    "public": _(
        "Computed shares are shares of the balance reserves (A+B+C1) of the public "
        "deposits in the registry."
    ),
    "public+partners": _(
        "Computed shares are shares of the balance reserves (A+B+C1) of the public and "
        "partner deposits in the registry."
    ),
    "all": _(
        "Computed shares are shares of the balance reserves (A+B+C1) of every deposit "
        "in the registry, internal ones included."
    ),
}


def share_text(label: str, commodity: dict) -> str:
    """A share as exports and maps write it, from a row of `with_shares`: `Silver over
    70.00% (reported)`, `Silver 12.50% (computed over public)`."""
    bound = f"{commodity['share_bound']} " if commodity["share_bound"] else ""
    scope = commodity["share_scope"]
    basis = f"{commodity['share_basis']} over {scope}" if scope else commodity["share_basis"]
    return f"{label} {bound}{commodity['share_pct']}% ({basis})"


def visible_total(caller: Caller):
    """The denominator of the shares `caller` reads, for the mineral of the outer row: the
    kept totals of the visibility levels the caller may see, summed; for a partner that
    may hold grants, plus the reserves its grants open beyond those levels."""
    totals = (
        NationalReserveTotal.objects.filter(visible(caller), mineral_id=OuterRef("mineral_id"))
        .order_by()
        .values("mineral_id")
        .annotate(kilograms=Sum("kilograms"))
        .values("kilograms")
    )
    kept = Subquery(totals, output_field=DecimalField(max_digits=40, decimal_places=12))
    opened = opened_totals(caller) if caller.may_hold_grants else {}
    if not opened:
        return kept
    # What the grants open, summed once for every mineral and written into the query as
    # constants: as a subquery per row it summed the mineral again for each row.
    zero = Value(Decimal(0), output_field=KILOGRAMS)
    return Coalesce(kept, zero) + Case(
        *(
            When(mineral_id=mineral_id, then=Value(total, output_field=KILOGRAMS))
            for mineral_id, total in sorted(opened.items())
        ),
        default=zero,
        output_field=KILOGRAMS,
    )


def opened_totals(caller: Caller, mineral_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
    """The balance A+B+C1 kilograms in force per mineral id that `caller`'s grants open
    beyond its levels (`opened_estimates`), summed in one query once while the registry
    and the day hold (kernel.memo): a partner's every read adds them to its denominators,
    and a clause by mineral or region opens thousands of deposits whose estimates the sum
    reads (docs/performance.md)."""
    return _of_minerals(
        memoised(("opened totals", caller), lambda: _summed_opened_totals(caller)), mineral_ids
    )


def _of_minerals(totals: dict[int, Decimal], mineral_ids: Iterable[int] | None) -> dict:
    """A copy of `totals` (kept: never handed out to be changed), of `mineral_ids` only."""
    if mineral_ids is None:
        return dict(totals)
    wanted = set(mineral_ids)
    return {mineral_id: total for mineral_id, total in totals.items() if mineral_id in wanted}


def _summed_opened_totals(caller: Caller) -> dict[int, Decimal]:
    summed = _summed(opened_estimates(caller), "mineral_id")
    return {mineral_id: total for (mineral_id,), total in summed.items()}


def opened_estimates(caller: Caller) -> QuerySet:
    """The share estimates in force of the deposits whose reserve figures a grant opens to
    `caller` beyond its visibility levels: what its denominators add to the levels'
    totals."""
    opened = opened_beyond(caller, "deposit__", OPENS_FIGURES)
    if opened is None:
        return share_estimates().none()
    # Only the opened part of the rule (not `visible`, whose levels it then excludes): the
    # database reads the estimates of the few opened deposits instead of every estimate
    # of the mineral. The levels are still left out by the deposit's own visibility, as
    # the kept totals count them.
    return share_estimates().filter(opened).exclude(visible(caller.by_level, "deposit__"))


def figures_shown(caller: Caller) -> Q | None:
    """On deposit-mineral rows: whether `caller` may see the deposit's reserve figures;
    None where it sees the figures of every deposit it sees (no grant can open a record
    without them)."""
    if not caller.may_hold_grants:
        return None
    return visible(caller, "deposit__", OPENS_FIGURES)


def held_kilograms_shown(caller: Caller, on: date | None = None):
    """`held_kilograms(on)`, None where `caller` may not see the deposit's figures."""
    held = held_kilograms(on)
    shown = figures_shown(caller)
    if shown is None:
        return held
    return Case(When(shown, then=held), default=None, output_field=KILOGRAMS)


def own_kilograms(on: date) -> Subquery:
    """The kilograms of the share estimates in force on `on` of the deposit mineral of the
    outer row: what `DepositCommodity.share_kilograms` keeps, as of that date."""
    own = (
        share_estimates(on=on)
        .filter(deposit_id=OuterRef("deposit_id"), mineral_id=OuterRef("mineral_id"))
        .values("deposit_id", "mineral_id")
        .annotate(kilograms=Sum(kilograms()))
        .values("kilograms")
    )
    return Subquery(own, output_field=KILOGRAMS)


def held_kilograms(on: date | None = None) -> F | Subquery:
    """The balance A+B+C1 kilograms in force (on `on`) of the deposit mineral of the row:
    the numerator of its computed share, None where it has no such estimate. As recorded
    now, the kept `share_kilograms`; as of a past day, `own_kilograms(on)`. The quantity
    the deposit list sorts by and the exports write is this figure, so it is the one a
    computed share is made of."""
    return F("share_kilograms") if on is None else own_kilograms(on)


def total_on(caller: Caller, on: date) -> Case | Value:
    """The denominator of the shares `caller` reads as of `on`, for the mineral of the
    outer row: `national_totals` as of that date, read in one query and written into the
    query as constants (a subquery per row would sum the whole mineral again for each)."""
    totals = national_totals(caller, on=on)
    if not totals:
        return Value(None, output_field=KILOGRAMS)
    return Case(
        *(
            When(mineral_id=mineral_id, then=Value(total, output_field=KILOGRAMS))
            for mineral_id, total in sorted(totals.items())
        ),
        default=None,
        output_field=KILOGRAMS,
    )


def with_shares(commodities: QuerySet, caller: Caller, on: date | None = None) -> QuerySet:
    """DepositCommodity rows annotated with `share_pct` (Decimal, two places, or None),
    `share_basis` (`COMPUTED`, `REPORTED` or None when nothing is known) and
    `share_scope` (`caller.scope` for a computed share, else None) and
    `share_bound` (`over`, `under` or `about` where a reported share's source says so).

    The basis is chosen per deposit: computed where the deposit has balance A+B+C1
    estimates in force of the mineral (its kept `share_kilograms`), over the total of
    such estimates of the deposits `caller` may see; otherwise the share a source
    reported, which one estimate elsewhere never rewrites.

    `on` a past date (`recorded_on`): the same rule over the estimates in force on that
    date; None: as recorded now, from the kept sums."""
    total = visible_total(caller) if on is None else total_on(caller, on)
    commodities = commodities.alias(held_for_share=held_kilograms_shown(caller, on))
    has_own = Q(held_for_share__isnull=False)
    computed = Percent(F("held_for_share"), NullIf(total, Value(0)))
    return commodities.annotate(
        share_pct=Case(
            # A nil total (every estimate of the mineral is nil) makes a share of 0.
            When(has_own, then=Coalesce(computed, Value(Decimal(0)))),
            default=F("reported_share_pct"),
            output_field=SharePercentField(),
        ),
        share_basis=Case(
            When(has_own, then=Value(COMPUTED)),
            When(reported_share_pct__isnull=False, then=Value(REPORTED)),
            default=None,
            output_field=CharField(),
        ),
        share_scope=Case(
            When(has_own, then=Value(caller.scope)),
            default=None,
            output_field=CharField(),
        ),
        # How the source words a reported share ("over" 70%); None for a computed one.
        share_bound=Case(
            When(has_own, then=Value(None)),
            default=NullIf(F("reported_share_bound"), Value("")),
            output_field=CharField(),
        ),
    )


def commodities_with_shares(caller: Caller, on: date | None = None) -> QuerySet:
    """A deposit's minerals as every surface shows them to `caller`: main first, by name,
    each with its mineral and its share (as of `on`)."""
    if on is None and not caller.may_hold_grants:
        # A copy: whoever reads it fills its own results, never the one kept.
        return _recorded_now(caller.by_level).all()
    return with_shares(DepositCommodity.objects.select_related("mineral"), caller, on)


@functools.cache
def _recorded_now(caller: Caller) -> QuerySet:
    """`commodities_with_shares` as recorded now for a caller no grant can open more to:
    built once a process for each set of levels. Its expressions then hold no figure (the
    denominator is a subquery of the kept sums) and depend on the levels alone, and
    building them was a measurable part of every read (docs/performance.md)."""
    return with_shares(DepositCommodity.objects.select_related("mineral"), caller, None)


def prefetch_commodities(
    caller: Caller, lookup: str = "commodities", on: date | None = None
) -> Prefetch:
    """The prefetch of deposits' minerals with their shares (one query per batch)."""
    return Prefetch(lookup, queryset=commodities_with_shares(caller, on))


def deposits_with_min_share(
    deposits: QuerySet, minerals, min_share: Decimal, caller: Caller, on: date | None = None
) -> QuerySet:
    """The deposits whose share of any of `minerals`, as `caller` reads it (as of `on`), is
    at least `min_share` percent."""
    holding = with_shares(DepositCommodity.objects.filter(mineral__in=minerals), caller, on)
    return deposits.filter(pk__in=holding.filter(share_pct__gte=min_share).values("deposit_id"))


def largest_share(caller: Caller, on: date | None = None, minerals=None) -> Subquery:
    """For the deposit of the outer row, its largest share as `caller` reads it (as of
    `on`) of `minerals` (every mineral it holds when None), unrounded as rankings order
    it; None when no share of them is known. What the deposit list sorts by (`share`):
    the rule's own figure, so a caller's order depends only on what it may see."""
    commodities = DepositCommodity.objects.filter(deposit_id=OuterRef("pk"))
    if minerals is not None:
        commodities = commodities.filter(mineral__in=minerals)
    shares = (
        with_shares(commodities, caller, on)
        .filter(share_pct__isnull=False)
        .order_by(F("share_pct").desc())
        .values("share_pct")[:1]
    )
    return Subquery(shares, output_field=SharePercentField())


def deposit_kilograms(mineral, on: date | None = None, caller: Caller = STAFF) -> Subquery:
    """For the deposit of the outer row, its balance A+B+C1 kilograms of `mineral` in force
    (on `on`; `held_kilograms`); None where it has none or `caller` may not see it."""
    held = (
        DepositCommodity.objects.filter(deposit_id=OuterRef("pk"), mineral=mineral)
        .annotate(kilograms=held_kilograms_shown(caller, on))
        .values("kilograms")[:1]
    )
    return Subquery(held, output_field=KILOGRAMS)


class CodePointOrder(Collate):
    """Text compared by code point, as Python compares strings: PostgreSQL's "C"
    collation, SQLite's BINARY (its default)."""

    def __init__(self, expression):
        super().__init__(expression, "C")

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, collation="BINARY", **extra_context)


def ranked(
    commodities: QuerySet, per: Iterable[str], top: int, caller: Caller, on: date | None = None
) -> QuerySet:
    """Each ranking's first `top` commodities by share (as of `on`): largest first, no share
    last, then by deposit name and identifier. A ranking is the rows sharing the fields
    `per` (e.g. `["mineral_id"]`); each row carries `place` and `ranked_count` (the
    ranking's length)."""
    per = [F(name) for name in per]
    order = [
        F("share_pct").desc(nulls_last=True),
        CodePointOrder(F("deposit__name")),
        CodePointOrder(F("deposit__public_id")),
    ]
    return (
        with_shares(commodities, caller, on)
        .annotate(
            place=Window(RowNumber(), partition_by=per, order_by=order),
            ranked_count=Window(Count("pk"), partition_by=per),
        )
        .filter(place__lte=top)
        .order_by(*per, "place")
    )


def national_totals(
    caller: Caller, mineral_ids: Iterable[int] | None = None, on: date | None = None
) -> dict[int, Decimal]:
    """The balance A+B+C1 totals in kilograms per mineral id, over the deposits `caller`
    may see: the denominators of the shares it reads. As recorded now (`on` None): the
    kept totals; as of a past date: summed from the estimates in force on it, for every
    mineral once while the registry and the day hold (kernel.memo): a list or page as of
    that date reads them again for each page, and the sum reads the whole history."""
    if on is not None:
        summed = memoised(
            ("national totals", caller, on), lambda: _summed_national_totals(caller, None, on)
        )
        return _of_minerals(summed, mineral_ids)
    totals = NationalReserveTotal.objects.filter(visible(caller))
    if mineral_ids is not None:
        totals = totals.filter(mineral_id__in=list(mineral_ids))
    sums: dict[int, Decimal] = defaultdict(Decimal)
    for mineral_id, level_total in totals.values_list("mineral_id", "kilograms"):
        sums[mineral_id] += level_total
    if caller.may_hold_grants:
        for mineral_id, total in opened_totals(caller, mineral_ids).items():
            sums[mineral_id] += total
    return {mineral_id: total for mineral_id, total in sums.items() if total > 0}


def _summed(estimates: QuerySet, *keys: str) -> dict[tuple, Decimal]:
    """Share estimates summed in kilograms (`kilograms`) per `keys`, by the database; a
    group without a convertible quantity is left out."""
    rows = estimates.values(*keys).annotate(total=Sum(kilograms())).values_list(*keys, "total")
    return {tuple(row[:-1]): row[-1] for row in rows if row[-1] is not None}


def _summed_national_totals(
    caller: Caller, mineral_ids: Iterable[int] | None, on: date | None
) -> dict[int, Decimal]:
    estimates = share_estimates(on=on).filter(visible(caller, "deposit__", OPENS_FIGURES))
    if mineral_ids is not None:
        estimates = estimates.filter(mineral_id__in=list(mineral_ids))
    sums = _summed(estimates, "mineral_id")
    return {mineral_id: total for (mineral_id,), total in sums.items() if total > 0}


def summed_national_totals(
    caller: Caller, mineral_ids: Iterable[int] | None = None
) -> dict[int, Decimal]:
    """What `national_totals` keeps, summed from the estimates themselves."""
    return _summed_national_totals(caller, mineral_ids, None)


def refresh_kept(
    deposit_ids: Iterable[int] | None = None, mineral_ids: Iterable[int] | None = None
) -> None:
    """Recompute what the rule keeps, for these deposits and minerals (all when None): which
    estimate of each series is in force when (`models.refresh_superseded`, for the whole of
    these deposits), each deposit mineral's own kilograms (`DepositCommodity.share_kilograms`)
    and each mineral's total per visibility level of its deposits.

    Called on every estimate or deposit-mineral write (deposits.signals) and after bulk
    loads, which bypass signals (synthetic data, restores); a deposit's visibility change
    calls `refresh_after_visibility_change`."""
    deposit_ids = None if deposit_ids is None else {d for d in deposit_ids if d is not None}
    mineral_ids = None if mineral_ids is None else {m for m in mineral_ids if m is not None}
    refresh_superseded(deposit_ids)
    commodities = DepositCommodity.objects.all()
    estimates = share_estimates()
    if deposit_ids is not None:
        commodities = commodities.filter(deposit_id__in=deposit_ids)
        estimates = estimates.filter(deposit_id__in=deposit_ids)
    if mineral_ids is not None:
        commodities = commodities.filter(mineral_id__in=mineral_ids)
        estimates = estimates.filter(mineral_id__in=mineral_ids)
    own = _summed(estimates, "deposit_id", "mineral_id")
    changed = []
    for commodity in commodities.only("deposit_id", "mineral_id", "share_kilograms"):
        kilograms = own.get((commodity.deposit_id, commodity.mineral_id))
        if commodity.share_kilograms != kilograms:
            commodity.share_kilograms = kilograms
            changed.append(commodity)
    DepositCommodity.objects.bulk_update(changed, ["share_kilograms"], batch_size=1000)
    _refresh_national_totals(mineral_ids)


def refresh_own_kilograms(commodity: DepositCommodity) -> None:
    """Recompute one deposit mineral's own kilograms, as when it is added after its
    estimates (national totals are sums of estimates: they do not change)."""
    estimates = share_estimates().filter(
        deposit_id=commodity.deposit_id, mineral_id=commodity.mineral_id
    )
    own = _summed(estimates, "mineral_id").get((commodity.mineral_id,))
    if commodity.share_kilograms != own:
        commodity.share_kilograms = own
        DepositCommodity.objects.filter(pk=commodity.pk).update(share_kilograms=own)


def refresh_after_visibility_change(deposit_id: int) -> None:
    """A deposit made more or less visible moves its estimates from one level's totals to
    another's."""
    minerals = ReserveEstimate.objects.filter(deposit_id=deposit_id).values_list("mineral_id")
    _refresh_national_totals({mineral_id for (mineral_id,) in minerals})


def _refresh_national_totals(mineral_ids: set[int] | None) -> None:
    """Each mineral's total per visibility level of its deposits, kept only where above 0."""
    estimates = share_estimates()
    kept = NationalReserveTotal.objects.all()
    if mineral_ids is not None:
        estimates = estimates.filter(mineral_id__in=mineral_ids)
        kept = kept.filter(mineral_id__in=mineral_ids)
    summed = {
        place: total
        for place, total in _summed(estimates, "mineral_id", "deposit__visibility").items()
        if total > 0
    }
    stale = [row.pk for row in kept if (row.mineral_id, row.visibility) not in summed]
    NationalReserveTotal.objects.filter(pk__in=stale).delete()
    for (mineral_id, visibility), total in summed.items():
        NationalReserveTotal.objects.update_or_create(
            mineral_id=mineral_id, visibility=visibility, defaults={"kilograms": total}
        )


@dataclass(frozen=True)
class ShareMove:
    """Another deposit's computed share of a mineral, before and after a write."""

    deposit: str
    public_id: str
    mineral: str
    before: Decimal
    after: Decimal

    @property
    def points(self) -> Decimal:
        return abs(self.after - self.before)


class _Undone(Exception):
    """Raised to roll the rehearsed write back."""


def _computed_shares(mineral_ids: set[int], caller: Caller) -> dict[tuple, tuple]:
    rows = with_shares(
        DepositCommodity.objects.filter(mineral_id__in=mineral_ids, share_kilograms__isnull=False),
        caller,
    ).values_list(
        "deposit_id",
        "mineral_id",
        "share_pct",
        "deposit__name",
        "deposit__public_id",
        "mineral__name",
    )
    return {(row[0], row[1]): row[2:] for row in rows}


def share_moves(
    write: Callable[[], None],
    mineral_ids: Iterable[int],
    own_deposit_id: int | None,
    points: Decimal | int,
    caller: Caller = STAFF,
) -> list[ShareMove]:
    """The other deposits whose computed share of one of `mineral_ids` `write` (a write of
    reserve estimates) would move by more than `points` percentage points, largest move
    first; `write` itself is rolled back.

    The write is rehearsed rather than its effect reckoned: inside a transaction that is
    always rolled back, `write` saves the estimates as the real save would (the signals
    refresh the kept sums as they always do), the shares are read with `with_shares`, and
    everything is undone. So the figure "after" is the one rule's own answer, with every
    case it covers (a re-estimate replacing an older one, an estimate moved to another
    mineral, a deletion, units) and no second rule to drift from it; reckoning the shares
    of a hypothetical set of estimates in Python would have been that second rule. The
    price is one rolled-back write and two reads of the mineral's computed shares per
    save, paid by a clerk's admin save only. Staff see every deposit, so the default
    scope is theirs."""
    mineral_ids = {m for m in mineral_ids if m is not None}
    if not mineral_ids:
        return []
    try:
        # Both reads in the transaction: on the primary, whatever the replicas hold.
        with transaction.atomic():
            before = _computed_shares(mineral_ids, caller)
            write()
            after = _computed_shares(mineral_ids, caller)
            raise _Undone
    except _Undone:
        pass
    moves = []
    for key, (share, deposit, public_id, mineral) in before.items():
        if key[0] == own_deposit_id or key not in after:
            continue
        moved = ShareMove(deposit, public_id, mineral, share, after[key][0])
        if moved.points > points:
            moves.append(moved)
    moves.sort(key=lambda m: (-m.points, m.mineral, m.deposit, m.public_id))
    return moves
