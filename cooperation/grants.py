"""Data-sharing clauses at work: when each is in force, which deposits it covers, and
what it opens to a partner key (registered with kernel.visibility when the app is ready).

A clause is in force while its memorandum is: from its signing (or its entry into force
when that is recorded without a signing) until it expires, is terminated, or its
`valid_until` day has passed, whichever comes first, except while it is suspended. Those
days are derived from the lifecycle (`force_periods`) and kept on the clause (its
`periods`, and the first and last day as `opens_on`, `closes_on`) whenever a transition is
recorded or the memorandum, its parties or the clause change; the rule (`in_force`)
compares them with today's date when it reads, so a clause opens and closes, is
suspended and resumed on its day with no job to run.

Which deposits a clause covers (`covered_deposits`) is kept in `GrantedDeposit`, refreshed
here on every clause, deposit and deposit-mineral write (the receivers at the end);
bulk loads that bypass signals call `refresh_all`.

A partner keeping a copy learns of what a clause opens and closes from the change feed.
Its moments have no history row (a clause closes by date), so each change of what is
opened is logged in `GrantChange` (`_reschedule`): `created` or `deleted` now for what
opens or closes with the write, and ahead of time for the days a clause will open or
close (a suspension closes, a resumption opens); the feed lists the rows whose moment
has come, and judges each past change by what the log says was open at its moment
(`opened_at`), not by what the clauses cover today.
"""

import datetime
import functools
import operator
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.utils import timezone
from shapely import Point
from shapely.prepared import prep

from cooperation.models import (
    DataGrant,
    GrantChange,
    GrantedDeposit,
    GrantPeriod,
    Memorandum,
    MemorandumParty,
    MemorandumStatus,
    MemorandumTransition,
    effective_dates,
    suspensions,
)
from deposits.models import Deposit, DepositCommodity
from kernel.visibility import OPENS_FIGURES, OPENS_RECORD, register_opening

ONE_DAY = datetime.timedelta(days=1)


def force_periods(memorandum: Memorandum) -> list[tuple[datetime.date, datetime.date | None]]:
    """The stretches of days the memorandum is in force by its lifecycle as it stands
    after corrections, oldest first: (first day in force, first day no longer in force,
    None while no end is known). From its signing (or entry into force) to its expiry,
    termination or the day after `valid_until`, less its suspensions; empty when it never
    was in force."""
    transitions = memorandum.recorded_transitions()
    dates = effective_dates(transitions)
    starts = [dates[s] for s in (MemorandumStatus.SIGNED, MemorandumStatus.IN_FORCE) if s in dates]
    if not starts:
        return []
    opens = min(starts)
    ends = [dates[s] for s in (MemorandumStatus.EXPIRED, MemorandumStatus.TERMINATED) if s in dates]
    if memorandum.valid_until is not None:
        ends.append(memorandum.valid_until + ONE_DAY)
    closes = min(ends) if ends else None
    periods = []
    start = opens
    for suspended, resumed in suspensions(transitions):
        if start is None or (closes is not None and suspended >= closes):
            break
        if suspended > start:
            periods.append((start, suspended))
        start = None if resumed is None else max(start, resumed)
    if start is not None and (closes is None or start < closes):
        periods.append((start, closes))
    return periods


def in_force(on: datetime.date | None = None, prefix: str = "") -> Q:
    """The condition, on clauses (reached through `prefix`), of being in force on `on`
    (today): one of their periods holds the day. Asked in one `filter()` call, its
    conditions are of one period row (a join, no subquery)."""
    on = on or timezone.localdate()
    return Q(**{f"{prefix}periods__opens_on__lte": on}) & (
        Q(**{f"{prefix}periods__closes_on__isnull": True})
        | Q(**{f"{prefix}periods__closes_on__gt": on})
    )


def with_in_force(clauses: QuerySet, on: datetime.date | None = None) -> QuerySet:
    """The clauses, each with `is_in_force` on `on` (today) by the rule, in their own query
    (the rule joins a clause's periods, so it is asked of each in a subquery)."""
    return clauses.annotate(
        is_in_force=Exists(DataGrant.objects.filter(in_force(on), pk=OuterRef("pk")))
    )


def opened_deposits(organisation_id: int, figures: bool = False) -> QuerySet:
    """The primary keys of the deposits the clauses in force today open to the
    organisation (with their reserve figures, when `figures`): a subquery for the rule,
    which narrows it by the rows' kept `visibility` to what lies beyond the caller's
    levels."""
    # Joins, no nested subquery: SQLite parses the rule inside deep share expressions.
    rows = GrantedDeposit.objects.filter(
        in_force(prefix="grant__"), grant__organisation_id=organisation_id
    )
    if figures:
        rows = rows.filter(grant__shares_reserves=True)
    return rows.values("deposit_id")


def open_count(organisation_id: int, deposit_id, moment, *, figures: bool = False, rows=None):
    """How many clauses of the organisation had the deposit `deposit_id` open (with its
    figures, when `figures`) at `moment`, by the log (`GrantChange`): the openings less the
    closings logged up to it. `deposit_id` and `moment` are expressions on the outer row
    (OuterRef); `rows` narrows the log further (the feed's own rows, up to one of them).
    Past rows are never rewritten, so this is what the partner could see then; a deleted
    clause keeps its rows, and so does the count."""
    log = GrantChange.objects.filter(organisation_id=organisation_id, deposit_id=deposit_id)
    log = log.filter(at__lte=moment) if rows is None else log.filter(rows)
    if figures:
        log = log.filter(figures=True)
    step = Case(When(action=GrantChange.CREATED, then=Value(1)), default=Value(-1))
    balance = log.order_by().values("deposit_id").annotate(n=Sum(step)).values("n")[:1]
    return Coalesce(Subquery(balance, output_field=IntegerField()), Value(0))


def opened_at(organisation_id: int, deposit_id: str, at: str, figures: bool = False) -> Q:
    """On rows of another table: whether the deposit `deposit_id` (a column of the outer
    row) was open to the organisation (with its figures, when `figures`) at the moment
    `at` (a column of the outer row), by what the clauses covered and whether they were in
    force then. The change feed's rule for a change of a deposit or its figures."""
    count = open_count(organisation_id, OuterRef(deposit_id), OuterRef(at), figures=figures)
    return Q(GreaterThan(count, 0))


def register() -> None:
    register_opening(OPENS_RECORD, lambda organisation_id: opened_deposits(organisation_id))
    register_opening(OPENS_FIGURES, lambda organisation_id: opened_deposits(organisation_id, True))


# --- What is kept


def refresh_period(memorandum: Memorandum) -> None:
    """Write the clauses' days in force from the memorandum's lifecycle; a clause whose
    organisation is no longer a party is never in force. Updates, not saves: the days
    are derived, and the memorandum's own history records what moved them."""
    periods = force_periods(memorandum)
    parties = set(
        MemorandumParty.objects.filter(memorandum=memorandum).values_list(
            "organisation_id", flat=True
        )
    )
    kept = defaultdict(list)
    for row in GrantPeriod.objects.filter(grant__memorandum=memorandum).order_by("opens_on"):
        kept[row.grant_id].append((row.opens_on, row.closes_on))
    for grant in DataGrant.objects.filter(memorandum=memorandum):
        own = periods if grant.organisation_id in parties else []
        span = (own[0][0], own[-1][1]) if own else (None, None)
        if (grant.opens_on, grant.closes_on) != span:
            grant.opens_on, grant.closes_on = span
            DataGrant.objects.filter(pk=grant.pk).update(opens_on=span[0], closes_on=span[1])
        if kept[grant.pk] != own:
            GrantPeriod.objects.filter(grant=grant).delete()
            GrantPeriod.objects.bulk_create(
                [GrantPeriod(grant=grant, opens_on=a, closes_on=b) for a, b in own]
            )
        _reschedule(grant, periods=own)


def moment(day: datetime.date) -> datetime.datetime:
    """The first moment of a day, in the registry's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _reschedule(grant: DataGrant, deposit_ids=None, *, ended: bool = False, periods=None) -> None:
    """Log in `GrantChange` what the clause opens and closes to its organisation, from now
    on, for these deposits (all it covers or has logged when None): what it opened and no
    longer does is `deleted` now, what it newly opens `created` now; the moments it will
    open or close (its periods in force: `periods`, else the kept ones) are logged ahead,
    a suspension as a closing and a resumption as an opening. `ended`: the clause is
    being deleted."""
    now = timezone.now()
    log = GrantChange.objects.filter(grant=grant)
    covered = set(GrantedDeposit.objects.filter(grant=grant).values_list("deposit_id", flat=True))
    if ended:
        covered = set()
    if deposit_ids is None:
        deposit_ids = covered | set(log.values_list("deposit_id", flat=True))
    deposit_ids = set(deposit_ids)
    log = log.filter(deposit_id__in=deposit_ids)
    log.filter(at__gt=now).delete()
    last = {}
    for deposit_id, action, figures in log.order_by("at", "id").values_list(
        "deposit_id", "action", "figures"
    ):
        last[deposit_id] = (action, figures)
    if periods is None:
        periods = list(GrantPeriod.objects.filter(grant=grant).values_list("opens_on", "closes_on"))
    stretches = [(moment(a), moment(b) if b else None) for a, b in periods]
    current = next((p for p in stretches if p[0] <= now and (p[1] is None or p[1] > now)), None)
    ahead = [p for p in stretches if p[0] > now]
    figures = grant.shares_reserves
    rows = []

    def entry(deposit_id, action, at, with_figures=figures):
        rows.append(
            GrantChange(
                grant=grant,
                organisation_id=grant.organisation_id,
                deposit_id=deposit_id,
                figures=with_figures,
                action=action,
                at=at,
                day=timezone.localtime(at).date(),
            )
        )

    for deposit_id in sorted(deposit_ids):
        was_action, was_figures = last.get(deposit_id, (None, figures))
        was_open = was_action == GrantChange.CREATED
        is_open = deposit_id in covered and current is not None
        if was_open and (not is_open or was_figures != figures):
            entry(deposit_id, GrantChange.DELETED, now, was_figures)
            was_open = False
        if is_open and not was_open:
            entry(deposit_id, GrantChange.CREATED, now)
        if deposit_id not in covered:
            continue
        if is_open and current[1] is not None:
            entry(deposit_id, GrantChange.DELETED, current[1])
        for start, end in ahead:
            entry(deposit_id, GrantChange.CREATED, start)
            if end is not None:
                entry(deposit_id, GrantChange.DELETED, end)
    GrantChange.objects.bulk_create(rows)


@dataclass(frozen=True)
class Coverage:
    """What a clause covers, as conditions on a deposit: `named` (its named deposits),
    `matching` (every criterion among minerals, regions and the area's bounding box; None
    without criteria) and `area`, the shape a matching deposit's point must lie in."""

    named: Q
    matching: Q | None
    area: object  # a prepared shapely geometry, or None

    @classmethod
    def of(cls, grant: DataGrant) -> "Coverage":
        scope = grant.scope()
        shape = grant.area_shape()
        criteria = []
        if scope["minerals"]:
            minerals = DepositCommodity.objects.filter(mineral__in=scope["minerals"])
            criteria.append(Q(pk__in=minerals.values("deposit_id")))
        if scope["regions"]:
            criteria.append(Q(region__in=scope["regions"]))
        if shape is not None:
            west, south, east, north = shape.bounds
            box = Q(longitude__gte=west, longitude__lte=east)
            criteria.append(box & Q(latitude__gte=south, latitude__lte=north))
        return cls(
            named=Q(pk__in=scope["deposits"]) if scope["deposits"] else Q(pk__in=()),
            matching=functools.reduce(operator.and_, criteria) if criteria else None,
            area=None if shape is None else prep(shape),
        )

    def covers(self, named: bool, matching: bool, longitude, latitude) -> bool:
        """Whether a deposit is covered, given which conditions it meets and its point."""
        if named:
            return True
        if not matching:
            return False
        return self.area is None or self.area.covers(Point(float(longitude), float(latitude)))


def covered_deposits(grant: DataGrant, deposits: QuerySet | None = None) -> dict[int, str]:
    """The deposits of `deposits` (all) the clause covers, primary key to visibility: the
    named ones, and those matching every criterion given (minerals, regions, area)."""
    deposits = Deposit.objects.all() if deposits is None else deposits
    coverage = Coverage.of(grant)
    if coverage.matching is None:
        return dict(deposits.filter(coverage.named).values_list("pk", "visibility"))
    rows = (
        deposits.filter(coverage.named | coverage.matching)
        .annotate(named=ExpressionWrapper(coverage.named, output_field=BooleanField()))
        .values_list("pk", "visibility", "named", "longitude", "latitude")
    )
    return {
        pk: visibility
        for pk, visibility, named, longitude, latitude in rows
        if coverage.covers(named, True, longitude, latitude)
    }


def refresh_grant(grant: DataGrant) -> None:
    """Keep the deposits one clause covers (with their visibility), and its days in force."""
    covered = covered_deposits(grant)
    kept = dict(GrantedDeposit.objects.filter(grant=grant).values_list("deposit_id", "visibility"))
    GrantedDeposit.objects.filter(grant=grant, deposit_id__in=kept.keys() - covered.keys()).delete()
    GrantedDeposit.objects.bulk_create(
        [
            GrantedDeposit(grant=grant, deposit_id=pk, visibility=covered[pk])
            for pk in covered.keys() - kept.keys()
        ]
    )
    moved = defaultdict(list)  # visibility -> deposits whose level changed past the signals
    for pk in covered.keys() & kept.keys():
        if covered[pk] != kept[pk]:
            moved[covered[pk]].append(pk)
    for visibility, pks in moved.items():
        GrantedDeposit.objects.filter(grant=grant, deposit_id__in=pks).update(visibility=visibility)
    refresh_period(grant.memorandum)  # reschedules the memorandum's clauses


def refresh_deposit(deposit_id: int) -> None:
    """Keep which clauses cover one deposit, and its visibility on their rows (after its
    region, place, minerals or visibility changed). Every clause's conditions are asked
    of the deposit in one row, so a save costs the same however many clauses there are."""
    grants = DataGrant.objects.prefetch_related("deposits", "minerals", "regions")
    coverages = {grant.pk: Coverage.of(grant) for grant in grants}
    conditions = {}
    for pk, coverage in coverages.items():
        conditions[f"named_{pk}"] = ExpressionWrapper(coverage.named, output_field=BooleanField())
        if coverage.matching is not None:
            conditions[f"matching_{pk}"] = ExpressionWrapper(
                coverage.matching, output_field=BooleanField()
            )
    row = (
        Deposit.objects.filter(pk=deposit_id)
        .values("visibility", "longitude", "latitude", **conditions)
        .first()
    )
    if row is None:
        return
    visibility = row["visibility"]
    covering = {
        pk
        for pk, coverage in coverages.items()
        if coverage.covers(
            row[f"named_{pk}"],
            row.get(f"matching_{pk}", False),
            row["longitude"],
            row["latitude"],
        )
    }
    rows = GrantedDeposit.objects.filter(deposit_id=deposit_id)
    kept = set(rows.values_list("grant_id", flat=True))
    rows.filter(grant_id__in=kept - covering).delete()
    rows.exclude(visibility=visibility).update(visibility=visibility)
    GrantedDeposit.objects.bulk_create(
        [
            GrantedDeposit(grant_id=pk, deposit_id=deposit_id, visibility=visibility)
            for pk in covering - kept
        ]
    )
    for grant in DataGrant.objects.filter(pk__in=covering ^ kept):
        _reschedule(grant, {deposit_id})


def refresh_all() -> None:
    """Everything kept here, after a bulk load that bypassed the signals."""
    for grant in DataGrant.objects.select_related("memorandum").prefetch_related(
        "deposits", "minerals", "regions"
    ):
        refresh_grant(grant)


# --- Receivers (connected by CooperationConfig.ready)


def _after_grant_save(sender, instance, raw=False, **kwargs):
    if not raw:
        refresh_grant(instance)


def _after_grant_scope_change(sender, instance, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear") and isinstance(instance, DataGrant):
        refresh_grant(instance)


def _before_grant_delete(sender, instance, **kwargs):
    _reschedule(instance, ended=True)


def _after_lifecycle_change(sender, instance, raw=False, **kwargs):
    if raw:
        return
    memorandum = instance if isinstance(instance, Memorandum) else instance.memorandum
    if DataGrant.objects.filter(memorandum=memorandum).exists():
        refresh_period(memorandum)


def _after_party_delete(sender, instance, **kwargs):
    memorandum = Memorandum.objects.filter(pk=instance.memorandum_id).first()
    if memorandum is not None and DataGrant.objects.filter(memorandum=memorandum).exists():
        refresh_period(memorandum)


def _after_deposit_save(sender, instance, raw=False, **kwargs):
    if not raw and DataGrant.objects.exists():
        refresh_deposit(instance.pk)


def _after_commodity_change(sender, instance, raw=False, **kwargs):
    if not raw and DataGrant.objects.exists():
        refresh_deposit(instance.deposit_id)


def connect() -> None:
    post_save.connect(_after_grant_save, sender=DataGrant)
    pre_delete.connect(_before_grant_delete, sender=DataGrant)
    for through in (
        DataGrant.deposits.through,
        DataGrant.minerals.through,
        DataGrant.regions.through,
    ):
        m2m_changed.connect(_after_grant_scope_change, sender=through)
    post_save.connect(_after_lifecycle_change, sender=Memorandum)
    post_save.connect(_after_lifecycle_change, sender=MemorandumTransition)
    post_save.connect(_after_lifecycle_change, sender=MemorandumParty)
    post_delete.connect(_after_party_delete, sender=MemorandumParty)
    post_save.connect(_after_deposit_save, sender=Deposit)
    post_save.connect(_after_commodity_change, sender=DepositCommodity)
    post_delete.connect(_after_commodity_change, sender=DepositCommodity)
