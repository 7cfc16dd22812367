"""The data-quality report: what in the registry needs a clerk's attention.

One function per kind of finding; `findings()` runs them all. The admin page and
the `data_quality` command both print these, each line linking to the record.
"""

import datetime
import difflib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cooperation.models import Memorandum, MemorandumStatus
from deposits import geo
from deposits.minmod import name_key
from deposits.models import Deposit, DepositCommodity, ReserveEstimate

STALE_AFTER_YEARS = 10
DUPLICATE_RADIUS_KM = 10.0
DUPLICATE_NAME_SIMILARITY = 0.8
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
    deposits = Deposit.objects.exclude(latitude=None).select_related("region").order_by("name")
    for deposit in deposits:
        lon, lat = float(deposit.longitude), float(deposit.latitude)
        if not geo.inside_tajikistan(lon, lat):
            yield Finding(
                "border",
                deposit_label(deposit),
                _("coordinates %(lat)s, %(lon)s lie outside Tajikistan's border")
                % {"lat": lat, "lon": lon},
                admin_url(deposit),
            )
            continue
        found = geo.region_code_at(lon, lat)
        if deposit.region_id and found and found != deposit.region.code:
            yield Finding(
                "region",
                deposit_label(deposit),
                _(
                    "recorded in %(recorded)s, but its coordinates fall in %(found)s "
                    "(generalised polygons: confirm near borders)"
                )
                % {"recorded": deposit.region.code, "found": found},
                admin_url(deposit),
            )
        elif deposit.region_derived:
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
    stale_before = today.replace(year=today.year - STALE_AFTER_YEARS)
    estimates = (
        ReserveEstimate.objects.filter(Q(source="") | Q(as_of__lt=stale_before))
        .select_related("deposit", "mineral")
        .order_by("deposit__name", "mineral__name")
    )
    for estimate in estimates:
        if not estimate.source:
            yield Finding("source", estimate_label(estimate), _("no source"), admin_url(estimate))
        if estimate.as_of and estimate.as_of < stale_before:
            yield Finding(
                "stale",
                estimate_label(estimate),
                _("dated %(year)s, more than %(years)s years ago")
                % {"year": estimate.as_of.year, "years": STALE_AFTER_YEARS},
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
                if distance <= DUPLICATE_RADIUS_KM and similar_names(deposit, other):
                    first, second = sorted((deposit, other), key=lambda d: d.public_id)
                    yield Finding(
                        "duplicate",
                        deposit_label(first),
                        _("suspected duplicate of %(id)s %(name)s (%(distance)s km apart)")
                        % {
                            "id": second.public_id,
                            "name": second.name,
                            "distance": f"{distance:.1f}",
                        },
                        admin_url(first),
                    )


def name_keys(deposit: Deposit) -> set[str]:
    """Comparable names, with lists such as "Khodzhamunyn, Khodzhasartys" taken apart."""
    keys = {name_key(part) for name in deposit.all_names for part in name.split(",")}
    return {key for key in keys if key and not key.startswith("unnamed")}


def similar_names(first: Deposit, second: Deposit) -> bool:
    return any(
        difflib.SequenceMatcher(None, a, b).ratio() >= DUPLICATE_NAME_SIMILARITY
        for a in name_keys(first)
        for b in name_keys(second)
    )


def memoranda_past_expiry(today: datetime.date) -> Iterator[Finding]:
    memoranda = Memorandum.objects.filter(
        status=MemorandumStatus.IN_FORCE, valid_until__lt=today
    ).order_by("valid_until")
    for memorandum in memoranda:
        yield Finding(
            "expiry",
            _("memorandum %(id)s %(title)s")
            % {"id": memorandum.public_id, "title": memorandum.title},
            _("expired on %(date)s but is still marked in force")
            % {"date": memorandum.valid_until},
            admin_url(memorandum),
        )


def findings(today: datetime.date | None = None) -> list[Finding]:
    today = today or timezone.localdate()
    return [
        *deposits_without_location(),
        *deposits_off_their_region(),
        *estimates_to_review(today),
        *shares_past_100_percent(),
        *suspected_duplicates(),
        *memoranda_past_expiry(today),
    ]
