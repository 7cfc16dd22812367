"""The demo registry: regions, minerals and deposits from the data in deposits/data.

Every figure comes from a published source named beside it; running the loader
again changes nothing (records are matched by their natural keys and saved only
when a value differs, so no empty history rows pile up either).
"""

import csv
import json
from decimal import Decimal

from django.utils.translation import gettext as _

from deposits import entry, minmod
from deposits.models import (
    CriticalList,
    Deposit,
    DepositCommodity,
    District,
    MetallogenicBelt,
    Mineral,
    Region,
    ReserveEstimate,
)
from kernel.commands import figure

DATA_DIR = minmod.DATA_DIR
ROUNDTABLE_2024 = (
    "ASIA-Plus, report of the Tajikistan - Republic of Korea roundtable on mineral "
    "resources of 9 December 2024 (asiaplustj.info, published 13 December 2024)"
)

# code, symbol, English, Russian, Tajik, group, unit, MinMod commodity id
MINERALS = [
    ("silver", "Ag", "Silver", "Серебро", "Нуқра", "precious", "t", "Q585"),
    ("gold", "Au", "Gold", "Золото", "Тилло", "precious", "t", "Q551"),
    ("platinum", "Pt", "Platinum", "Платина", "Платина", "precious", "kg", "Q601"),
    ("palladium", "Pd", "Palladium", "Палладий", "Палладий", "precious", "kg", "Q600"),
    (
        "platinum-group-elements",
        "PGE",
        "Platinum-group elements",
        "Металлы платиновой группы",
        "Металлҳои гурӯҳи платина",
        "precious",
        "kg",
        "Q582",
    ),
    ("lead", "Pb", "Lead", "Свинец", "Сурб", "base", "t", "Q565"),
    ("zinc", "Zn", "Zinc", "Цинк", "Руҳ", "base", "t", "Q589"),
    ("copper", "Cu", "Copper", "Медь", "Мис", "base", "t", "Q538"),
    ("antimony", "Sb", "Antimony", "Сурьма", "Сурма", "base", "t", "Q510"),
    ("mercury", "Hg", "Mercury", "Ртуть", "Симоб", "base", "t", "Q573"),
    ("tin", "Sn", "Tin", "Олово", "Қалъагӣ", "base", "t", "Q587"),
    ("tungsten", "W", "Tungsten", "Вольфрам", "Волфрам", "ferrous", "t", "Q615"),
    ("molybdenum", "Mo", "Molybdenum", "Молибден", "Молибден", "ferrous", "t", "Q576"),
    ("lithium", "Li", "Lithium", "Литий", "Литий", "rare", "t", "Q569"),
    ("tantalum", "Ta", "Tantalum", "Тантал", "Тантал", "rare", "t", "Q610"),
    ("niobium", "Nb", "Niobium", "Ниобий", "Ниобий", "rare", "t", "Q579"),
    ("beryllium", "Be", "Beryllium", "Бериллий", "Бериллий", "rare", "t", "Q590"),
    (
        "rare-earth-elements",
        "REE",
        "Rare earth elements",
        "Редкоземельные элементы",
        "Элементҳои нодирзаминӣ",
        "rare-earth",
        "t",
        "Q618",
    ),
    ("fluorite", "CaF2", "Fluorite", "Флюорит", "Флюорит", "industrial", "t", "Q543"),
    ("salt", "NaCl", "Rock salt", "Каменная соль", "Намаки сангӣ", "industrial", "Mt", "Q662"),
    ("potash", "K2O", "Potash", "Калийные соли", "Намакҳои калийдор", "industrial", "Mt", "Q10002"),
    (
        "phosphate",
        "P2O5",
        "Phosphate rock",
        "Фосфориты",
        "Фосфоритҳо",
        "industrial",
        "Mt",
        "Q653",
    ),
    ("quartz", "SiO2", "Quartz", "Кварц", "Кварц", "industrial", "t", "Q630"),
]

# The official critical-mineral lists (deposits/data/README.md). A registry mineral is
# on a list when a row of it names the mineral by its English name, or names one of the
# list's own spellings below: another name of the same commodity, or the group the
# mineral belongs to, or (for the registry's groups) the group's members the list names
# one by one. Left out, as no list names them: quartz (the EU's "Silicon metal" and
# Korea's "Silicon" are what is made of it, not quartz), potash (on the US list of
# 2018, not of 2022), rock salt, mercury, silver and gold.
CRITICAL_LISTS_CSV = DATA_DIR / "critical_minerals_lists.csv"
RARE_EARTHS = [  # the US list's rare earth group (lanthanides but promethium, and yttrium)
    "Cerium",
    "Dysprosium",
    "Erbium",
    "Europium",
    "Gadolinium",
    "Holmium",
    "Lanthanum",
    "Lutetium",
    "Neodymium",
    "Praseodymium",
    "Samarium",
    "Terbium",
    "Thulium",
    "Ytterbium",
    "Yttrium",
]
CRITICAL_LISTED_AS = {
    "fluorite": ["Fluorspar"],
    "platinum": ["Platinum group metals"],
    "palladium": ["Platinum group metals"],
    "platinum-group-elements": [
        "Platinum group metals",
        "Platinum",
        "Palladium",
        "Iridium",
        "Rhodium",
        "Ruthenium",
    ],
    "rare-earth-elements": [
        "Light rare earth elements",
        "Heavy rare earth elements",
        *RARE_EARTHS,
    ],
}


def critical_lists_of_minerals() -> dict[str, list[str]]:
    """Mineral code -> codes of the lists naming it, in the order of CriticalList."""
    with open(CRITICAL_LISTS_CSV, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    listed = {row["listed_as"].casefold() for row in rows}
    codes = {code for code, *_rest in MINERALS}
    for code, spellings in CRITICAL_LISTED_AS.items():
        assert code in codes, f"{code} is not a registry mineral"
        for spelling in spellings:
            assert spelling.casefold() in listed, f"no list names {spelling!r}"
    assert {row["list"] for row in rows} == set(CriticalList.values), "unknown list"
    lists = {}
    for code, _symbol, name, *_rest in MINERALS:
        spellings = {name.casefold(), *(s.casefold() for s in CRITICAL_LISTED_AS.get(code, []))}
        named_by = {row["list"] for row in rows if row["listed_as"].casefold() in spellings}
        lists[code] = [c for c in CriticalList.values if c in named_by]
    return lists


# Commodity spellings of the curated table, mapped to mineral codes.
CURATED_COMMODITIES = {
    "ag": "silver",
    "au": "gold",
    "pb": "lead",
    "zn": "zinc",
    "cu": "copper",
    "sb": "antimony",
    "hg": "mercury",
    "mo": "molybdenum",
    "w": "tungsten",
    "sn": "tin",
    "pt": "platinum",
    "pd": "palladium",
    "ree": "rare-earth-elements",
    "y": "rare-earth-elements",
    "fluorite": "fluorite",
    "salt": "salt",
    "k": "potash",
}

# Statuses stated by the sources of the curated table (its `status_operator` column).
CURATED_STATUS = {
    "Konimansuri Kalon": "explored",
    "Jilau": "producing",
    "Taror": "producing",
    "Dzhizhikrut": "producing",
    "Konchoch": "producing",
    "Pakrut": "producing",
    "Altyn-Topkan": "producing",
    "Zarnisori Shimoli": "under-development",
}

# Spellings used by later sources than the curated table.
EXTRA_ALIASES = {
    "Konimansuri Kalon": [
        "Koni Mansour",  # the roundtable report of December 2024
        "Konimansur",
    ],
}

# Russian and Tajik names: the Cyrillic forms of names the curated table gives
# ("Bolshoi Konimansur" is the Russian name, "Konimansuri Kalon" the Tajik one).
CYRILLIC_NAMES = {"Konimansuri Kalon": ("Большой Конимансур", "Конимансури Калон")}

# Reported shares of national reserves: deposit, mineral, percent, source.
REPORTED_SHARES = [
    (
        "Konimansuri Kalon",
        "silver",
        DepositCommodity.Bound.OVER,
        Decimal("70"),
        f"{ROUNDTABLE_2024}: the deposit is said to hold over 70% of Tajikistan's silver reserves.",
    ),
]

ASIAPLUS_2013 = (
    "http://asiaplustj.info/en/news/tajikistan/economic/20130128/"
    "results-tender-development-tajikistan-s-largest-silver-deposit-become-known-thi"
)
SUGDNEWS_2019 = "https://sugdnews.com/en/2019/08/27/local-journalists-introduced-with-cc-tolko-gold-construction/"
PAKRUT_SOURCE = "https://businessinvestorguide.com/tajikistan/first-gold-ingots-poured-pakrut-project-tajikistan/"

# Figures of the curated table that do not come from MinMod (those arrive with the
# MinMod import): deposit, mineral, category, balance, quantity, unit, ore (t),
# grade, grade unit, source, note.
CURATED_ESTIMATES = [
    (
        "Konimansuri Kalon", "silver", "unclassified", None, Decimal("57000"), "t",
        Decimal("1000000000"), Decimal("49"), "g/t", ASIAPLUS_2013,
        "About 1 billion t of ore at 49 g/t Ag; 57,000 t of silver before the Micon survey. "
        "Possible reserves, category not published.",
    ),
    (
        "Konimansuri Kalon", "silver", "unclassified", None, Decimal("70000"), "t",
        None, None, "", ASIAPLUS_2013,
        "About 70,000 t of silver after the Micon survey; category not published.",
    ),
    (
        "Konimansuri Kalon", "zinc", "unclassified", None, None, "",
        Decimal("1000000000"), Decimal("0.38"), "%", ASIAPLUS_2013,
        "About 1 billion t of ore at 0.38% Zn; category not published.",
    ),
    (
        "Konimansuri Kalon", "lead", "unclassified", None, None, "",
        Decimal("1000000000"), Decimal("0.49"), "%", ASIAPLUS_2013,
        "About 1 billion t of ore at 0.49% Pb; category not published.",
    ),
    *[
        (
            "Konchoch", mineral, "unclassified", True, quantity, unit, None, None, "",
            SUGDNEWS_2019, "On the state balance (GKZ); category not published.",
        )
        for mineral, quantity, unit in [
            ("gold", Decimal("50"), "t"),
            ("antimony", Decimal("265"), "kt"),
            ("silver", Decimal("59.4"), "t"),
            ("mercury", Decimal("1197.1"), "t"),
            ("fluorite", Decimal("76659"), "t"),
        ]
    ],
    (
        "Pakrut", "gold", "unclassified", None, Decimal("1257454"), "oz t",
        None, None, "", PAKRUT_SOURCE,
        "At a 0.5 g/t cut-off grade, under the Russian classification; category not published.",
    ),
]  # fmt: skip


def assign(record, **values) -> bool:
    """Set the values that differ; True if any did."""
    changed = False
    for name, value in values.items():
        if getattr(record, name, None) != value:
            setattr(record, name, value)
            changed = True
    return changed


def upsert(model, lookup: dict, values: dict):
    record = model.objects.filter(**lookup).first() or model(**lookup)
    if assign(record, **values) or record.pk is None:
        record.full_clean()
        record.save()
    return record


def load_regions() -> dict[str, Region]:
    with open(DATA_DIR / "tj_admin_units.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    regions = {}
    for row in rows:
        if row["level"] in ("region", "capital"):
            regions[row["code"]] = upsert(
                Region,
                {"code": row["code"]},
                {"name": row["name_en"], "name_ru": row["name_ru"], "name_tg": row["name_tg"]},
            )
    for row in rows:
        if row["level"] == "unit":
            upsert(
                District,
                {"code": row["code"]},
                {
                    "region": regions[row["code"][:5]],
                    "name": row["name_en"],
                    "name_ru": row["name_ru"],
                    "name_tg": row["name_tg"],
                },
            )
    return regions


def load_minerals() -> dict[str, Mineral]:
    parents = minmod.minmod_parents()
    critical_lists = critical_lists_of_minerals()
    minerals = {}
    for code, symbol, name, name_ru, name_tg, group, unit, minmod_id in MINERALS:
        assert minmod_id in parents, f"{minmod_id} is not a MinMod commodity"
        minerals[code] = upsert(
            Mineral,
            {"code": code},
            {
                "symbol": symbol,
                "name": name,
                "name_ru": name_ru,
                "name_tg": name_tg,
                "group": group,
                "unit": unit,
                "minmod_id": minmod_id,
                "critical_lists": critical_lists[code],
            },
        )
    return minerals


def load_belts() -> None:
    upsert(
        MetallogenicBelt,
        {"code": "zeravshan-hissar"},
        {
            "name": "Zeravshan-Hissar mercury-antimony belt",
            "name_ru": "Зеравшано-Гиссарский ртутно-сурьмяный пояс",
            "name_tg": "Минтақаи симобу сурмаи Зарафшону Ҳисор",
            "description": (
                "Mercury-antimony belt of the Zeravshan and Hissar ranges; named at the "
                "2024 roundtable as the basis of Tajikistan's leading antimony reserves."
            ),
            "sources": [ROUNDTABLE_2024],
        },
    )


def parse_curated_commodities(text: str) -> list[str]:
    """'Au (Pt/Pd per nicrpge)' -> ['gold', 'platinum', 'palladium'], main first."""
    codes = []
    for token in text.replace("(", ";").replace(")", ";").replace("/", ";").split(";"):
        word = token.strip().split(" ")[0].casefold()
        code = CURATED_COMMODITIES.get(word)
        if code and code not in codes:
            codes.append(code)
    return codes


def curated_record(name: str, sources: list[str], stdout) -> Deposit:
    """The deposit a curated row describes: the one of that name citing the row's first
    source (else the first of that name, else a new one). Other deposits of the name are
    a clerk's, confirmed different on entry (deposits/entry.py): reported, left alone."""
    same_name = Deposit.objects.filter(name=name).order_by("pk")
    record = (sources and same_name.filter(sources__icontains=sources[0]).first()) or (
        same_name.first() or Deposit(name=name)
    )
    for other in same_name.exclude(pk=record.pk):
        stdout.write(
            "  "
            + _("%(id)s %(name)s is not the demo record of that name")
            % {"id": other.public_id, "name": other.name}
        )
    return record


def load_curated_deposits(regions, minerals, stdout) -> dict[str, Deposit]:
    """The curated deposits, by name; a deposit already recorded is updated. What the entry
    checks refuse (a published point outside the border) is kept as published and
    reported, for the data-quality report to list (deposits/entry.py)."""
    districts = {d.name.casefold(): d for d in District.objects.all()}
    with open(DATA_DIR / "tj_deposits_curated.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    deposits = {}
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        name = row["name"]
        region_text = row["region_iso_inferred"]
        district = districts.get(row["district"].strip().casefold())
        sources = [s.strip() for s in row["source"].split(" ; ") if s.strip()]
        if row["coord_source"] not in ("", "none", "none found"):
            sources.append(f"Coordinates: {row['coord_source']}")
        aliases = [a.strip() for a in row["alt_names"].split(";") if a.strip()]
        aliases += [a for a in EXTRA_ALIASES.get(name, []) if a not in aliases]
        description = []
        if row["status_operator"]:
            description.append(f"Operator and status as published: {row['status_operator']}.")
        if row["district"] and district is None:
            description.append(f"Location as published: {row['district']}.")
        if row["reserve_system_note"]:
            description.append(
                f"Reserve classification as published: {row['reserve_system_note']}."
            )
        existing = curated_record(name, sources, stdout)
        name_ru, name_tg = CYRILLIC_NAMES.get(name, ("", ""))
        aliases += [a for a in existing.aliases if a not in aliases]
        values = {
            "name_ru": name_ru,
            "name_tg": name_tg,
            "aliases": [a for a in aliases if a not in (name_ru, name_tg)],
            "district": district if district and "(inferred)" not in row["district"] else None,
            "latitude": Decimal(row["lat"]) if row["lat"] else existing.latitude,
            "longitude": Decimal(row["lon"]) if row["lon"] else existing.longitude,
            "status": CURATED_STATUS.get(name, ""),
            "description": " ".join(description),
            "sources": [*sources, *(s for s in existing.sources if s not in sources)],
        }
        if region_text:  # else the MinMod import may suggest one from coordinates
            values["region"] = regions[region_text.split(" ")[0]]
            values["region_derived"] = "(inferred)" in region_text
        if assign(existing, **values) or existing.pk is None:
            for refusal in entry.clean_as_published(existing):
                stdout.write(
                    "  "
                    + _("curated line %(number)s (%(name)s) kept as published: %(refusal)s")
                    % {"number": number, "name": name, "refusal": refusal}
                )
            existing.save()
        deposits[name] = existing
        for position, code in enumerate(parse_curated_commodities(row["commodities"])):
            role = "main" if position == 0 else "associated"
            upsert(
                DepositCommodity, {"deposit": existing, "mineral": minerals[code]}, {"role": role}
            )
    return deposits


def load_reported_shares(deposits, minerals) -> None:
    for deposit_name, code, bound, pct, source in REPORTED_SHARES:
        upsert(
            DepositCommodity,
            {"deposit": deposits[deposit_name], "mineral": minerals[code]},
            {
                "reported_share_bound": bound,
                "reported_share_pct": pct,
                "reported_share_source": source,
            },
        )


def load_curated_estimates(deposits, minerals) -> None:
    for row in CURATED_ESTIMATES:
        (
            deposit_name,
            code,
            category,
            balance,
            quantity,
            unit,
            ore,
            grade,
            grade_unit,
            source,
            note,
        ) = row
        deposit = deposits[deposit_name]
        values = {
            "category": category,
            "balance": balance,
            "quantity": quantity,
            "unit": unit,
            "ore_tonnage": ore,
            "grade": grade,
            "grade_unit": grade_unit,
            "source": source,
            "note": note,
        }
        if not deposit.reserves.filter(mineral=minerals[code], **values).exists():
            estimate = ReserveEstimate(deposit=deposit, mineral=minerals[code], **values)
            estimate.full_clean()
            estimate.save()


def load(stdout) -> None:
    regions = load_regions()
    minerals = load_minerals()
    load_belts()
    deposits = load_curated_deposits(regions, minerals, stdout)
    load_reported_shares(deposits, minerals)
    load_curated_estimates(deposits, minerals)
    with open(DATA_DIR / "minmod" / "tajikistan_sites.json", encoding="utf-8") as handle:
        report = minmod.import_sites(json.load(handle), as_published=True)
    stdout.write(_("MinMod sites: %(summary)s") % {"summary": report.summary()})
    for line in [*report.notes, *report.refusal_lines()]:
        stdout.write(f"  {line}")
    stdout.write(
        _("Deposits in the registry: %(count)s") % {"count": figure(Deposit.objects.count())}
    )
