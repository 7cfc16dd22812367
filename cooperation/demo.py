"""The demo cooperation records: real, sourced facts from data/cooperation_facts.md.

Organisations, people, the December 2024 Tajikistan – Korea roundtable, its
topics, the KIGAM, GTK and Rosnedra documents and the initiatives named at
the roundtable. Descriptions are the project's own words. Records are matched
by natural keys and saved only when a value differs, so a second run changes
nothing and adds no history rows. Run after the deposits demo: topics and
memoranda link to its minerals and deposits by code and name.
"""

import datetime

from django.utils.translation import gettext as _

from cooperation.models import (
    Commitment,
    DatePrecision,
    Event,
    EventParticipant,
    EventTopic,
    Initiative,
    Memorandum,
    MemorandumParty,
    Organisation,
    Person,
    Topic,
)
from cooperation.services import record_transition
from deposits.demo import upsert
from deposits.models import Deposit, Mineral
from kernel.commands import figure

ROUNDTABLE_2024 = (
    "ASIA-Plus (asiaplustj.info), 13 December 2024: report of the Tajikistan - "
    "Republic of Korea roundtable on mineral resources held on 9 December 2024"
)
KIGAM_MOU_2025 = (
    "Main Geology Directorate under the Government of Tajikistan (sgt.tj), news item 111, "
    "in Tajik: memorandum with KIGAM signed in Seoul on 12 May 2025"
)
GTK_MOU_2014 = (
    "ASIA-Plus (asiaplustj.info), 22 September 2014: memorandum between the Main Geology "
    "Directorate and the Geological Survey of Finland (GTK)"
)
ROSNEDRA_2022 = (
    "Sputnik Tajikistan, 10 November 2022, in Russian: programme of cooperation between "
    "Rosnedra and the Main Geology Directorate"
)

MGD = "Main Geology Directorate under the Government of the Republic of Tajikistan"
MFA_TJ = "Ministry of Foreign Affairs of the Republic of Tajikistan"
MINDUSTRY_TJ = "Ministry of Industry and New Technologies of the Republic of Tajikistan"
GKZ_TJ = "State Commission on Mineral Reserves of the Republic of Tajikistan"
EMBASSY_KR = "Embassy of the Republic of Korea in the Republic of Tajikistan"
MOTIE = "Ministry of Trade, Industry and Energy"
KIGAM = "Korea Institute of Geoscience and Mineral Resources"
GTK = "Geological Survey of Finland"
ROSNEDRA = "Federal Agency for Subsoil Use"

ORGANISATIONS = [
    {
        "name": MGD,
        "name_ru": "Главное управление геологии при Правительстве Республики Таджикистан",
        "name_tg": "Сарраёсати геологияи назди Ҳукумати Ҷумҳурии Тоҷикистон",
        "country": "TJ",
        "kind": Organisation.Kind.GEOLOGICAL_SURVEY,
        "website": "https://sgt.tj",
        "description": "Tajikistan's geological survey, founded in June 1938.",
        "sources": [ROUNDTABLE_2024, KIGAM_MOU_2025, GTK_MOU_2014, ROSNEDRA_2022],
    },
    {
        "name": MFA_TJ,
        "name_ru": "Министерство иностранных дел Республики Таджикистан",
        "name_tg": "Вазорати корҳои хориҷии Ҷумҳурии Тоҷикистон",
        "country": "TJ",
        "kind": Organisation.Kind.MINISTRY,
        "sources": [ROUNDTABLE_2024],
    },
    {
        "name": MINDUSTRY_TJ,
        "name_ru": "Министерство промышленности и новых технологий Республики Таджикистан",
        "name_tg": "Вазорати саноат ва технологияҳои нави Ҷумҳурии Тоҷикистон",
        "country": "TJ",
        "kind": Organisation.Kind.MINISTRY,
        "sources": [ROUNDTABLE_2024],
    },
    {
        "name": GKZ_TJ,
        "name_ru": "Государственная комиссия по запасам полезных ископаемых Республики Таджикистан",
        "name_tg": "Комиссияи давлатии захираҳои канданиҳои фоиданоки Ҷумҳурии Тоҷикистон",
        "country": "TJ",
        "kind": Organisation.Kind.STATE_COMMISSION,
        "description": "Approves the reserve figures of the country's deposits.",
        "sources": [ROUNDTABLE_2024],
    },
    {
        "name": EMBASSY_KR,
        "name_ru": "Посольство Республики Корея в Республике Таджикистан",
        "name_tg": "Сафорати Ҷумҳурии Корея дар Ҷумҳурии Тоҷикистон",
        "name_native": "주타지키스탄 대한민국 대사관",
        "country": "KR",
        "kind": Organisation.Kind.EMBASSY,
        "sources": [ROUNDTABLE_2024],
    },
    {
        "name": MOTIE,
        "name_ru": "Министерство торговли, промышленности и энергетики Республики Корея",
        "name_native": "산업통상자원부",
        "acronym": "MOTIE",
        "country": "KR",
        "kind": Organisation.Kind.MINISTRY,
        "sources": [ROUNDTABLE_2024],
    },
    {
        "name": KIGAM,
        "name_ru": "Корейский институт геонаук и минеральных ресурсов",
        "name_native": "한국지질자원연구원",
        "acronym": "KIGAM",
        "country": "KR",
        "kind": Organisation.Kind.RESEARCH_INSTITUTE,
        "description": (
            "Korea's research institute for geoscience and mineral resources. At the 2024 "
            "roundtable it was presented as having led large exploration projects with "
            "Kazakhstan, Mongolia and Canada, using 3D modelling, drones and artificial "
            "intelligence."
        ),
        "sources": [ROUNDTABLE_2024, KIGAM_MOU_2025],
    },
    {
        "name": GTK,
        "name_ru": "Геологическая служба Финляндии",
        "name_native": "Geologian tutkimuskeskus",
        "acronym": "GTK",
        "country": "FI",
        "kind": Organisation.Kind.GEOLOGICAL_SURVEY,
        "sources": [GTK_MOU_2014],
    },
    {
        "name": ROSNEDRA,
        "name_ru": "Федеральное агентство по недропользованию",
        "acronym": "Rosnedra",
        "country": "RU",
        "kind": Organisation.Kind.STATE_AGENCY,
        "description": "The Russian Federation's federal agency for subsoil use.",
        "sources": [ROSNEDRA_2022],
    },
]

# name, Russian, Tajik, title, organisation, sources
PEOPLE = [
    (
        "Jong Song Sik",
        "",
        "",
        "Ambassador Extraordinary and Plenipotentiary of the Republic of Korea to Tajikistan",
        EMBASSY_KR,
        [ROUNDTABLE_2024],
    ),
    (
        "Ilhomjon Oimuhammadzoda",
        "Илхомджон Оимухаммадзода",
        "Илҳомҷон Оимуҳаммадзода",
        "Head of the Main Geology Directorate",
        MGD,
        [KIGAM_MOU_2025, ROSNEDRA_2022],
    ),
    (
        "Pyeong-Koo Lee",
        "",
        "",
        "President of KIGAM",
        KIGAM,
        [f"{KIGAM_MOU_2025} (name transliterated from the Tajik text)"],
    ),
    (
        "Yevgeny Petrov",
        "Евгений Петров",
        "",
        "Head of Rosnedra",
        ROSNEDRA,
        [ROSNEDRA_2022],
    ),
]

# name, Russian, Tajik, description, mineral codes, deposit names, source
TOPICS = [
    # Discussed at the 2024 roundtable.
    (
        "Geological exploration with advanced technologies",
        "Геологоразведка с применением передовых технологий",
        "Иктишофи геологӣ бо технологияҳои пешрафта",
        "Exploration using current methods such as 3D modelling, drones and artificial "
        "intelligence.",
        [],
        [],
        ROUNDTABLE_2024,
    ),
    (
        "Extraction and processing",
        "Добыча и переработка",
        "Истихроҷ ва коркард",
        "Modern mining and processing facilities and innovative mining technology.",
        [],
        [],
        ROUNDTABLE_2024,
    ),
    (
        "Workforce training",
        "Подготовка кадров",
        "Тайёр кардани кадрҳо",
        "Training of geologists and mining specialists.",
        [],
        [],
        ROUNDTABLE_2024,
    ),
    (
        "Investment",
        "Инвестиции",
        "Сармоягузорӣ",
        "Attracting investment, in particular from Korea, into the mineral sector.",
        [],
        [],
        ROUNDTABLE_2024,
    ),
    # Areas of cooperation identified at the 2024 roundtable.
    (
        "Joint exploration",
        "Совместная геологоразведка",
        "Иктишофи муштарак",
        "Exploration carried out together by Tajik and partner organisations.",
        [],
        [],
        ROUNDTABLE_2024,
    ),
    (
        "Mining infrastructure",
        "Горнодобывающая инфраструктура",
        "Инфрасохтори саноати кӯҳӣ",
        "Building the infrastructure that mining needs.",
        [],
        [],
        ROUNDTABLE_2024,
    ),
    (
        "Technology transfer",
        "Передача технологий",
        "Интиқоли технологияҳо",
        "Bringing exploration and mining technology to Tajik organisations.",
        [],
        [],
        ROUNDTABLE_2024,
    ),
    (
        "Training in sustainable mining",
        "Обучение устойчивой горной добыче",
        "Омӯзиши истихроҷи устувори маъдан",
        "Training programmes for Tajik specialists in sustainable mining.",
        [],
        [],
        ROUNDTABLE_2024,
    ),
    # Minerals and deposits in focus at the 2024 roundtable.
    (
        "Konimansur silver",
        "Серебро Конимансура",
        "Нуқраи Конимансур",
        "The Konimansur silver deposit, presented at the roundtable as holding over 70% of "
        "Tajikistan's silver reserves.",
        [],
        ["Konimansuri Kalon"],
        ROUNDTABLE_2024,
    ),
    (
        "Gold deposits of Tajikistan",
        "Золоторудные месторождения Таджикистана",
        "Конҳои тиллои Тоҷикистон",
        "About 150 gold deposits have been identified in Tajikistan; many are still "
        "underexplored. Linked to gold, so every gold deposit of the registry is concerned.",
        ["gold"],
        [],
        ROUNDTABLE_2024,
    ),
    (
        "Antimony of the Zeravshan-Hissar belt",
        "Сурьма Зеравшано-Гиссарского пояса",
        "Сурмаи камарбанди Зарафшону Ҳисор",
        "Antimony of the Zeravshan-Hissar mercury-antimony belt; Tajikistan was described "
        "as a regional leader in antimony reserves.",
        ["antimony"],
        [],
        ROUNDTABLE_2024,
    ),
    (
        "Rare metals",
        "Редкие металлы",
        "Металлҳои нодир",
        "Tantalum, niobium, lithium and beryllium.",
        ["tantalum", "niobium", "lithium", "beryllium"],
        [],
        ROUNDTABLE_2024,
    ),
    (
        "Rare earths and lithium for supply chains",
        "Редкоземельные элементы и литий для цепочек поставок",
        "Элементҳои нодирзаминӣ ва литий барои занҷираҳои таъминот",
        "Rare earth elements and lithium, named as the Korean side's supply-chain interest.",
        ["rare-earth-elements", "lithium"],
        [],
        ROUNDTABLE_2024,
    ),
    # Areas of the 2025 memorandum with KIGAM.
    (
        "Geological imaging and mapping",
        "Геологическая визуализация и картирование",
        "Тасвирбардорӣ ва харитасозии геологӣ",
        "",
        [],
        [],
        KIGAM_MOU_2025,
    ),
    (
        "Geochemical and geophysical study of deposits",
        "Геохимическое и геофизическое изучение месторождений",
        "Омӯзиши геохимиявӣ ва геофизикии конҳо",
        "",
        [],
        [],
        KIGAM_MOU_2025,
    ),
    (
        "Geophysical work for reserve estimation",
        "Геофизические работы для оценки запасов",
        "Корҳои геофизикӣ барои арзёбии захираҳо",
        "",
        [],
        [],
        KIGAM_MOU_2025,
    ),
    (
        "Exploration indicators and genesis of critical minerals",
        "Поисковые признаки и генезис критических минералов",
        "Нишонаҳои ҷустуҷӯӣ ва пайдоиши маъданҳои муҳим",
        "",
        [],
        [],
        KIGAM_MOU_2025,
    ),
    (
        "Mineralogy of critical and strategic minerals",
        "Минералогия критических и стратегических минералов",
        "Минералогияи маъданҳои муҳим ва стратегӣ",
        "",
        [],
        [],
        KIGAM_MOU_2025,
    ),
    (
        "Groundwater environment",
        "Среда подземных вод",
        "Муҳити обҳои зеризаминӣ",
        "",
        [],
        [],
        KIGAM_MOU_2025,
    ),
    (
        "Geological hazards",
        "Геологические опасности",
        "Хатарҳои геологӣ",
        "Hazards such as those of Tajikistan's mountain regions.",
        [],
        [],
        KIGAM_MOU_2025,
    ),
    # Aims of the 2014 memorandum with GTK.
    (
        "National geoportal",
        "Национальный геопортал",
        "Геопортали миллӣ",
        "",
        [],
        [],
        GTK_MOU_2014,
    ),
    (
        "Exchange of geological information",
        "Обмен геологической информацией",
        "Мубодилаи иттилооти геологӣ",
        "",
        [],
        [],
        GTK_MOU_2014,
    ),
    (
        "Geophysical surveys for mineral resource development",
        "Геофизические исследования для освоения минеральных ресурсов",
        "Таҳқиқоти геофизикӣ барои азхудкунии захираҳои маъданӣ",
        "",
        [],
        [],
        GTK_MOU_2014,
    ),
    # The 2022 programme with Rosnedra.
    (
        "Geological study of the subsoil",
        "Геологическое изучение недр",
        "Омӯзиши геологии қаъри замин",
        "",
        [],
        [],
        ROSNEDRA_2022,
    ),
]

ROUNDTABLE_TOPICS = {
    EventTopic.Role.DISCUSSED: [
        "Geological exploration with advanced technologies",
        "Extraction and processing",
        "Workforce training",
        "Investment",
    ],
    EventTopic.Role.COOPERATION_AREA: [
        "Joint exploration",
        "Mining infrastructure",
        "Technology transfer",
        "Training in sustainable mining",
    ],
    EventTopic.Role.IN_FOCUS: [
        "Konimansur silver",
        "Gold deposits of Tajikistan",
        "Antimony of the Zeravshan-Hissar belt",
        "Rare metals",
        "Rare earths and lithium for supply chains",
    ],
}
KIGAM_AREAS = [
    "Geological imaging and mapping",
    "Geochemical and geophysical study of deposits",
    "Geophysical work for reserve estimation",
    "Exploration indicators and genesis of critical minerals",
    "Mineralogy of critical and strategic minerals",
    "Groundwater environment",
    "Geological hazards",
]

ROUNDTABLE_TITLE = "Tajikistan - Republic of Korea roundtable on cooperation in mineral resources"
INFOCM_TITLE = "INFOCM 2025 international critical minerals forum"
KIGAM_MOU_TITLE = "Memorandum of understanding between the Main Geology Directorate and KIGAM"
GTK_MOU_TITLE = "Memorandum of understanding between the Main Geology Directorate and GTK"
ROSNEDRA_TITLE = (
    "Programme of cooperation between the Main Geology Directorate and Rosnedra "
    "in the geological study of the subsoil"
)


def set_links(manager, objects) -> None:
    """Replace a many-to-many set only when it differs (no empty history rows)."""
    if set(manager.values_list("pk", flat=True)) != {o.pk for o in objects}:
        manager.set(objects)


def load_organisations() -> dict[str, Organisation]:
    organisations = {}
    for row in ORGANISATIONS:
        values = {"name_native": "", "acronym": "", "website": "", "description": "", **row}
        lookup = {"name": values.pop("name"), "country": values.pop("country")}
        organisations[lookup["name"]] = upsert(Organisation, lookup, values)
    return organisations


def load_people(organisations) -> dict[str, Person]:
    people = {}
    for name, name_ru, name_tg, title, organisation, sources in PEOPLE:
        people[name] = upsert(
            Person,
            {"name": name, "organisation": organisations[organisation]},
            {"name_ru": name_ru, "name_tg": name_tg, "title": title, "sources": sources},
        )
    return people


def load_topics(stdout) -> dict[str, Topic]:
    topics = {}
    for name, name_ru, name_tg, description, codes, deposit_names, source in TOPICS:
        topic = upsert(
            Topic,
            {"name": name},
            {
                "name_ru": name_ru,
                "name_tg": name_tg,
                "description": description,
                "sources": [source],
            },
        )
        minerals = list(Mineral.objects.filter(code__in=codes))
        deposits = list(Deposit.objects.filter(name__in=deposit_names))
        missing = set(codes) - {m.code for m in minerals}
        missing |= set(deposit_names) - {d.name for d in deposits}
        if missing:
            stdout.write(
                _("Topic %(topic)s: not in the registry yet: %(missing)s")
                % {"topic": repr(name), "missing": ", ".join(sorted(missing))}
            )
        set_links(topic.minerals, minerals)
        set_links(topic.deposits, deposits)
        topics[name] = topic
    return topics


def load_events(organisations, people, topics) -> dict[str, Event]:
    roundtable = upsert(
        Event,
        {"title": ROUNDTABLE_TITLE, "start_date": datetime.date(2024, 12, 9)},
        {
            "kind": Event.Kind.ROUNDTABLE,
            "host_country": "TJ",
            "description": (
                "The first roundtable held in Tajikistan on cooperation with the Republic of "
                "Korea in mineral resources. The Tajik side presented the country's mineral "
                "base: over 1,000 deposits of 50 kinds of minerals identified and explored, "
                "about 150 identified gold deposits, many of them underexplored, the "
                "Konimansur silver deposit, antimony of the Zeravshan-Hissar belt and rare "
                "metals. The Korean side presented exploration with 3D modelling, drones and "
                "artificial intelligence, and its interest in rare earths and lithium."
            ),
            "outcome": (
                "Four areas for cooperation were identified: joint exploration, mining "
                "infrastructure, technology transfer and training of Tajik specialists in "
                "sustainable mining. The sides discussed a memorandum of cooperation "
                "(technological support from Korea, field studies by Tajikistan), a laboratory "
                "for geological data processing and research infrastructure for geological "
                "hazards in the mountain regions, and referred to Tajikistan's Geology "
                "Development Program for 2021-2030. Other Korean scientific and research "
                "organisations took part; the report does not name them."
            ),
            "sources": [ROUNDTABLE_2024],
        },
    )
    participants = [
        (MGD, None, EventParticipant.Role.PARTICIPANT),
        (MFA_TJ, None, EventParticipant.Role.PARTICIPANT),
        (MINDUSTRY_TJ, None, EventParticipant.Role.PARTICIPANT),
        (GKZ_TJ, None, EventParticipant.Role.PARTICIPANT),
        (EMBASSY_KR, "Jong Song Sik", EventParticipant.Role.HEAD_OF_DELEGATION),
        (MOTIE, None, EventParticipant.Role.DELEGATION_MEMBER),
        (KIGAM, None, EventParticipant.Role.DELEGATION_MEMBER),
    ]
    add_participants(roundtable, participants, organisations, people)
    for role, names in ROUNDTABLE_TOPICS.items():
        for name in names:
            upsert(EventTopic, {"event": roundtable, "topic": topics[name]}, {"role": role})

    forum = upsert(
        Event,
        {"title": INFOCM_TITLE, "start_date": datetime.date(2025, 5, 12)},
        {
            "kind": Event.Kind.FORUM,
            "place": "Seoul",
            "host_country": "KR",
            "description": (
                "International forum on critical minerals, during which the Main Geology "
                "Directorate and KIGAM signed their memorandum on 12 May 2025. The source "
                "gives the day of the signing, not the forum's full dates."
            ),
            "sources": [KIGAM_MOU_2025],
        },
    )
    add_participants(
        forum,
        [
            (MGD, "Ilhomjon Oimuhammadzoda", EventParticipant.Role.PARTICIPANT),
            (KIGAM, "Pyeong-Koo Lee", EventParticipant.Role.PARTICIPANT),
        ],
        organisations,
        people,
    )
    return {"roundtable": roundtable, "infocm": forum}


def add_participants(event, rows, organisations, people) -> None:
    for organisation, person, role in rows:
        upsert(
            EventParticipant,
            {
                "event": event,
                "organisation": organisations[organisation],
                "person": people[person] if person else None,
            },
            {"role": role},
        )


def load_memorandum(title, values, parties, *, topics=(), events=(), commitments=()):
    """One memorandum with its parties (organisation, signatory), links and commitments."""
    memorandum = upsert(Memorandum, {"title": title}, values)
    for organisation, signatory in parties:
        upsert(
            MemorandumParty,
            {"memorandum": memorandum, "organisation": organisation},
            {"signatory": signatory},
        )
    set_links(memorandum.topics, topics)
    set_links(memorandum.events, events)
    for party, text, source in commitments:
        upsert(
            Commitment, {"memorandum": memorandum, "party": party, "text": text}, {"source": source}
        )
    return memorandum


def record_once(memorandum, status, on, note="", precision=DatePrecision.DAY) -> None:
    if not memorandum.transitions.filter(status=status, date=on).exists():
        record_transition(memorandum, status, on, note, date_precision=precision)


def load_memoranda(organisations, people, topics, events) -> dict[str, Memorandum]:
    mgd, head = organisations[MGD], people["Ilhomjon Oimuhammadzoda"]

    kigam = load_memorandum(
        KIGAM_MOU_TITLE,
        {
            "kind": Memorandum.Kind.MEMORANDUM,
            "signed_on": datetime.date(2025, 5, 12),
            "signed_on_precision": DatePrecision.DAY,
            "signed_place": "Seoul, at the INFOCM 2025 international critical minerals forum",
            "description": (
                "Cooperation in the study of critical minerals and of Tajikistan's geology, "
                "following the plan for a memorandum discussed at the December 2024 roundtable."
            ),
            "sources": [KIGAM_MOU_2025, ROUNDTABLE_2024],
        },
        [(mgd, head), (organisations[KIGAM], people["Pyeong-Koo Lee"])],
        topics=[topics[name] for name in KIGAM_AREAS],
        events=[events["roundtable"], events["infocm"]],
        commitments=[
            (
                organisations[KIGAM],
                "Technological support, as planned at the December 2024 roundtable.",
                ROUNDTABLE_2024,
            ),
            (
                mgd,
                "Field studies, as planned at the December 2024 roundtable.",
                ROUNDTABLE_2024,
            ),
        ],
    )
    record_once(
        kigam,
        Memorandum.Status.PROPOSED,
        datetime.date(2024, 12, 9),
        "A memorandum of cooperation was discussed at the Tajikistan - Korea roundtable.",
    )
    record_once(kigam, Memorandum.Status.SIGNED, datetime.date(2025, 5, 12), "Signed in Seoul.")

    gtk = load_memorandum(
        GTK_MOU_TITLE,
        {
            "kind": Memorandum.Kind.MEMORANDUM,
            "signed_on": datetime.date(2014, 9, 1),
            "signed_on_precision": DatePrecision.MONTH,
            "signed_place": "Dushanbe",
            "description": (
                "Signed within the project Mineral Resources for Development in Tajikistan "
                "(2014-2017), to develop the national geoportal, exchange information and "
                "carry out geophysical surveys for mineral resource development. The source "
                "places the signing at the end of the week before 22 September 2014 and names "
                "no signatories; the registry records a signature only with a signatory for "
                "each party, so no status is recorded until they are known."
            ),
            "sources": [GTK_MOU_2014],
        },
        [(mgd, None), (organisations[GTK], None)],
        topics=[
            topics["National geoportal"],
            topics["Exchange of geological information"],
            topics["Geophysical surveys for mineral resource development"],
        ],
    )

    rosnedra = load_memorandum(
        ROSNEDRA_TITLE,
        {
            "kind": Memorandum.Kind.PROGRAMME,
            "signed_on": datetime.date(2022, 11, 1),
            "signed_on_precision": DatePrecision.MONTH,
            "signed_place": (
                "Dushanbe, at the 18th meeting of the Russia - Tajikistan intergovernmental "
                "commission on economic cooperation"
            ),
            "term_years": 3,
            "description": "Bilateral programme for the geological study of the subsoil.",
            "sources": [ROSNEDRA_2022],
        },
        [(mgd, head), (organisations[ROSNEDRA], people["Yevgeny Petrov"])],
        topics=[topics["Geological study of the subsoil"]],
    )
    record_once(
        rosnedra,
        Memorandum.Status.SIGNED,
        datetime.date(2022, 11, 1),
        "Reported on 10 November 2022; the source gives no exact day.",
        DatePrecision.MONTH,
    )
    return {"kigam": kigam, "gtk": gtk, "rosnedra": rosnedra}


def load_initiatives(topics, events) -> None:
    roundtable = events["roundtable"]
    rows = [
        (
            "Laboratory for geological data processing",
            Initiative.Kind.LABORATORY,
            Initiative.Status.PROPOSED,
            "A modern laboratory for processing geological data, planned at the 2024 "
            "Tajikistan - Korea roundtable.",
            {},
            [],
        ),
        (
            "Research infrastructure for geological hazards",
            Initiative.Kind.INFRASTRUCTURE,
            Initiative.Status.PROPOSED,
            "Research infrastructure for studying geological hazards in Tajikistan's "
            "mountain regions, planned at the 2024 Tajikistan - Korea roundtable.",
            {},
            [topics["Geological hazards"]],
        ),
        (
            "Geology Development Program for 2021-2030",
            Initiative.Kind.PROGRAMME,
            Initiative.Status.RUNNING,
            "Tajikistan's national programme for geology: geological mapping and the search "
            "for new deposits of ferrous and non-ferrous metals. Referred to at the 2024 "
            "roundtable.",
            {
                "start_date": datetime.date(2021, 1, 1),
                "end_date": datetime.date(2030, 1, 1),
                "date_precision": DatePrecision.YEAR,
            },
            [],
        ),
    ]
    for title, kind, status, description, dates, linked_topics in rows:
        initiative = upsert(
            Initiative,
            {"title": title},
            {
                "kind": kind,
                "status": status,
                "description": description,
                "sources": [ROUNDTABLE_2024],
                **dates,
            },
        )
        set_links(initiative.events, [roundtable])
        set_links(initiative.topics, linked_topics)


def load(stdout) -> None:
    organisations = load_organisations()
    people = load_people(organisations)
    topics = load_topics(stdout)
    events = load_events(organisations, people, topics)
    load_memoranda(organisations, people, topics, events)
    load_initiatives(topics, events)
    stdout.write(
        _(
            "Cooperation: %(organisations)s organisations, %(events)s events, "
            "%(topics)s topics, %(memoranda)s memoranda, %(initiatives)s initiatives."
        )
        % {
            "organisations": figure(Organisation.objects.count()),
            "events": figure(Event.objects.count()),
            "topics": figure(Topic.objects.count()),
            "memoranda": figure(Memorandum.objects.count()),
            "initiatives": figure(Initiative.objects.count()),
        }
    )
