"""Import MinMod MineralSite records (USGS and other published compilations).

Each record is matched to an existing deposit by name or alias and distance
instead of being duplicated; every reference is kept as a source; inventory
published under CRIRSCO categories stays CRIRSCO (never relabelled as GKZ); a
region suggested from coordinates is marked as derived. Idempotent: importing
the same records again changes nothing.
"""

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from deposits import entry, geo
from deposits.models import (
    Deposit,
    DepositCommodity,
    Mineral,
    Region,
    ReserveEstimate,
)
from kernel import names as name_matcher
from kernel.commands import figure

DATA_DIR = Path(__file__).resolve().parent / "data"
COMMODITY_CSV = DATA_DIR / "minmod" / "commodity.csv"

# Two records of the same name further apart than this are different deposits.
MATCH_RADIUS_KM = 25.0

# Observed commodity names that carry no MinMod identifier, mapped to mineral codes.
OBSERVED_NAMES = {
    "hal": ["salt"],
    "hal  k": ["salt", "potash"],
    "salt": ["salt"],
    "pge": ["platinum-group-elements"],
    "wo3": ["tungsten"],
    "%pb": ["lead"],
    "%zn": ["zinc"],
    "g/t ag": ["silver"],
}
ORE_UNITS = {"tonnes": Decimal(1), "metric tons": Decimal(1), "million tonnes": Decimal(10**6)}
GRADE_UNITS = {"Q201": "%", "Q203": "g/t", "Q220": "ppm", "Q217": "kg/t"}
CRIRSCO_CATEGORIES = {
    frozenset({"Measured"}): "measured",
    frozenset({"Indicated"}): "indicated",
    frozenset({"Inferred"}): "inferred",
    frozenset({"Measured", "Indicated", "Inferred"}): "mii",
    frozenset({"Proven"}): "proved",
    frozenset({"Probable"}): "probable",
}
POINT = re.compile(r"^\s*POINT\s*\(\s*(-?[\d.]+)\s+(-?[\d.]+)\s*\)\s*$", re.IGNORECASE)


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # (number, name, reason)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The counts, in the active language."""
        return _(
            "created %(created)s, updated %(updated)s, unchanged %(unchanged)s, refused %(refused)s"
        ) % {
            "created": figure(len(self.created)),
            "updated": figure(len(self.updated)),
            "unchanged": figure(len(self.unchanged)),
            "refused": figure(len(self.refused)),
        }

    def refusal_lines(self) -> list[str]:
        """One line per refused record, by its number in the file, in the active language."""
        return [
            _("refused record %(number)s (%(name)s): %(reason)s")
            % {"number": number, "name": name, "reason": reason}
            for number, name, reason in self.refused
        ]


def name_key(name: str) -> str:
    """Names compared for matching: the name matcher's key (kernel/names.py), so case,
    punctuation, spacing and the usual spelling variants are ignored."""
    return name_matcher.key(name)


def minmod_parents() -> dict[str, str]:
    with open(COMMODITY_CSV, encoding="utf-8") as handle:
        return {row["minmod_id"]: row["parent"] for row in csv.DictReader(handle)}


class CommodityResolver:
    """Finds the registry's mineral for a MinMod commodity (by id, its parent, or name)."""

    def __init__(self):
        self.by_minmod_id = {m.minmod_id: m for m in Mineral.objects.exclude(minmod_id="")}
        self.by_code = {m.code: m for m in Mineral.objects.all()}
        self.by_symbol = {m.symbol.casefold(): m for m in self.by_code.values()}
        self.parents = minmod_parents()

    def resolve(self, commodity: dict) -> list[Mineral]:
        uri = commodity.get("normalized_uri") or ""
        minmod_id = uri.rsplit("/", 1)[-1] if uri else ""
        while minmod_id:
            if minmod_id in self.by_minmod_id:
                return [self.by_minmod_id[minmod_id]]
            minmod_id = self.parents.get(minmod_id, "")
        observed = (commodity.get("observed_name") or "").strip().casefold()
        if observed in OBSERVED_NAMES:
            return [self.by_code[c] for c in OBSERVED_NAMES[observed] if c in self.by_code]
        mineral = self.by_symbol.get(observed) or self.by_code.get(observed)
        return [mineral] if mineral else []


def parse_point(wkt: str | None) -> tuple[Decimal, Decimal] | None:
    """(longitude, latitude) of a WKT point, rounded to the registry's 6 decimals."""
    if not wkt:
        return None
    match = POINT.match(wkt)
    if not match:
        raise ValueError(_("unreadable location %(location)s") % {"location": repr(wkt)})
    lon, lat = (Decimal(v).quantize(Decimal("0.000001")) for v in match.groups())
    return lon, lat


def record_source(record: dict) -> str:
    return f"MinMod {record['source_id']} record {record['record_id']} ({record.get('_file', '')})"


def reference_text(reference: dict) -> str:
    document = reference.get("document", {})
    parts = [document.get("title"), document.get("doi") and f"doi:{document['doi']}"]
    parts.append(document.get("uri"))
    return "; ".join(p for p in parts if p)


def find_match(names: list[str], point, source: str) -> Deposit | None:
    """The deposit this record describes.

    The deposit that already cites the record, else one that has one of `names` (or
    an alias) and lies within MATCH_RADIUS_KM. Placeholder names ("Unnamed P
    occurrence") say nothing about identity and never match by name.
    """
    cited = Deposit.objects.filter(sources__icontains=source).first()
    if cited is not None:
        return cited
    names = [n for n in names if not name_matcher.placeholder(n)]
    if not names:
        return None
    keys = {name_key(n) for n in names}
    # Narrow in SQL by the keys search_text keeps, then compare whole names here.
    candidates = Q()
    for key in keys:
        candidates |= Q(search_text__contains=key)
    for deposit in Deposit.objects.filter(candidates).order_by("pk"):
        if not keys & {name_key(n) for n in deposit.all_names}:
            continue
        if point is None or deposit.latitude is None:
            return deposit
        distance = geo.distance_km(
            float(point[0]), float(point[1]), float(deposit.longitude), float(deposit.latitude)
        )
        if distance <= MATCH_RADIUS_KM:
            return deposit
    return None


def estimate_values(item: dict, mineral: Mineral, source: str) -> dict | None:
    """The reserve-estimate fields of one inventory item, or None if it holds no figure."""
    ore, grade = item.get("ore"), item.get("grade")
    if not ore and not grade:
        return None
    categories = frozenset(c.get("observed_name", "") for c in item.get("category", []))
    values = {
        "mineral": mineral,
        "category": CRIRSCO_CATEGORIES.get(categories, "unclassified"),
        "balance": None,
        "source": reference_text(item.get("reference", {})) or source,
        "note": f"Imported from {source}.",
    }
    if ore:
        factor = ORE_UNITS.get(ore["unit"].get("observed_name", "").casefold())
        if factor is None:
            unit = repr(ore["unit"].get("observed_name"))
            raise ValueError(_("unknown ore unit %(unit)s") % {"unit": unit})
        values["ore_tonnage"] = Decimal(str(ore["value"])) * factor
    if grade:
        unit_id = grade["unit"].get("normalized_uri", "").rsplit("/", 1)[-1]
        if unit_id not in GRADE_UNITS:
            unit = repr(grade["unit"].get("observed_name"))
            raise ValueError(_("unknown grade unit %(unit)s") % {"unit": unit})
        values["grade"] = Decimal(str(grade["value"]))
        values["grade_unit"] = GRADE_UNITS[unit_id]
        observed = item["commodity"].get("observed_name", "")
        if observed.upper() == "WO3":
            values["note"] += " Grade given as WO3."
    if item.get("date"):
        values["as_of"] = date(int(str(item["date"])[:4]), 1, 1)
        values["as_of_precision"] = ReserveEstimate.DatePrecision.YEAR
    return values


class SiteImporter:
    def __init__(self, as_published: bool = False):
        self.as_published = as_published
        self.resolver = CommodityResolver()
        self.regions = {r.code: r for r in Region.objects.all()}
        self.report = ImportReport()

    def import_records(self, records: list[dict]) -> ImportReport:
        for number, record in enumerate(records, start=1):
            name = (record.get("name") or "").strip() or _("record %(number)s") % {"number": number}
            try:
                with transaction.atomic():
                    outcome = self.import_record(record)
            except (ValidationError, ValueError, InvalidOperation, KeyError) as exc:
                self.report.refused.append((number, name, _reason(exc)))
                continue
            getattr(self.report, outcome).append(name)
        return self.report

    def import_record(self, record: dict) -> str:
        names = [n.strip() for n in record["name"].split(";") if n.strip()]
        if not names:
            raise ValueError(_("the record has no name"))
        point = parse_point(record.get("location_info", {}).get("location"))
        source = record_source(record)
        minerals = []
        for item in record.get("mineral_inventory", []):
            for mineral in self.resolver.resolve(item.get("commodity", {})):
                if mineral not in minerals:
                    minerals.append(mineral)
        unknown = {
            item["commodity"].get("observed_name")
            for item in record.get("mineral_inventory", [])
            if not self.resolver.resolve(item.get("commodity", {}))
        }
        if unknown:
            self.report.notes.append(
                _("%(name)s: commodities not in the registry: %(commodities)s")
                % {"name": names[0], "commodities": ", ".join(sorted(map(str, unknown)))}
            )

        deposit = find_match(names, point, source)
        created = deposit is None
        if created:
            deposit = Deposit(name=names[0])
        changed = created
        new_aliases = [
            n for n in names if name_key(n) not in {name_key(a) for a in deposit.all_names}
        ]
        if new_aliases:
            deposit.aliases = [*deposit.aliases, *new_aliases]
            changed = True
        if point and deposit.latitude is None:
            deposit.longitude, deposit.latitude = point
            changed = True
        if deposit.region_id is None and deposit.latitude is not None:
            code = geo.region_code_at(float(deposit.longitude), float(deposit.latitude))
            if code in self.regions:
                deposit.region = self.regions[code]
                deposit.region_derived = True
                changed = True
        deposit_types = [
            c["observed_name"].rstrip("?").strip()
            for c in record.get("deposit_type_candidate", [])
            if c.get("observed_name") and c.get("confidence", 0) > 0
        ]
        if deposit_types and not deposit.deposit_type:
            deposit.deposit_type = deposit_types[0]
            changed = True
        if source not in deposit.sources:
            deposit.sources = [*deposit.sources, source]
            changed = True
        if changed:
            if self.as_published:
                for refusal in entry.clean_as_published(deposit):
                    self.report.notes.append(
                        _("%(name)s: kept as published: %(refusal)s")
                        % {"name": names[0], "refusal": refusal}
                    )
            else:
                deposit.full_clean()
            deposit.save()

        existing = set(deposit.commodities.values_list("mineral_id", flat=True))
        for position, mineral in enumerate(minerals):
            if mineral.pk in existing:
                continue
            role = (
                DepositCommodity.Role.MAIN
                if created and position == 0
                else DepositCommodity.Role.ASSOCIATED
            )
            commodity = DepositCommodity(deposit=deposit, mineral=mineral, role=role)
            commodity.full_clean()
            commodity.save()
            changed = True

        for item in record.get("mineral_inventory", []):
            for mineral in self.resolver.resolve(item.get("commodity", {})):
                values = estimate_values(item, mineral, source)
                if values is None or deposit.reserves.filter(**values).exists():
                    continue
                estimate = ReserveEstimate(deposit=deposit, **values)
                estimate.full_clean()
                estimate.save()
                changed = True

        if created:
            return "created"
        return "updated" if changed else "unchanged"


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return "; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())
    if isinstance(exc, KeyError):
        return _("missing field %(field)s") % {"field": exc}
    return str(exc)


def import_sites(records: list[dict], as_published: bool = False) -> ImportReport:
    """Import MineralSite records. A record the entry checks refuse (deposits/entry.py: a
    look-alike of a recorded deposit, a point outside the border or its region) is
    refused by its number, or, `as_published`, kept as published with a note, for the
    data-quality report to list."""
    return SiteImporter(as_published).import_records(records)
