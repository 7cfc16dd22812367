"""Nothing leaks: every surface × every caller, over `public`, `partners` and `internal` records.

One deposit, event, memorandum and initiative of each visibility. Each surface
reports which visibilities it showed (by a marker in the record's name, or its
identifier), counts and aggregates included, and the test compares that with what
the caller may see (kernel/visibility.py):

- anonymous visitors and signed-in users who are not staff: `public`;
- a partner organisation's key: `public` and `partners` on the API and OGC service
  (the pages do not read keys: a partner browsing them sees `public`);
- an expired or revoked key: 401 on the API and OGC service, never a silent downgrade;
- staff (viewer, editor, superuser), by session or by their own key: everything.

Hidden records answer 404, never 403. The admin is for staff only (others are sent
to the login page); staff see every record there.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from kernel.models import ApiKey
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    EventFactory,
    InitiativeFactory,
    MemorandumFactory,
    MineralFactory,
    PartnerOrganisationFactory,
    RegionFactory,
    ReserveEstimateFactory,
    UserFactory,
    issue_api_key,
)
from tests.transactions import made_for_module

pytestmark = pytest.mark.django_db

PUBLIC, PARTNERS, INTERNAL = "public", "partners", "internal"
LEVELS = (PUBLIC, PARTNERS, INTERNAL)
EVERYTHING = frozenset(LEVELS)
PARTNER_VIEW = frozenset({PUBLIC, PARTNERS})
PUBLIC_VIEW = frozenset({PUBLIC})
# Markers in names and titles; none is a part of another.
MARK = {PUBLIC: "PUBLICXQ", PARTNERS: "PARTNERXQ", INTERNAL: "INTERNALXQ"}
# Silver reserves (t, C1 balance) of each deposit: any sum tells which deposits it counted.
TONNES = {PUBLIC: Decimal("100"), PARTNERS: Decimal("20"), INTERNAL: Decimal("3")}


@dataclass
class World:
    deposits: dict = field(default_factory=dict)
    reserves: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)
    memoranda: dict = field(default_factory=dict)
    initiatives: dict = field(default_factory=dict)


def make_world() -> World:
    """One deposit (with its silver and reserves), event, memorandum and initiative of
    each visibility."""
    world = World()
    region = RegionFactory()
    silver = MineralFactory()
    for number, level in enumerate(LEVELS):
        deposit = DepositFactory(
            name=f"Deposit {MARK[level]}",
            region=region,
            visibility=level,
            latitude=Decimal("39.5") + number,
            longitude=Decimal("69.5"),
        )
        CommodityFactory(deposit=deposit, mineral=silver)
        world.deposits[level] = deposit
        world.reserves[level] = ReserveEstimateFactory(
            deposit=deposit, mineral=silver, quantity=TONNES[level], unit="t"
        )
        world.events[level] = EventFactory(title=f"Roundtable {MARK[level]}", visibility=level)
        world.memoranda[level] = MemorandumFactory(
            title=f"Memorandum {MARK[level]}", visibility=level
        )
        world.initiatives[level] = InitiativeFactory(
            title=f"Initiative {MARK[level]}", visibility=level
        )
    return world


@pytest.fixture(scope="module")
def built_world(django_db_setup, django_db_blocker) -> World:
    """The world, made once for the module (tests/transactions.py: `made_for_module`)."""
    yield from made_for_module(django_db_blocker, make_world)


@pytest.fixture
def world(built_world, db) -> World:
    """The module's world, each record read afresh: what a test changes in its instances
    goes with the test."""
    fresh = {}
    for kind, records in vars(built_world).items():
        found = type(records[PUBLIC]).objects.in_bulk([r.pk for r in records.values()])
        fresh[kind] = {level: found[record.pk] for level, record in records.items()}
    return World(**fresh)


# --- Callers ------------------------------------------------------------------------


class Refused(Exception):
    """The caller's key was refused (401): the surface showed nothing."""


@dataclass
class Caller:
    name: str
    machine_view: frozenset | None  # API and OGC; None: the key is refused (401)
    page_view: frozenset
    staff: bool
    client: Client = None
    headers: dict = field(default_factory=dict)  # for the API and OGC
    query: dict = field(default_factory=dict)  # OGC's api_key

    def api(self, path, params=None):
        response = self.client.get(path, params or {}, **self.headers)
        if self.machine_view is None:
            assert response.status_code == 401, (path, response.status_code)
            raise Refused
        return response

    def ogc(self, path, params=None):
        response = self.client.get(path, {**(params or {}), **self.query}, **self.headers)
        if self.machine_view is None:
            assert response.status_code == 401, (path, response.status_code)
            raise Refused
        return response

    def page(self, path, params=None):
        return self.client.get(path, params or {})


def _key_holder(organisation=None, user=None, **state):
    key = issue_api_key(organisation=organisation, user=user)
    if state:
        ApiKey.objects.filter(prefix=key[:12]).update(**state)
    return key


def make_caller(name: str) -> Caller:
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    if name == "anonymous":
        return Caller(name, PUBLIC_VIEW, PUBLIC_VIEW, False, client)
    if name in ("partner key", "partner key in api_key", "expired key", "revoked key"):
        state = {
            "expired key": {"expires_at": timezone.now() - timedelta(days=1)},
            "revoked key": {"revoked_at": timezone.now()},
        }.get(name, {})
        key = _key_holder(organisation=PartnerOrganisationFactory(), **state)
        view = PARTNER_VIEW if name.startswith("partner") else None
        if name == "partner key in api_key":
            return Caller(name, view, PUBLIC_VIEW, False, client, query={"api_key": key})
        return Caller(
            name,
            view,
            PUBLIC_VIEW,
            False,
            client,
            headers={"HTTP_AUTHORIZATION": f"Token {key}"},
            query={"api_key": key},
        )
    if name == "signed-in non-staff user":
        client.force_login(UserFactory(username="citizen", is_staff=False))
        return Caller(name, PUBLIC_VIEW, PUBLIC_VIEW, False, client)
    if name == "staff viewer (key)":
        user = UserFactory(username="viewer", groups=["Registry viewers"])
        client.force_login(user)
        key = _key_holder(user=user)
        return Caller(
            name, EVERYTHING, EVERYTHING, True, client, {"HTTP_AUTHORIZATION": f"Token {key}"}
        )
    if name == "editor (session)":
        client.force_login(UserFactory(username="editor", groups=["Registry editors"]))
        return Caller(name, EVERYTHING, EVERYTHING, True, client)
    if name == "superuser (key and session)":
        user = UserFactory(username="root", is_superuser=True)
        client.force_login(user)
        key = _key_holder(user=user)
        return Caller(
            name, EVERYTHING, EVERYTHING, True, client, {"HTTP_AUTHORIZATION": f"Token {key}"}
        )
    raise AssertionError(name)


CALLERS = [
    "anonymous",
    "partner key",
    "expired key",
    "revoked key",
    "signed-in non-staff user",
    "staff viewer (key)",
    "editor (session)",
    "superuser (key and session)",
]


# --- What a response shows --------------------------------------------------------


def shown(text: str) -> frozenset:
    """The visibilities whose marker appears in `text`."""
    return frozenset(level for level in LEVELS if MARK[level] in text)


def shown_ids(text: str, records: dict) -> frozenset:
    return frozenset(level for level in LEVELS if records[level].public_id in text)


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


def answering(fetch, records: dict) -> frozenset:
    """Fetch each record's detail: the visibilities that answered 200; the rest must be 404."""
    seen = set()
    for level, record in records.items():
        response = fetch(record)
        assert response.status_code in (200, 404), (level, response.status_code)
        if response.status_code == 200:
            seen.add(level)
    return frozenset(seen)


def total_tonnes(levels) -> Decimal:
    return sum((TONNES[level] for level in levels), Decimal(0))


# --- Surfaces: each returns the visibilities it showed ------------------------------
# Each also checks that its counts and aggregates agree with what it showed.


def api_deposit_list(caller, world):
    data = caller.api("/api/v1/deposits/").json()
    levels = shown(str([d["name"] for d in data["results"]]))
    assert data["count"] == len(levels)
    return levels


def api_deposit_detail(caller, world):
    return answering(lambda d: caller.api(f"/api/v1/deposits/{d.public_id}/"), world.deposits)


def api_deposit_search(caller, world):
    levels = set()
    for level in LEVELS:
        data = caller.api("/api/v1/deposits/", {"q": MARK[level].lower()}).json()
        assert data["count"] in (0, 1)
        levels |= shown(str(data["results"]))
    return frozenset(levels)


def api_deposit_csv(caller, world):
    text = body(caller.api("/api/v1/deposits/", {"format": "csv"}))
    rows = list(csv.DictReader(io.StringIO(text)))
    levels = shown(text)
    assert len(rows) == len(levels)
    return levels


def api_deposit_geojson(caller, world):
    import json

    data = json.loads(body(caller.api("/api/v1/deposits/", {"format": "geojson"})))
    levels = shown(json.dumps(data))
    assert len(data["features"]) == len(levels)
    return levels


def api_reserves(caller, world):
    data = caller.api("/api/v1/reserves/").json()
    levels = shown_ids(str(data["results"]), world.deposits)
    assert data["count"] == len(levels)
    detail = answering(lambda r: caller.api(f"/api/v1/reserves/{r.public_id}/"), world.reserves)
    assert detail == levels
    return levels


def api_changes(caller, world):
    data = caller.api("/api/v1/changes/", {"since": "2000-01-01"}).json()
    text = str(data)
    deposits = shown_ids(text, world.deposits)
    assert shown_ids(text, world.memoranda) == deposits
    return deposits


def api_mineral_statistics(caller, world):
    data = caller.api("/api/v1/stats/minerals/silver/").json()
    levels = shown(str(data))
    assert data["deposit_count"] == len(levels)
    totals = [t for t in data["totals"] if t["category"] == "C1" and t["unit"] == "t"]
    assert sum(Decimal(t["quantity"]) for t in totals) == total_tonnes(levels)
    listed = caller.api("/api/v1/stats/minerals/").json()["results"]
    assert [m["deposit_count"] for m in listed if m["mineral"] == "silver"] == [len(levels)]
    return levels


def api_region_statistics(caller, world):
    data = caller.api("/api/v1/stats/regions/TJ-SU/").json()
    levels = shown(str(data))
    assert data["deposit_count"] == len(levels)
    return levels


def api_counts_of_regions_and_minerals(caller, world):
    """Counts that name no deposit: the number itself must match the caller's view."""
    region = caller.api("/api/v1/regions/TJ-SU/").json()["deposit_count"]
    mineral = caller.api("/api/v1/minerals/silver/").json()["deposit_count"]
    assert region == mineral
    return frozenset(LEVELS[:region])  # the views are nested: public ⊂ partners ⊂ internal


def _cooperation(resource, records_attr):
    def surface(caller, world):
        records = getattr(world, records_attr)
        data = caller.api(f"/api/v1/{resource}/").json()
        levels = shown(str(data["results"]))
        assert data["count"] == len(levels)
        detail = answering(lambda r: caller.api(f"/api/v1/{resource}/{r.public_id}/"), records)
        assert detail == levels
        return levels

    surface.__name__ = f"api_{resource}"
    return surface


def ogc_items(caller, world):
    data = caller.ogc("/ogc/collections/deposits/items", {"limit": 100}).json()
    levels = shown_ids(str(data), world.deposits)
    assert data["numberMatched"] == data["numberReturned"] == len(levels)
    return levels


def ogc_item(caller, world):
    return answering(
        lambda d: caller.ogc(f"/ogc/collections/deposits/items/{d.public_id}"), world.deposits
    )


def page_deposit_list(caller, world):
    response = caller.page("/deposits/")
    levels = shown(body(response))
    assert response.context["page"].paginator.count == len(levels)
    return levels


def page_search(caller, world):
    levels = set()
    for level in LEVELS:
        levels |= shown(body(caller.page("/deposits/", {"q": MARK[level].lower()})))
    return frozenset(levels)


def page_deposit_detail(caller, world):
    return answering(lambda d: caller.page(f"/deposits/{d.public_id}/"), world.deposits)


def page_map_data(caller, world):
    return shown(body(caller.page("/deposits/map.json")))


def page_csv_export(caller, world):
    return shown(body(caller.page("/deposits/export.csv")))


def page_xlsx_export(caller, world):
    response = caller.page("/deposits/export.xlsx")
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content)).active
    values = [str(cell.value) for row in sheet.iter_rows(min_row=2) for cell in row]
    return shown(" ".join(values))


def page_home(caller, world):
    response = caller.page("/")
    levels = shown(body(response))
    assert response.context["deposit_count"] == len(levels)
    return levels


def page_mineral(caller, world):
    response = caller.page("/minerals/silver/")
    levels = shown(body(response))
    assert response.context["deposit_count"] == len(levels)
    return levels


def page_region(caller, world):
    """The region page shows counts (and a map fed by the map data, checked above)."""
    context = caller.page("/regions/TJ-SU/").context
    count = context["deposit_count"]
    silver = [m.deposit_count for m in context["minerals"] if m.code == "silver"]
    assert silver == ([count] if count else [])
    return frozenset(LEVELS[:count])  # the views are nested: public ⊂ partners ⊂ internal


def page_cooperation(caller, world):
    text = body(caller.page("/cooperation/"))
    events = frozenset(level for level in LEVELS if f"Roundtable {MARK[level]}" in text)
    memoranda = frozenset(level for level in LEVELS if f"Memorandum {MARK[level]}" in text)
    assert events == memoranda
    return events


def page_event_and_memorandum_details(caller, world):
    events = answering(lambda e: caller.page(f"/cooperation/events/{e.public_id}/"), world.events)
    memoranda = answering(
        lambda m: caller.page(f"/cooperation/memoranda/{m.public_id}/"), world.memoranda
    )
    assert events == memoranda
    return events


MACHINE_SURFACES = [
    api_deposit_list,
    api_deposit_detail,
    api_deposit_search,
    api_deposit_csv,
    api_deposit_geojson,
    api_reserves,
    api_changes,
    api_mineral_statistics,
    api_region_statistics,
    api_counts_of_regions_and_minerals,
    _cooperation("events", "events"),
    _cooperation("memoranda", "memoranda"),
    _cooperation("initiatives", "initiatives"),
    ogc_items,
    ogc_item,
]
PAGE_SURFACES = [
    page_deposit_list,
    page_search,
    page_deposit_detail,
    page_map_data,
    page_csv_export,
    page_xlsx_export,
    page_home,
    page_mineral,
    page_region,
    page_cooperation,
    page_event_and_memorandum_details,
]


@pytest.mark.parametrize("surface", MACHINE_SURFACES, ids=lambda s: s.__name__)
@pytest.mark.parametrize("caller_name", CALLERS)
def test_machine_surfaces(world, caller_name, surface):
    caller = make_caller(caller_name)
    try:
        seen = surface(caller, world)
    except Refused:
        seen = None
    assert seen == caller.machine_view


def test_ogc_key_in_the_address_works_as_in_the_header(world):
    caller = make_caller("partner key in api_key")
    assert ogc_items(caller, world) == PARTNER_VIEW
    assert ogc_item(caller, world) == PARTNER_VIEW


@pytest.mark.parametrize("surface", PAGE_SURFACES, ids=lambda s: s.__name__)
@pytest.mark.parametrize("caller_name", CALLERS)
def test_pages(world, caller_name, surface):
    caller = make_caller(caller_name)
    assert surface(caller, world) == caller.page_view


ADMIN_LISTS = ["/admin/deposits/deposit/", "/admin/deposits/reserveestimate/"]


@pytest.mark.parametrize("path", ADMIN_LISTS)
@pytest.mark.parametrize("caller_name", CALLERS)
def test_admin(world, caller_name, path):
    caller = make_caller(caller_name)
    response = caller.page(path)
    if not caller.staff:
        assert response.status_code == 302
        assert response.url.startswith("/admin/login/")
        return
    assert response.status_code == 200
    text = body(response)
    if "reserve" in path:
        assert shown_ids(text, world.deposits) | shown(text) == EVERYTHING
    else:
        assert shown(text) == EVERYTHING


# --- Data-sharing clauses: a partner key sees what its organisation's clause opens ----
# KIGAM's key reads through one clause of a memorandum with the ministry, in each state;
# the clause names the internal deposit (or reaches it by mineral, region or area). Each
# surface's deposits, and the figures its totals were summed over, are compared with what
# the clause opens: the internal deposit (and its 3 t) only while it is in force, its
# figures only when the clause shares them, and nothing to another organisation's key.

CLAUSES = {
    # name: (deposits seen, reserve figures seen)
    "in force": (EVERYTHING, EVERYTHING),
    "before signing": (PARTNER_VIEW, PARTNER_VIEW),
    "after expiry": (PARTNER_VIEW, PARTNER_VIEW),
    "after termination": (PARTNER_VIEW, PARTNER_VIEW),
    "while suspended": (PARTNER_VIEW, PARTNER_VIEW),
    "another organisation's key": (PARTNER_VIEW, PARTNER_VIEW),
    "without reserve figures": (EVERYTHING, PARTNER_VIEW),
    "by mineral": (EVERYTHING, EVERYTHING),
    "by region": (EVERYTHING, EVERYTHING),
    "by area": (EVERYTHING, EVERYTHING),
}


def clause_caller(world, clause: str) -> Caller:
    from cooperation.models import DataGrant
    from cooperation.services import record_transition
    from tests.factories import MemorandumPartyFactory, OrganisationFactory, PersonFactory

    today = timezone.localdate()
    kigam = PartnerOrganisationFactory()
    ministry = OrganisationFactory(name="Ministry of Geology")
    signed = today + timedelta(days=5) if clause == "before signing" else today - timedelta(400)
    memorandum = MemorandumFactory(
        signed_on=signed,
        valid_until=today - timedelta(days=1) if clause == "after expiry" else None,
    )
    for party in (ministry, kigam):
        MemorandumPartyFactory(
            memorandum=memorandum, organisation=party, signatory=PersonFactory(organisation=party)
        )
    record_transition(memorandum, "signed", signed)
    if clause == "after termination":
        record_transition(memorandum, "terminated", today - timedelta(days=1), "Ended.")
    if clause == "while suspended":
        record_transition(memorandum, "suspended", today - timedelta(days=1), "Under review.")
    internal = world.deposits[INTERNAL]
    area = None
    if clause == "by area":
        internal.latitude, internal.longitude = Decimal("39.9"), Decimal("69.3")
        internal.save()
        area = [69.2, 39.8, 69.4, 40.0]
    grant = DataGrant(
        memorandum=memorandum,
        organisation=kigam,
        area=area,
        shares_reserves=clause != "without reserve figures",
    )
    if area:
        grant.clean()  # the box kept as its polygon
    grant.save()
    if clause == "by mineral":
        grant.minerals.set([internal.commodities.get().mineral])
    elif clause == "by region":
        grant.regions.set([internal.region])
    elif clause != "by area":
        grant.deposits.set([internal])
    holder = PartnerOrganisationFactory(name="Other survey", country="CN")
    key = issue_api_key(organisation=holder if clause == "another organisation's key" else kigam)
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    deposits, _figures = CLAUSES[clause]
    return Caller(
        clause, deposits, PUBLIC_VIEW, False, client, {"HTTP_AUTHORIZATION": f"Token {key}"}
    )


def levels_summed(total: Decimal) -> frozenset:
    """The deposits whose silver tonnes add up to `total` (each sum is of one set)."""
    from itertools import combinations

    for size in range(len(LEVELS) + 1):
        for levels in combinations(LEVELS, size):
            if total_tonnes(levels) == total:
                return frozenset(levels)
    raise AssertionError(total)


def api_silver_totals(caller, world):
    data = caller.api("/api/v1/stats/minerals/silver/").json()
    totals = [t for t in data["totals"] if t["category"] == "C1" and t["unit"] == "t"]
    return levels_summed(sum((Decimal(t["quantity"]) for t in totals), Decimal(0)))


def api_reserve_list_and_details(caller, world):
    data = caller.api("/api/v1/reserves/").json()
    levels = shown_ids(str(data["results"]), world.deposits)
    assert data["count"] == len(levels)
    detail = answering(lambda r: caller.api(f"/api/v1/reserves/{r.public_id}/"), world.reserves)
    assert detail == levels
    return levels


def api_changed_deposits(caller, world):
    data = caller.api("/api/v1/changes/", {"since": "2000-01-01"}).json()
    return shown_ids(str(data), world.deposits)


CLAUSE_DEPOSIT_SURFACES = [
    api_deposit_list,
    api_deposit_detail,
    api_deposit_search,
    api_deposit_csv,
    api_deposit_geojson,
    api_region_statistics,
    api_counts_of_regions_and_minerals,
    api_changed_deposits,
    ogc_items,
    ogc_item,
]
CLAUSE_FIGURE_SURFACES = [api_silver_totals, api_reserve_list_and_details]


@pytest.mark.parametrize("clause", CLAUSES)
def test_clauses_on_machine_surfaces(world, clause):
    caller = clause_caller(world, clause)
    deposits, figures = CLAUSES[clause]
    seen = {surface.__name__: surface(caller, world) for surface in CLAUSE_DEPOSIT_SURFACES}
    assert seen == dict.fromkeys(seen, deposits)
    seen = {surface.__name__: surface(caller, world) for surface in CLAUSE_FIGURE_SURFACES}
    assert seen == dict.fromkeys(seen, figures)
