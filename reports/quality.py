"""The data-quality report: what in the registry needs a clerk's attention.

One function per kind of finding; `findings()` runs them all. The admin page and
the `data_quality` command both print these, each line linking to the record.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cooperation.models import Memorandum, MemorandumStatus
from deposits import entry, geo
from deposits.models import Deposit, DepositCommodity, ReserveEstimate
from deposits.querysets import with_in_force
from deposits.shares import COMPUTED, REPORTED, recorded_on, with_shares
from deposits.units import KILOGRAMS_PER_UNIT, contained_kilograms, to_kilograms
from kernel import names
from kernel.visibility import STAFF

STALE_AFTER_YEARS = 10
# A contained quantity and the ore and grade beside it may differ by rounding; further
# apart than this share of the larger, one of the figures is wrong, or they describe
# different things (before and after a survey).
CONTAINED_TOLERANCE = Decimal("0.05")
# Shares are rounded to two places: a mineral's shares may sum a little past 100.
SHARE_SUM_TOLERANCE = Decimal("0.5")
# Looser than a search's match (kernel/names.py: SIMILAR): nearness on the map confirms,
# and a clerk decides ("Zidda" and "Ziddy", 5 km apart, are worth a look).
DUPLICATE_NAME_SIMILARITY = 75
# Grid cells of 0.1 degree (about 11 km north-south) bucket deposits for the duplicate check.
CELL = Decimal("0.1")

# What each check is called on the admin page (the codes stay in the command's output).
CHECK_LABELS = {
    "location": gettext_lazy("location"),
    "border": gettext_lazy("border"),
    "region": gettext_lazy("region"),
    "source": gettext_lazy("source"),
    "stale": gettext_lazy("stale estimate"),
    "shares": gettext_lazy("shares"),
    "contained": gettext_lazy("contained quantity"),
    "protocol date": gettext_lazy("estimate newer than its protocol"),
    "withdrawal date": gettext_lazy("withdrawal before the estimate"),
    "mixed shares": gettext_lazy("mixed shares"),
    "duplicate": gettext_lazy("duplicate"),
    "expiry": gettext_lazy("expiry"),
}


@dataclass(frozen=True)
class Finding:
    check: str
    record: str
    message: str
    url: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.record}: {self.message} ({self.url})"

    @property
    def check_label(self) -> str:
        return str(CHECK_LABELS.get(self.check, self.check))


def admin_url(record) -> str:
    meta = record._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk])


def deposit_label(deposit: Deposit) -> str:
    return _("deposit %(id)s %(name)s") % {"id": deposit.public_id, "name": deposit.name}


def deposits_without_location() -> Iterator[Finding]:
    for deposit in Deposit.objects.filter(Q(latitude=None) | Q(region=None)).order_by("name"):
        if deposit.latitude is None and deposit.region_id is None:
            message = _("no coordinates and no region")
        elif deposit.latitude is None:
            message = _("no coordinates")
        else:
            message = _("no region")
        yield Finding("location", deposit_label(deposit), message, admin_url(deposit))


def deposits_off_their_region() -> Iterator[Finding]:
    """Points the entry checks would refuse today (deposits/entry.py: recorded before
    them, or kept by a clerk with a reason), and regions derived from a point."""
    deposits = (
        Deposit.objects.exclude(latitude=None)
        .select_related("region", "district__region")
        .order_by("name")
    )
    for deposit in deposits:
        errors = entry.place_errors(deposit)
        for field, check in (("latitude", "border"), ("region", "region")):
            if field in errors:
                yield Finding(
                    check, deposit_label(deposit), errors[field].messages[0], admin_url(deposit)
                )
        if not errors and deposit.region_derived:
            yield Finding(
                "region",
                deposit_label(deposit),
                _("region %(region)s was derived from coordinates; confirm it")
                % {"region": deposit.region.code},
                admin_url(deposit),
            )


def estimate_label(estimate: ReserveEstimate) -> str:
    return _("estimate of %(symbol)s %(category)s for %(id)s %(name)s") % {
        "symbol": estimate.mineral.symbol,
        "category": estimate.category,
        "id": estimate.deposit.public_id,
        "name": estimate.deposit.name,
    }


def estimates_to_review(today: datetime.date) -> Iterator[Finding]:
    """Estimates without a source (any, history too), and estimates in force on `today`
    (the share rule's, `with_in_force`) dated more than STALE_AFTER_YEARS before it:
    figures that still count and may be out of date. History is old by nature: an
    estimate replaced, superseded or written off is never stale."""
    stale_before = today.replace(year=today.year - STALE_AFTER_YEARS)
    estimates = (
        with_in_force(ReserveEstimate.objects.all(), recorded_on(today))
        .filter(Q(source="") | Q(as_of__lt=stale_before, in_force=True))
        .select_related("deposit", "mineral")
        .order_by("deposit__name", "mineral__name")
    )
    for estimate in estimates:
        if not estimate.source:
            yield Finding("source", estimate_label(estimate), _("no source"), admin_url(estimate))
        if estimate.in_force and estimate.as_of and estimate.as_of < stale_before:
            yield Finding(
                "stale",
                estimate_label(estimate),
                _("dated %(year)s, more than %(years)s years ago")
                % {"year": estimate.as_of.year, "years": STALE_AFTER_YEARS},
                admin_url(estimate),
            )


def estimate_dates_out_of_order() -> Iterator[Finding]:
    """Dates of an estimate that contradict each other: figures dated after the protocol
    that approved them, and a withdrawal dated before the estimate (the model refuses
    one entered today; older records and bulk loads may hold them)."""
    estimates = (
        ReserveEstimate.objects.filter(
            Q(as_of__gt=F("protocol_date")) | Q(withdrawn_on__lt=F("as_of"))
        )
        .select_related("deposit", "mineral")
        .order_by("deposit__name", "mineral__name", "category", "pk")
    )
    for estimate in estimates:
        if estimate.protocol_date is not None and estimate.as_of > estimate.protocol_date:
            yield Finding(
                "protocol date",
                estimate_label(estimate),
                _("dated %(as_of)s, after its protocol %(protocol)s of %(date)s")
                % {
                    "as_of": estimate.as_of.isoformat(),
                    "protocol": estimate.protocol or "—",
                    "date": estimate.protocol_date.isoformat(),
                },
                admin_url(estimate),
            )
        if estimate.withdrawn_on is not None and estimate.withdrawn_on < estimate.as_of:
            yield Finding(
                "withdrawal date",
                estimate_label(estimate),
                _("withdrawn on %(date)s, before its own date %(as_of)s")
                % {
                    "date": estimate.withdrawn_on.isoformat(),
                    "as_of": estimate.as_of.isoformat(),
                },
                admin_url(estimate),
            )


def shares_past_100_percent() -> Iterator[Finding]:
    totals = (
        DepositCommodity.objects.exclude(reported_share_pct=None)
        .values("mineral__code", "mineral__name", "mineral_id")
        .annotate(total=Sum("reported_share_pct"))
        .filter(total__gt=100)
        .order_by("mineral__name")
    )
    for row in totals:
        yield Finding(
            "shares",
            _("mineral %(code)s") % {"code": row["mineral__code"]},
            _("reported shares of %(mineral)s add up to %(total)s%%")
            % {"mineral": row["mineral__name"], "total": f"{row['total'].normalize():f}"},
            reverse("admin:deposits_mineral_change", args=[row["mineral_id"]]),
        )


def _mass(kilograms: Decimal, unit: str) -> str:
    quantity = (kilograms / KILOGRAMS_PER_UNIT[unit]).quantize(Decimal(1))
    return f"{number_format(quantity, 0, force_grouping=True)} {unit}"


def contained_against_ore_and_grade() -> Iterator[Finding]:
    """Estimates whose contained quantity contradicts their ore tonnage × grade."""
    estimates = (
        ReserveEstimate.objects.exclude(quantity=None)
        .exclude(ore_tonnage=None)
        .exclude(grade=None)
        .filter(unit__in=KILOGRAMS_PER_UNIT)
        .select_related("deposit", "mineral")
        .order_by("deposit__name", "mineral__name", "category", "pk")
    )
    for estimate in estimates:
        implied = contained_kilograms(estimate.ore_tonnage, estimate.grade, estimate.grade_unit)
        if implied is None:
            continue
        stated = to_kilograms(estimate.quantity, estimate.unit)
        if abs(stated - implied) <= CONTAINED_TOLERANCE * max(stated, implied):
            continue
        yield Finding(
            "contained",
            estimate_label(estimate),
            _(
                "states %(stated)s, but %(ore)s t of ore at %(grade)s %(grade_unit)s hold "
                "%(implied)s"
            )
            % {
                "stated": _mass(stated, estimate.unit),
                "ore": f"{estimate.ore_tonnage.normalize():,f}",
                "grade": f"{estimate.grade.normalize():f}",
                "grade_unit": estimate.grade_unit,
                "implied": _mass(implied, estimate.unit),
            },
            admin_url(estimate),
        )


def mixed_shares_past_100_percent() -> Iterator[Finding]:
    """Minerals whose shares, computed and reported together, add up past 100%: the
    computed ones divide the registry's balance reserves among the deposits that have
    them, so a reported share beside them was measured against another total."""
    rows = (
        with_shares(DepositCommodity.objects.all(), STAFF)
        .exclude(share_pct=None)
        .values("mineral_id", "mineral__code", "mineral__name", "share_basis", "share_pct")
        .order_by("mineral__name")
    )
    sums: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        mineral = (row["mineral_id"], row["mineral__code"], row["mineral__name"])
        sums[mineral][row["share_basis"]] += row["share_pct"]
    for (mineral_id, code, name), by_basis in sums.items():
        if len(by_basis) < 2 or sum(by_basis.values()) <= 100 + SHARE_SUM_TOLERANCE:
            continue
        yield Finding(
            "mixed shares",
            _("mineral %(code)s") % {"code": code},
            _(
                "computed shares of %(mineral)s add up to %(computed)s%% and reported ones "
                "to %(reported)s%% more: a reported share is of another total"
            )
            % {
                "mineral": name,
                "computed": number_format(by_basis[COMPUTED].quantize(Decimal("0.01")), 2),
                "reported": number_format(by_basis[REPORTED].quantize(Decimal("0.01")), 2),
            },
            reverse("admin:deposits_mineral_change", args=[mineral_id]),
        )


def suspected_duplicates() -> Iterator[Finding]:
    cells = defaultdict(list)
    for deposit in Deposit.objects.exclude(latitude=None).only(
        "id", "public_id", "name", "aliases", "latitude", "longitude"
    ):
        cells[(deposit.latitude // CELL, deposit.longitude // CELL)].append(deposit)
    seen = set()
    for (row, column), members in sorted(cells.items()):
        neighbours = [
            other
            for dr in (-1, 0, 1)
            for dc in (-1, 0, 1)
            for other in cells.get((row + dr, column + dc), [])
        ]
        for deposit in members:
            for other in neighbours:
                pair = tuple(sorted((deposit.pk, other.pk)))
                if deposit.pk == other.pk or pair in seen:
                    continue
                seen.add(pair)
                distance = geo.distance_km(
                    float(deposit.longitude),
                    float(deposit.latitude),
                    float(other.longitude),
                    float(other.latitude),
                )
                if distance <= entry.DUPLICATE_RADIUS_KM and similar_names(deposit, other):
                    first, second = sorted((deposit, other), key=lambda d: d.public_id)
                    yield Finding(
                        "duplicate",
                        deposit_label(first),
                        _("suspected duplicate of %(id)s %(name)s (%(distance)s km apart)")
                        % {
                            "id": second.public_id,
                            "name": second.name,
                            "distance": number_format(round(distance, 1), 1),
                        },
                        admin_url(first),
                    )


def similar_names(first: Deposit, second: Deposit) -> bool:
    """The name matcher's judgement (kernel/names.py), any spelling of either."""
    return names.same_name(
        entry.comparable_names(first),
        entry.comparable_names(second),
        DUPLICATE_NAME_SIMILARITY,
    )


# The statuses of a memorandum that has not ended: signed, in force, or suspended (a
# suspension interrupts it; it still expires on its date).
NOT_ENDED = (MemorandumStatus.SIGNED, MemorandumStatus.IN_FORCE, MemorandumStatus.SUSPENDED)


def memoranda_past_expiry(today: datetime.date) -> Iterator[Finding]:
    memoranda = Memorandum.objects.filter(status__in=NOT_ENDED, valid_until__lt=today).order_by(
        "valid_until"
    )
    for memorandum in memoranda:
        yield Finding(
            "expiry",
            _("memorandum %(id)s %(title)s")
            % {"id": memorandum.public_id, "title": memorandum.title},
            _("expired on %(date)s but is still marked %(status)s")
            % {"date": memorandum.valid_until, "status": memorandum.get_status_display()},
            admin_url(memorandum),
        )


def findings(today: datetime.date | None = None) -> list[Finding]:
    today = today or timezone.localdate()
    return [
        *deposits_without_location(),
        *deposits_off_their_region(),
        *estimates_to_review(today),
        *estimate_dates_out_of_order(),
        *shares_past_100_percent(),
        *mixed_shares_past_100_percent(),
        *contained_against_ore_and_grade(),
        *suspected_duplicates(),
        *memoranda_past_expiry(today),
    ]
