"""Synthetic registries for benchmarks: clearly named, deterministic, written in bulk.

Never part of the demo registry. Every deposit is named "SYN-000123" and every
synthetic organisation, topic and event starts with "SYN", so synthetic data can
be told apart from real records at a glance and by a query. Bulk inserts skip the
change history: only this generator may do that.

Reserves have a history, so reads "in force" and over the years work at scale: some
estimates have an older one of the same deposit, mineral, category and balance that
they supersede, and many balance estimates have a yearly State Balance over
`HISTORY_YEARS` (`BalanceMovement`) that adds up each year, runs on from one year to
the next and closes the last year at the estimate in force. Every one of these lines,
and the years marked closed, cite `SOURCE`.
"""

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.db import transaction

from cooperation.models import Event, EventParticipant, EventTopic, Organisation, Topic
from deposits import geo
from deposits.demo import load_minerals, load_regions
from deposits.models import (
    BALANCE_CATEGORIES,
    LATITUDE_RANGE,
    LONGITUDE_RANGE,
    BalanceClosure,
    BalanceMovement,
    Deposit,
    DepositCommodity,
    Mineral,
    Region,
    ReserveEstimate,
    normalize_search_text,
)
from deposits.shares import refresh_kept
from kernel.api.caching import registry_changed
from kernel.models import IdentifierSequence
from kernel.planner import analyse

PREFIX = "SYN"
BATCH = 5_000
# Points are drawn from the centres of 0.05-degree cells that lie inside the border.
CELL_DEGREES = Decimal("0.05")
STATUSES = [value for value, _label in Deposit.Status.choices]
VISIBILITIES = ["public"] * 6 + ["partners"] * 3 + ["internal"]
GKZ = ["A", "B", "C1", "C1", "C2", "C2", "P1", "P2"]
SOURCE = "synthetic benchmark data (generate_synthetic)"
# The State Balance years of the history; each mineral's balance is marked closed up to
# the year before the last.
HISTORY_YEARS = range(2015, 2025)
# The share of estimates with an older one they supersede, and of balance A-C2 estimates
# in force with a yearly history.
SUPERSEDED = 0.3
WITH_HISTORY = 0.3


@dataclass
class GeneratedCounts:
    deposits: int
    commodities: int
    estimates: int
    movements: int
    organisations: int
    topics: int
    events: int


def holds_real_records() -> bool:
    """True when the database holds deposits or cooperation records that are not synthetic."""
    return (
        Deposit.objects.exclude(name__startswith=f"{PREFIX}-").exists()
        or Organisation.objects.exclude(name__startswith=PREFIX).exists()
        or Event.objects.exclude(title__startswith=PREFIX).exists()
    )


@cache
def land_cells() -> list[tuple[Decimal, Decimal, str | None]]:
    """(latitude, longitude, region code) of every cell centre inside Tajikistan."""
    cells = []
    lat = LATITUDE_RANGE[0] + CELL_DEGREES / 2
    while lat < LATITUDE_RANGE[1]:
        lon = LONGITUDE_RANGE[0] + CELL_DEGREES / 2
        while lon < LONGITUDE_RANGE[1]:
            if geo.inside_tajikistan(float(lon), float(lat)):
                cells.append((lat, lon, geo.region_code_at(float(lon), float(lat))))
            lon += CELL_DEGREES
        lat += CELL_DEGREES
    return cells


def reserve_identifiers(prefix: str, count: int) -> list[str]:
    """Hand out `count` public identifiers in one step (bulk inserts skip save())."""
    with transaction.atomic():
        sequence, _ = IdentifierSequence.objects.select_for_update().get_or_create(prefix=prefix)
        first = sequence.last_value + 1
        sequence.last_value += count
        sequence.save(update_fields=["last_value"])
    return [f"{prefix}-{n:06d}" for n in range(first, first + count)]


def generate(count: int, seed: int = 1) -> GeneratedCounts:
    rng = random.Random(seed)
    load_regions()
    load_minerals()
    regions = {r.code: r for r in Region.objects.all()}
    minerals = list(Mineral.objects.order_by("code"))
    cells = land_cells()
    start = Deposit.objects.filter(name__startswith=f"{PREFIX}-").count()
    identifiers = reserve_identifiers(Deposit.ID_PREFIX, count)
    totals = GeneratedCounts(count, 0, 0, 0, 0, 0, 0)
    # Its own stream, so the deposits and estimates of a seed stay what they were.
    history_rng = random.Random(f"{seed}-history")
    now = datetime.datetime.now(datetime.UTC)

    for offset in range(0, count, BATCH):
        size = min(BATCH, count - offset)
        deposits = []
        for index in range(offset, offset + size):
            number = start + index + 1
            lat, lon, region_code = rng.choice(cells)
            name = f"{PREFIX}-{number:06d}"
            aliases = [f"Synthetic {number}", f"Синтетическое {number}"][: rng.randint(0, 2)]
            deposits.append(
                Deposit(
                    public_id=identifiers[index],
                    name=name,
                    aliases=aliases,
                    search_text=normalize_search_text("\n".join([name, *aliases])),
                    region=regions.get(region_code),
                    latitude=lat,
                    longitude=lon,
                    status=rng.choice(STATUSES),
                    deposit_type=rng.choice(["Hydrothermal", "Igneous", "Sedimentary", ""]),
                    visibility=rng.choice(VISIBILITIES),
                    sources=["synthetic benchmark data (generate_synthetic)"],
                    created_at=now,
                    updated_at=now,
                )
            )
        with transaction.atomic():
            # PostgreSQL and SQLite (3.35+) both return the new primary keys.
            Deposit.objects.bulk_create(deposits, batch_size=BATCH)
            commodities, estimates = [], []
            for deposit_id in (d.pk for d in deposits):
                chosen = rng.sample(minerals, rng.randint(1, 4))
                for position, mineral in enumerate(chosen):
                    commodities.append(
                        DepositCommodity(
                            deposit_id=deposit_id,
                            mineral=mineral,
                            role="main" if position == 0 else "associated",
                        )
                    )
                for _ in range(rng.randint(1, 5)):
                    mineral = rng.choice(chosen)
                    estimates.append(
                        ReserveEstimate(
                            deposit_id=deposit_id,
                            mineral=mineral,
                            category=rng.choice(GKZ),
                            balance=rng.random() < 0.8,
                            quantity=Decimal(rng.randint(1, 500_000)) / 10,
                            unit=mineral.unit,
                            ore_tonnage=Decimal(rng.randint(10_000, 50_000_000)),
                            grade=Decimal(rng.randint(1, 9_000)) / 100,
                            grade_unit="g/t" if mineral.group == "precious" else "%",
                            as_of=datetime.date(rng.randint(1975, 2025), 1, 1),
                            as_of_precision="year",
                            source=SOURCE,
                        )
                    )
            superseded = superseded_estimates(history_rng, estimates)
            movements = balance_history(history_rng, estimates)
            estimates += superseded
            for estimate, public_id in zip(
                estimates,
                reserve_identifiers(ReserveEstimate.ID_PREFIX, len(estimates)),
                strict=True,
            ):
                estimate.public_id = public_id
            DepositCommodity.objects.bulk_create(commodities, batch_size=BATCH)
            ReserveEstimate.objects.bulk_create(estimates, batch_size=BATCH)
            BalanceMovement.objects.bulk_create(movements, batch_size=BATCH)
        totals.commodities += len(commodities)
        totals.estimates += len(estimates)
        totals.movements += len(movements)

    close_balances(minerals)
    generate_cooperation(rng, count, totals)
    # Bulk inserts bypass the signals that keep the totals and move the API cache on,
    # and leave the planner's statistics behind the tables they filled: analysed before
    # the kept sums are refreshed (planned on empty tables, refreshing 390,000 estimates
    # took minutes instead of seconds: docs/reliability.md), and after, for the reads.
    filled = [Deposit, DepositCommodity, ReserveEstimate, BalanceMovement]
    analyse(filled)
    refresh_kept()
    registry_changed()
    analyse(filled)
    return totals


def superseded_estimates(
    rng: random.Random, estimates: list[ReserveEstimate]
) -> list[ReserveEstimate]:
    """For some estimates, an older one of the same deposit, mineral, category and balance
    (3-15 years earlier, another figure), which the newer one supersedes."""
    older = []
    for estimate in estimates:
        if rng.random() >= SUPERSEDED:
            continue
        factor = Decimal(rng.randint(60, 140)) / 100
        older.append(
            ReserveEstimate(
                deposit_id=estimate.deposit_id,
                mineral=estimate.mineral,
                category=estimate.category,
                balance=estimate.balance,
                quantity=(estimate.quantity * factor).quantize(Decimal("0.1")),
                unit=estimate.unit,
                ore_tonnage=estimate.ore_tonnage,
                grade=estimate.grade,
                grade_unit=estimate.grade_unit,
                as_of=estimate.as_of.replace(year=estimate.as_of.year - rng.randint(3, 15)),
                as_of_precision="year",
                source=SOURCE,
                note="synthetic: superseded by a later estimate",
            )
        )
    return older


def _in_force(estimates: list[ReserveEstimate]) -> list[ReserveEstimate]:
    """The balance A-C2 estimates in force among one batch: per deposit, mineral, category
    and balance the latest dated, the later generated among one date (as the database
    orders them by primary key)."""
    latest: dict[tuple, ReserveEstimate] = {}
    for estimate in estimates:
        if not estimate.balance or estimate.category not in BALANCE_CATEGORIES:
            continue
        key = (estimate.deposit_id, estimate.mineral.pk, estimate.category)
        if key not in latest or estimate.as_of >= latest[key].as_of:
            latest[key] = estimate
    return list(latest.values())


def _share(rng: random.Random, quantity: Decimal, low: int, high: int) -> Decimal:
    """A random part of `quantity`, `low`-`high` per thousand, to three places."""
    return (quantity * rng.randint(low, high) / 1000).quantize(Decimal("0.001"))


def balance_history(rng: random.Random, estimates: list[ReserveEstimate]) -> list[BalanceMovement]:
    """Yearly State Balance lines over HISTORY_YEARS for about a third of the balance estimates
    in force, written backwards from the last year's closing (the estimate's quantity):
    each year's opening is its closing less its movements, so every line adds up and
    each closing is the next year's opening. Extraction, losses and write-off never
    exceed what the opening holds."""
    movements = []
    for estimate in _in_force(estimates):
        if rng.random() >= WITH_HISTORY:
            continue
        closing = estimate.quantity
        for year in reversed(HISTORY_YEARS):
            gain = _share(rng, closing, 0, 150) if rng.random() < 0.3 else Decimal(0)
            re_estimation = _share(rng, closing, -50, 50) if rng.random() < 0.1 else Decimal(0)
            extraction = _share(rng, closing, 0, 80)
            losses = _share(rng, extraction, 0, 100)
            write_off = _share(rng, closing, 0, 20) if rng.random() < 0.05 else Decimal(0)
            opening = closing - gain + extraction + losses - re_estimation + write_off
            movements.append(
                BalanceMovement(
                    deposit_id=estimate.deposit_id,
                    mineral=estimate.mineral,
                    category=estimate.category,
                    balance=True,
                    year=year,
                    unit=estimate.unit,
                    opening=opening,
                    exploration_gain=gain,
                    extraction=extraction,
                    losses=losses,
                    re_estimation=re_estimation,
                    write_off=write_off,
                    transfer=Decimal(0),
                    closing=closing,
                    protocol=f"SYN-{year}",
                    source=SOURCE,
                )
            )
            closing = opening
    return movements


def close_balances(minerals: list[Mineral]) -> None:
    """Each mineral's synthetic State Balance marked closed up to the year before the last
    of the history (the last one is still being entered); years already marked stay."""
    BalanceClosure.objects.bulk_create(
        [
            BalanceClosure(
                mineral=mineral,
                year=year,
                closed_on=datetime.date(year + 1, 3, 31),
                protocol=f"SYN-{year}",
                source=SOURCE,
            )
            for mineral in minerals
            for year in HISTORY_YEARS[:-1]
        ],
        ignore_conflicts=True,
    )


def generate_cooperation(rng: random.Random, deposit_count: int, totals: GeneratedCounts) -> None:
    """A few organisations, topics and events per thousand deposits, linked to them."""
    scale = max(1, deposit_count // 1000)
    existing = Organisation.objects.filter(name__startswith=PREFIX).count()
    deposit_ids = list(
        Deposit.objects.filter(name__startswith=f"{PREFIX}-").values_list("id", flat=True)
    )
    minerals = list(Mineral.objects.all())
    organisations = []
    for n in range(existing + 1, existing + 2 * scale + 1):
        organisation = Organisation(
            name=f"{PREFIX} organisation {n}",
            country=rng.choice(["TJ", "KR", "FI", "RU", "CN", "KZ"]),
            kind=rng.choice([k for k, _ in Organisation.Kind.choices]),
            sources=["synthetic benchmark data (generate_synthetic)"],
        )
        organisation.save()  # few rows: the normal path, identifiers included
        organisations.append(organisation)
    for n in range(existing + 1, existing + scale + 1):
        topic = Topic(name=f"{PREFIX} topic {n}", sources=["synthetic benchmark data"])
        topic.save()
        topic.minerals.set(rng.sample(minerals, 2))
        topic.deposits.set(rng.sample(deposit_ids, min(5, len(deposit_ids))))
        event = Event(
            kind="roundtable",
            title=f"{PREFIX} event {n}",
            start_date=datetime.date(rng.randint(2010, 2025), rng.randint(1, 12), 1),
            visibility=rng.choice(VISIBILITIES),
            sources=["synthetic benchmark data (generate_synthetic)"],
        )
        event.save()
        EventTopic.objects.create(event=event, topic=topic)
        for organisation in rng.sample(organisations, 2):
            EventParticipant.objects.create(event=event, organisation=organisation)
        totals.topics += 1
        totals.events += 1
    totals.organisations = len(organisations)
