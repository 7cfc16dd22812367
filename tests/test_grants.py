"""Data-sharing clauses (grants) of memoranda: what they open to one partner's key, when,
and that bad clauses are refused with nothing saved (docs/cooperation.md, docs/api.md).

The world: a public, a partner and two internal silver deposits in Sughd, an internal
gold deposit in Khatlon and an internal silver deposit just outside the test area. Silver
reserves (C1 balance, t) differ per deposit, so any total tells which deposits it
counted. KIGAM's key reads through each kind of clause; another organisation's key, with
no clause, sees public and partner records only.
"""

import csv
import datetime
import io
import json
import re
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cooperation.models import DataGrant, GrantedDeposit
from cooperation.services import record_transition
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MemorandumFactory,
    MemorandumPartyFactory,
    MineralFactory,
    OrganisationFactory,
    PartnerOrganisationFactory,
    PersonFactory,
    RegionFactory,
    ReserveEstimateFactory,
    UserFactory,
    issue_api_key,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
# A box around the named deposit's point and the area deposit, not the one just outside.
AREA_BOX = [69.0, 39.8, 69.6, 40.3]


class World:
    pass


@pytest.fixture
def world(db):
    w = World()
    sughd = RegionFactory()
    khatlon = RegionFactory(code="TJ-KT", name="Khatlon")
    silver = MineralFactory()
    gold = MineralFactory(code="gold", symbol="Au", name="Gold", unit="t")
    w.silver, w.gold, w.sughd, w.khatlon = silver, gold, sughd, khatlon

    def deposit(name, visibility, tonnes, mineral=silver, region=sughd, at=(39.5, 68.5)):
        made = DepositFactory(
            name=name,
            visibility=visibility,
            region=region,
            latitude=Decimal(str(at[0])),
            longitude=Decimal(str(at[1])),
        )
        CommodityFactory(deposit=made, mineral=mineral)
        ReserveEstimateFactory(deposit=made, mineral=mineral, quantity=Decimal(tonnes), unit="t")
        return made

    w.public = deposit("Open PUBX", "public", "100")
    w.partners = deposit("Shared PARTX", "partners", "20")
    w.named = deposit("Named NAMEDX", "internal", "3", at=(40.0, 69.3))
    w.hidden = deposit("Hidden HIDX", "internal", "5", at=(38.0, 68.0))
    w.golden = deposit(
        "Golden GOLDX", "internal", "7", mineral=gold, region=khatlon, at=(37.9, 69.0)
    )
    # Inside the area's box by latitude, a little east of it.
    w.outside = deposit("Beyond BEYX", "internal", "11", at=(40.0, 69.65))
    w.kigam = PartnerOrganisationFactory()
    w.ministry = OrganisationFactory(name="Ministry of Geology")
    w.other = OrganisationFactory(name="Other survey", country="CN")
    w.kigam_key = issue_api_key(organisation=w.kigam)
    w.other_key = issue_api_key(organisation=w.other)
    return w


def memorandum(w, *, signed=TODAY - 30 * DAY, valid_until=None, parties=None):
    made = MemorandumFactory(signed_on=signed, valid_until=valid_until)
    for organisation in parties or (w.ministry, w.kigam):
        MemorandumPartyFactory(
            memorandum=made,
            organisation=organisation,
            signatory=PersonFactory(organisation=organisation),
        )
    return made


def sign(made, on=None):
    record_transition(made, "signed", on or made.signed_on)
    return made


def grant(made, organisation, *, deposits=(), minerals=(), regions=(), area=None, reserves=True):
    clause = DataGrant(
        memorandum=made, organisation=organisation, area=area, shares_reserves=reserves
    )
    clause.scope_in_edit = {
        "deposits": [d.pk for d in deposits],
        "minerals": [m.pk for m in minerals],
        "regions": [r.pk for r in regions],
    }
    clause.full_clean()
    clause.scope_in_edit = None
    clause.save()
    clause.deposits.set(deposits)
    clause.minerals.set(minerals)
    clause.regions.set(regions)
    return clause


def client(api_client, key):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api_client


def listed(api, path="/api/v1/deposits/", **params) -> set[str]:
    data = api.get(path, {"page_size": 100, **params}).json()
    names = {d["name"].split()[-1] for d in data["results"]}
    assert data["count"] == len(names)
    return names


BASE = {"PUBX", "PARTX"}


def silver_c1(api) -> Decimal:
    data = api.get("/api/v1/stats/minerals/silver/").json()
    return sum(
        (Decimal(t["quantity"]) for t in data["totals"] if t["category"] == "C1"), Decimal(0)
    )


# --- What a key sees, by the state of the memorandum --------------------------------


def test_a_clause_in_force_opens_named_internal_deposits_on_every_surface(world, api_client):
    w = world
    grant(sign(memorandum(w)), w.kigam, deposits=[w.named])
    api = client(api_client, w.kigam_key)

    assert listed(api) == BASE | {"NAMEDX"}
    assert api.get(f"/api/v1/deposits/{w.named.public_id}/").status_code == 200
    assert api.get(f"/api/v1/deposits/{w.hidden.public_id}/").status_code == 404
    # filters and counts
    assert listed(api, q="namedx") == {"NAMEDX"}
    assert api.get("/api/v1/regions/TJ-SU/").json()["deposit_count"] == 3
    assert api.get("/api/v1/minerals/silver/").json()["deposit_count"] == 3
    # CSV export
    text = b"".join(api.get("/api/v1/deposits/", {"format": "csv"}).streaming_content).decode(
        "utf-8-sig"
    )
    assert {row["Name"].split()[-1] for row in csv.DictReader(io.StringIO(text))} == BASE | {
        "NAMEDX"
    }
    # OGC items
    data = api.get("/ogc/collections/deposits/items", {"limit": 100}).json()
    assert data["numberMatched"] == 3
    assert w.named.public_id in json.dumps(data) and w.hidden.public_id not in json.dumps(data)
    assert api.get(f"/ogc/collections/deposits/items/{w.named.public_id}").status_code == 200
    # reserve figures shared: totals by value, the estimate itself, the share's denominator
    assert silver_c1(api) == Decimal("123")
    reserves = api.get("/api/v1/reserves/").json()
    assert reserves["count"] == 3
    document = api.get(f"/api/v1/deposits/{w.named.public_id}/").json()
    assert [Decimal(r["quantity"]) for r in document["reserves"]] == [Decimal(3)]
    share = document["commodities"][0]["reserve_share_pct"]
    assert Decimal(share) == (Decimal(3) * 100 / Decimal(123)).quantize(Decimal("0.01"))


def named_share(api, w) -> Decimal:
    document = api.get(f"/api/v1/deposits/{w.named.public_id}/").json()
    return Decimal(document["commodities"][0]["reserve_share_pct"])


def of_silver(tonnes: str, total: str) -> Decimal:
    return (Decimal(tonnes) * 100 / Decimal(total)).quantize(Decimal("0.01"))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_opened_totals_are_summed_once_until_the_registry_changes(world, api_client):
    """Committed reads: the reserves a clause opens are summed by the first read and reused
    by the next while nothing is written; a committed write is counted by the next read."""
    w = world
    grant(sign(memorandum(w)), w.kigam, deposits=[w.named])
    api = client(api_client, w.kigam_key)
    assert named_share(api, w) == of_silver("3", "123")
    url = f"/api/v1/deposits/{w.named.public_id}/"
    with CaptureQueriesContext(connection) as read:
        assert api.get(url).status_code == 200
    # The document's own estimates are read; the opened ones are not summed again.
    estimates = [q["sql"] for q in read if "deposits_reserveestimate" in q["sql"]]
    assert len(estimates) == 1 and "SUM(" not in estimates[0]

    # A re-estimate of the opened deposit: 4 t in force instead of 3.
    ReserveEstimateFactory(deposit=w.named, mineral=w.silver, quantity=Decimal(4), unit="t")
    assert named_share(api, w) == of_silver("4", "124")
    # One of a deposit the partner sees by its level (kept sums): 3 t instead of 100.
    ReserveEstimateFactory(deposit=w.public, mineral=w.silver, quantity=Decimal(3), unit="t")
    assert named_share(api, w) == of_silver("4", "27")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_read_inside_a_transaction_sums_what_it_wrote(world, api_client):
    """A write not yet committed has moved no generation: a read in its transaction sums
    the opened reserves afresh rather than reuse what an earlier read summed."""
    w = world
    grant(sign(memorandum(w)), w.kigam, deposits=[w.named])
    api = client(api_client, w.kigam_key)
    assert named_share(api, w) == of_silver("3", "123")
    with transaction.atomic():
        ReserveEstimateFactory(deposit=w.named, mineral=w.silver, quantity=Decimal(4), unit="t")
        assert named_share(api, w) == of_silver("4", "124")
        transaction.set_rollback(True)
    assert named_share(api, w) == of_silver("3", "123")


def test_another_organisation_and_anonymous_see_nothing_more(world, api_client):
    w = world
    grant(sign(memorandum(w)), w.kigam, deposits=[w.named])
    assert listed(client(api_client, w.other_key)) == BASE
    assert silver_c1(api_client) == Decimal("120")
    other = client(api_client, w.other_key)
    assert other.get(f"/api/v1/deposits/{w.named.public_id}/").status_code == 404
    api_client.credentials()
    assert listed(api_client) == {"PUBX"}


@pytest.mark.parametrize(
    "state",
    ["no transition recorded", "signed in the future", "valid until yesterday", "terminated"],
)
def test_a_clause_is_in_force_only_while_its_memorandum_is(world, api_client, state):
    w = world
    if state == "no transition recorded":
        made = memorandum(w)
    elif state == "signed in the future":
        made = sign(memorandum(w, signed=TODAY + 5 * DAY))
    elif state == "valid until yesterday":
        made = sign(memorandum(w, signed=TODAY - 400 * DAY, valid_until=TODAY - DAY))
    else:
        made = sign(memorandum(w))
        record_transition(made, "terminated", TODAY - DAY, "Ended by note verbale.")
    grant(made, w.kigam, deposits=[w.named])
    api = client(api_client, w.kigam_key)
    assert listed(api) == BASE
    assert api.get(f"/api/v1/deposits/{w.named.public_id}/").status_code == 404
    assert silver_c1(api) == Decimal("120")


def test_valid_until_is_the_last_day_in_force(world, api_client):
    w = world
    grant(sign(memorandum(w, valid_until=TODAY)), w.kigam, deposits=[w.named])
    assert listed(client(api_client, w.kigam_key)) == BASE | {"NAMEDX"}


def test_a_clause_without_reserve_figures_opens_the_record_only(world, api_client):
    w = world
    grant(sign(memorandum(w)), w.kigam, deposits=[w.named], reserves=False)
    api = client(api_client, w.kigam_key)
    assert listed(api) == BASE | {"NAMEDX"}
    document = api.get(f"/api/v1/deposits/{w.named.public_id}/").json()
    assert document["reserves"] == []
    # no share computed from the hidden figure, and the totals leave it out
    assert document["commodities"][0]["reserve_share_pct"] is None
    assert silver_c1(api) == Decimal("120")
    assert api.get("/api/v1/reserves/").json()["count"] == 2
    assert api.get(f"/api/v1/deposits/{w.named.public_id}/reserve-history/").status_code == 404
    text = b"".join(
        api.get("/api/v1/deposits/", {"format": "csv", "include": "reserves"}).streaming_content
    ).decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if "NAMEDX" in r["Name"])
    assert "3" not in "".join(v for k, v in row.items() if "reserves" in k.lower())


def test_a_clause_by_mineral(world, api_client):
    w = world
    grant(sign(memorandum(w)), w.kigam, minerals=[w.gold])
    api = client(api_client, w.kigam_key)
    assert listed(api) == BASE | {"GOLDX"}
    assert listed(api, mineral="gold") == {"GOLDX"}


def test_a_clause_by_region_and_mineral_needs_both(world, api_client):
    w = world
    grant(sign(memorandum(w)), w.kigam, minerals=[w.silver], regions=[w.khatlon])
    assert listed(client(api_client, w.kigam_key)) == BASE
    DataGrant.objects.all().delete()
    grant(sign(memorandum(w)), w.kigam, regions=[w.khatlon])
    assert listed(client(api_client, w.kigam_key)) == BASE | {"GOLDX"}


def test_a_clause_by_area_leaves_a_deposit_just_outside_hidden(world, api_client):
    w = world
    grant(sign(memorandum(w)), w.kigam, area=AREA_BOX)
    api = client(api_client, w.kigam_key)
    assert listed(api) == BASE | {"NAMEDX"}
    assert api.get(f"/api/v1/deposits/{w.outside.public_id}/").status_code == 404
    # the area follows the deposit: moved inside, it is opened
    w.outside.longitude = Decimal("69.55")
    w.outside.save()
    assert listed(api) == BASE | {"NAMEDX", "BEYX"}


def test_a_polygon_area(world, api_client):
    w = world
    triangle = {
        "type": "Polygon",
        "coordinates": [[[69.0, 39.8], [69.7, 39.8], [69.0, 40.3], [69.0, 39.8]]],
    }
    grant(sign(memorandum(w)), w.kigam, area=triangle)
    # (40.0, 69.3) lies inside the triangle; (40.0, 69.65) beyond its long side
    assert listed(client(api_client, w.kigam_key)) == BASE | {"NAMEDX"}


def test_answers_cached_for_one_organisation_are_not_served_to_another(
    world, api_client, either_cache, settings
):
    settings.API_CACHE_SECONDS = 300
    w = world
    grant(sign(memorandum(w)), w.kigam, deposits=[w.named])
    assert listed(client(api_client, w.kigam_key)) == BASE | {"NAMEDX"}
    assert listed(client(api_client, w.other_key)) == BASE
    assert listed(client(api_client, w.kigam_key)) == BASE | {"NAMEDX"}


def test_staff_see_everything_as_before(world, api_client, editor):
    w = world
    grant(sign(memorandum(w)), w.kigam, deposits=[w.named])
    api = client(api_client, issue_api_key(user=editor))
    assert len(listed(api)) == 6
    assert silver_c1(api) == Decimal("139")


# --- Bad clauses are refused, nothing saved -----------------------------------------


def _staff_api(api_client):
    user = UserFactory(username="coop", groups=["Cooperation editors"])
    return client(api_client, issue_api_key(user=user))


def grants_url(made):
    return f"/api/v1/memoranda/{made.public_id}/grants/"


def test_the_clauses_list_asks_no_query_per_clause(world, api_client):
    """Whether each clause is in force is read with the list, not asked clause by clause."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = world
    made = sign(memorandum(w))
    grant(made, w.kigam, deposits=[w.named])
    api = _staff_api(api_client)
    api.get(grants_url(made))  # the key's first use is stamped once
    with CaptureQueriesContext(connection) as one:
        first = api.get(grants_url(made)).json()
    grant(made, w.kigam, regions=[w.khatlon])
    grant(made, w.kigam, minerals=[w.gold])
    with CaptureQueriesContext(connection) as three:
        listed = api.get(grants_url(made)).json()
    assert [c["in_force"] for c in first] == [True]
    assert [c["in_force"] for c in listed] == [True, True, True]
    assert len(three) == len(one)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"organisation": "other", "deposits": ["named"]}, "organisation"),
        ({"organisation": "kigam"}, "non_field_errors"),
        ({"organisation": "kigam", "area": [60.0, 30.0, 61.0, 31.0]}, "area"),
        ({"organisation": "kigam", "area": [67.4, 36.7, 67.6, 36.9]}, "area"),  # in Afghanistan
        ({"organisation": "kigam", "area": {"type": "Point", "coordinates": [69, 39]}}, "area"),
        ({"organisation": "kigam", "area": [70.0, 39.0, 69.0, 40.0]}, "area"),
    ],
)
def test_the_api_refuses_a_bad_clause(world, api_client, payload, field):
    w = world
    made = memorandum(w)
    api = _staff_api(api_client)
    names = {"other": w.other.public_id, "kigam": w.kigam.public_id, "named": w.named.public_id}
    body = {
        k: (
            [names[x] for x in v]
            if k == "deposits"
            else names.get(v, v)
            if isinstance(v, str)
            else v
        )
        for k, v in payload.items()
    }
    response = api.post(grants_url(made), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not DataGrant.objects.exists() and not GrantedDeposit.objects.exists()


def test_staff_write_and_read_clauses_over_the_api(world, api_client):
    w = world
    made = sign(memorandum(w))
    api = _staff_api(api_client)
    response = api.post(
        grants_url(made),
        {"organisation": w.kigam.public_id, "area": AREA_BOX, "shares_reserves": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["area"]["type"] == "Polygon"
    assert created["in_force"] is True and created["opens_on"] == made.signed_on.isoformat()
    assert listed(client(api_client, w.kigam_key)) == BASE | {"NAMEDX"}

    api = _staff_api(api_client)
    url = f"{grants_url(made)}{created['id']}/"
    read = api.get(url)
    assert api.patch(url, {"shares_reserves": False}, format="json").status_code == 428
    changed = api.patch(url, {"shares_reserves": False}, format="json", HTTP_IF_MATCH=read["ETag"])
    assert changed.status_code == 200 and changed.json()["shares_reserves"] is False
    assert DataGrant.objects.get().history.count() == 2


def test_partners_and_anonymous_find_no_clauses(world, api_client):
    w = world
    made = sign(memorandum(w))
    grant(made, w.kigam, deposits=[w.named])
    assert api_client.get(grants_url(made)).status_code == 404
    api = client(api_client, w.kigam_key)
    assert api.get(grants_url(made)).status_code == 404
    assert api.post(grants_url(made), {}, format="json").status_code == 404


def admin_form(made, **grants):
    """The memorandum's change form as the admin shows it, with its recorded clauses."""
    from django.forms.models import model_to_dict

    made.refresh_from_db()
    data = {
        **{
            k: v for k, v in model_to_dict(made).items() if v is not None and k not in ("document",)
        },
        "loaded_version": made.version,
    }
    data.pop("id", None)
    for name in ("topics", "minerals", "deposits", "events"):
        data[name] = []
    parties = list(made.parties.all())
    transitions = made.transitions.count()
    clauses = list(made.grants.all())
    for prefix, total, initial in (
        ("parties", len(parties), len(parties)),
        ("commitments", 0, 0),
        ("transitions", transitions, transitions),
        ("grants", len(clauses), len(clauses)),
    ):
        data[f"{prefix}-TOTAL_FORMS"] = total
        data[f"{prefix}-INITIAL_FORMS"] = initial
    for i, party in enumerate(parties):
        data[f"parties-{i}-id"] = party.pk
        data[f"parties-{i}-memorandum"] = made.pk
        data[f"parties-{i}-organisation"] = party.organisation_id
        data[f"parties-{i}-signatory"] = party.signatory_id
    for i, transition in enumerate(made.transitions.all()):
        data[f"transitions-{i}-id"] = transition.pk
        data[f"transitions-{i}-memorandum"] = made.pk
    for i, clause in enumerate(clauses):
        data[f"grants-{i}-id"] = clause.pk
        data[f"grants-{i}-memorandum"] = made.pk
        data[f"grants-{i}-organisation"] = clause.organisation_id
        data[f"grants-{i}-deposits"] = [d.pk for d in clause.deposits.all()]
        data[f"grants-{i}-minerals"] = [m.pk for m in clause.minerals.all()]
        data[f"grants-{i}-regions"] = [r.pk for r in clause.regions.all()]
        data[f"grants-{i}-area"] = json.dumps(clause.area) if clause.area else ""
        data[f"grants-{i}-note"] = clause.note
        if clause.shares_reserves:
            data[f"grants-{i}-shares_reserves"] = "on"
    data.update(grants)
    return {k: v for k, v in data.items() if v is not None}


def test_the_admin_refuses_a_clause_for_an_organisation_not_party(world, client):
    w = world
    made = memorandum(w)
    client.force_login(UserFactory(username="root", is_superuser=True))
    url = f"/admin/cooperation/memorandum/{made.pk}/change/"
    # Submit the page's own form with one new clause for an organisation not party.
    data = admin_form(
        made,
        **{
            "grants-TOTAL_FORMS": 1,
            "grants-0-organisation": w.other.pk,
            "grants-0-deposits": [w.named.pk],
            "grants-0-area": "",
            "grants-0-note": "",
        },
    )
    response = client.post(url, {k: v for k, v in data.items() if v is not None})
    assert response.status_code == 200
    errors = str(response.context["inline_admin_formsets"][-1].formset.errors)
    assert "not a party" in errors, errors
    assert not DataGrant.objects.exists()
    # and an empty scope
    data["grants-0-organisation"] = w.kigam.pk
    data["grants-0-deposits"] = []
    response = client.post(url, {k: v for k, v in data.items() if v is not None})
    errors = str(response.context["inline_admin_formsets"][-1].formset.errors)
    assert "Say what the clause opens" in errors, errors
    assert not DataGrant.objects.exists()
    # a good one is saved, and listed on the organisation
    data["grants-0-deposits"] = [w.named.pk]
    response = client.post(url, {k: v for k, v in data.items() if v is not None})
    assert response.status_code == 302, response.context and response.context["errors"]
    assert DataGrant.objects.get().organisation == w.kigam
    page = client.get(f"/admin/cooperation/organisation/{w.kigam.pk}/change/")
    assert made.title in page.content.decode()
    # Shown again, the clause without an area has an empty area box, not "null".
    page = client.get(url).content.decode()
    assert re.search(r'<textarea name="grants-0-area"[^>]*>\s*</textarea>', page), page


# --- The change feed at a clause's start and end ------------------------------------


def feed(api, since) -> list[tuple[str, str, str]]:
    data = api.get("/api/v1/changes/", {"since": since.isoformat(), "page_size": 500}).json()
    return [(c["model"], c["id"], c["action"]) for c in data["results"]]


def test_the_feed_reports_what_a_clause_opens_and_closes(world, api_client):
    w = world
    estimate = w.named.reserves.get()
    made = sign(memorandum(w))
    since = timezone.now()
    clause = grant(made, w.kigam, deposits=[w.named])
    api = client(api_client, w.kigam_key)
    opened = [
        ("deposit", w.named.public_id, "created"),
        ("reserve", estimate.public_id, "created"),
    ]
    assert [
        e for e in feed(api, since) if e[1] in (w.named.public_id, estimate.public_id)
    ] == opened
    # a change while the clause is in force is an update the partner sees
    w.named.description = "Re-surveyed"
    w.named.save()
    assert ("deposit", w.named.public_id, "updated") in feed(api, since)
    # another organisation learns nothing of it
    assert not [
        e for e in feed(client(api_client, w.other_key), since) if e[1] == w.named.public_id
    ]
    # terminated today: gone from the partner's view, reported deleted
    record_transition(made, "terminated", TODAY, "Ended early.")
    api = client(api_client, w.kigam_key)
    assert api.get(f"/api/v1/deposits/{w.named.public_id}/").status_code == 404
    assert [e for e in feed(api, since) if e[0] != "memorandum"][-2:] == [
        ("deposit", w.named.public_id, "deleted"),
        ("reserve", estimate.public_id, "deleted"),
    ]
    assert clause.changes.count() == 2


def test_an_expiry_date_set_in_the_past_closes_the_clause_in_the_feed(world, api_client):
    w = world
    made = sign(memorandum(w))
    since = timezone.now()
    grant(made, w.kigam, deposits=[w.named], reserves=False)
    made.valid_until = TODAY - DAY
    made.save()
    api = client(api_client, w.kigam_key)
    assert [e for e in feed(api, since) if e[0] == "deposit"] == [
        ("deposit", w.named.public_id, "created"),
        ("deposit", w.named.public_id, "deleted"),
    ]
    # without reserve figures, no estimate entered or left the partner's view
    assert not [e for e in feed(api, since) if e[0] == "reserve"]


def test_the_days_a_clause_opens_and_closes_are_logged_ahead(world):
    """No job runs on those days: the feed lists each logged moment once it has come."""
    from cooperation.grants import moment
    from cooperation.models import GrantChange

    w = world
    made = sign(memorandum(w, signed=TODAY + 3 * DAY, valid_until=TODAY + 30 * DAY))
    grant(made, w.kigam, deposits=[w.named])
    assert list(GrantChange.objects.values_list("action", "at")) == [
        ("created", moment(TODAY + 3 * DAY)),
        ("deleted", moment(TODAY + 31 * DAY)),
    ]
    # its validity cut to end before it opens: nothing will open
    made.valid_until = TODAY + DAY
    made.save()
    assert not GrantChange.objects.exists()


def test_a_deposit_leaving_the_scope_is_reported_deleted(world, api_client):
    w = world
    since = timezone.now()
    grant(sign(memorandum(w)), w.kigam, regions=[w.khatlon], reserves=False)
    api = client(api_client, w.kigam_key)
    assert ("deposit", w.golden.public_id, "created") in feed(api, since)
    w.golden.region = w.sughd
    w.golden.save()
    assert listed(api) == BASE
    assert feed(api, since)[-1] == ("deposit", w.golden.public_id, "deleted")


def test_sorting_and_selecting_by_share_and_reserves_read_what_the_clause_opens(world, api_client):
    """The share rule's deepest expressions (a share inside a ranking's subquery) with the
    clause's condition in them, on both engines; a deposit opened without its figures
    sorts as one without a figure."""
    w = world
    grant(sign(memorandum(w)), w.kigam, deposits=[w.named], reserves=False)
    api = client(api_client, w.kigam_key)
    by_share = api.get("/api/v1/deposits/", {"mineral": "silver", "ordering": "-share"}).json()
    assert [d["name"].split()[-1] for d in by_share["results"]] == ["PUBX", "PARTX", "NAMEDX"]
    by_quantity = api.get(
        "/api/v1/deposits/", {"mineral": "silver", "ordering": "-quantity"}
    ).json()
    assert [d["name"].split()[-1] for d in by_quantity["results"]] == ["PUBX", "PARTX", "NAMEDX"]
    assert listed(api, mineral="silver", min_share="1") == BASE
    ranking = api.get("/api/v1/stats/minerals/silver/").json()["deposits"]
    assert [Decimal(d["reserve_share_pct"] or 0) for d in ranking][:2] == [
        Decimal("83.33"),
        Decimal("16.67"),
    ]


def test_a_covered_deposit_made_internal_stays_open_to_the_clause(world, api_client):
    """The rule reads only the covered deposits beyond a partner's levels, by the level
    kept beside each (GrantedDeposit.visibility): a covered partner record made internal
    must stay open to the clause's partner, and close to others."""
    w = world
    grant(sign(memorandum(w)), w.kigam, deposits=[w.partners], reserves=False)
    w.partners.visibility = "internal"
    w.partners.save()
    assert listed(client(api_client, w.kigam_key)) == BASE
    assert listed(client(api_client, w.other_key)) == {"PUBX"}
    # and back: the level is kept on every save, not only when the scope changes
    w.partners.visibility = "partners"
    w.partners.save()
    assert set(GrantedDeposit.objects.values_list("visibility", flat=True)) == {"partners"}


def _clauses_of_every_kind(w, made):
    return [
        grant(made, w.kigam, deposits=[w.hidden]),
        grant(made, w.kigam, minerals=[w.gold]),
        grant(made, w.kigam, regions=[w.khatlon], minerals=[w.silver]),
        grant(made, w.kigam, area=AREA_BOX),
        grant(made, w.kigam, deposits=[w.public], area=POLYGON, minerals=[w.silver]),
    ]


POLYGON = {
    "type": "Polygon",
    "coordinates": [[[69.0, 39.8], [69.6, 39.8], [69.3, 40.3], [69.0, 39.8]]],
}


def test_a_deposit_save_asks_every_clause_at_once_and_agrees_with_each_clause(world):
    """What one deposit's save keeps (every clause in one row) is what each clause covers
    (`covered_deposits`, the rule the clause's own refresh runs), as the deposit moves in
    and out of names, minerals, regions, a box and a polygon; and the save costs the same
    queries with five clauses as with one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cooperation.grants import covered_deposits

    w = world
    made = sign(memorandum(w))
    first = grant(made, w.kigam, minerals=[w.silver])
    with CaptureQueriesContext(connection) as one:
        w.hidden.save()
    clauses = [first, *_clauses_of_every_kind(w, made)]
    with CaptureQueriesContext(connection) as six:
        w.hidden.save()
    assert len(six) == len(one)

    def agree(deposit):
        kept = set(
            GrantedDeposit.objects.filter(deposit=deposit).values_list("grant_id", flat=True)
        )
        assert kept == {c.pk for c in clauses if deposit.pk in covered_deposits(c)}
        return kept

    moves = [
        ("region", w.khatlon),  # Khatlon and silver
        ("latitude", Decimal("39.9")),  # into the box and the triangle's base
        ("longitude", Decimal("69.3")),
        ("latitude", Decimal("40.25")),  # in the box, outside the triangle
        ("region", w.sughd),
        ("longitude", Decimal("70.5")),  # out of every area
    ]
    seen = set()
    for field, value in moves:
        setattr(w.hidden, field, value)
        w.hidden.save()
        seen.add(frozenset(agree(w.hidden)))
    assert len(seen) >= 3  # the moves did change what covers it
    w.golden.commodities.all().delete()  # a deposit-mineral change refreshes too
    agree(w.golden)


# --- The feed judges each change by what was open at its moment ----------------------


def test_the_feed_judges_a_past_change_by_what_the_clause_opened_at_its_moment(world, api_client):
    """A change made before the clause opened is no change to the partner (the deposit
    arrives `created` at the opening); a change made while it was open stays an update
    after the clause closed, listed before the removal. The memorandum was signed a month
    ago, so a rule judging by today's clause would count the first change as open, and
    one judging by the day of the termination would lose the second."""
    w = world
    estimate = w.named.reserves.get()
    made = sign(memorandum(w))
    since = timezone.now()
    w.named.description = "Surveyed before the clause"
    w.named.save()
    estimate.source = "Report before the clause"
    estimate.save()
    grant(made, w.kigam, deposits=[w.named])
    w.named.description = "Re-surveyed under the clause"
    w.named.save()
    estimate.source = "Report under the clause"
    estimate.save()
    record_transition(made, "terminated", TODAY, "Ended by note verbale.")

    api = client(api_client, w.kigam_key)
    mine = [e for e in feed(api, since) if e[1] in (w.named.public_id, estimate.public_id)]
    assert mine == [
        ("deposit", w.named.public_id, "created"),
        ("reserve", estimate.public_id, "created"),
        ("deposit", w.named.public_id, "updated"),
        ("reserve", estimate.public_id, "updated"),
        ("deposit", w.named.public_id, "deleted"),
        ("reserve", estimate.public_id, "deleted"),
    ]
    assert api.get(f"/api/v1/deposits/{w.named.public_id}/").status_code == 404
    # reading from after the opening, the partner sees the update and the removal only
    opened_at = made.grants.get().changes.get(action="created").at
    after_opening = opened_at + datetime.timedelta(microseconds=1)
    assert [e for e in feed(api, after_opening) if e[0] == "deposit"] == [
        ("deposit", w.named.public_id, "updated"),
        ("deposit", w.named.public_id, "deleted"),
    ]
    # and another organisation learns nothing of any of it
    other = feed(client(api_client, w.other_key), since)
    assert not [e for e in other if e[1] in (w.named.public_id, estimate.public_id)]


def test_a_deposit_opened_by_two_clauses_is_created_once_and_deleted_with_the_last(
    world, api_client
):
    w = world
    since = timezone.now()
    first = grant(sign(memorandum(w)), w.kigam, deposits=[w.named], reserves=False)
    second_memorandum = sign(memorandum(w))
    grant(second_memorandum, w.kigam, regions=[w.sughd], reserves=False)
    api = client(api_client, w.kigam_key)

    def named():
        return [e for e in feed(api, since) if e[1] == w.named.public_id]

    assert named() == [("deposit", w.named.public_id, "created")]
    # the first clause goes: the second still opens it, nothing to drop
    first.delete()
    assert named() == [("deposit", w.named.public_id, "created")]
    assert api.get(f"/api/v1/deposits/{w.named.public_id}/").status_code == 200
    # an update while the second keeps it open is one
    w.named.description = "Still shared"
    w.named.save()
    assert named()[-1] == ("deposit", w.named.public_id, "updated")
    # the last clause closes: deleted, once
    record_transition(second_memorandum, "terminated", TODAY, "Ended.")
    assert named() == [
        ("deposit", w.named.public_id, "created"),
        ("deposit", w.named.public_id, "updated"),
        ("deposit", w.named.public_id, "deleted"),
    ]
    # the region clause opened the hidden Sughd deposit once too, and closed it once
    hidden = [e[2] for e in feed(api, since) if e[1] == w.hidden.public_id]
    assert hidden == ["created", "deleted"]


def test_a_granted_deposit_deleted_is_reported_deleted_to_the_partner(world, api_client):
    """The deletion of an internal deposit a clause opens is a removal the partner must
    hear of (its copy would keep it otherwise): the clause's log outlives the deposit, so
    the feed still reads that it was open to the partner when it went."""
    w = world
    estimate = w.named.reserves.get()
    since = timezone.now()
    grant(sign(memorandum(w)), w.kigam, deposits=[w.named])
    named_id = w.named.public_id
    w.named.delete()
    api = client(api_client, w.kigam_key)
    mine = [e for e in feed(api, since) if e[1] in (named_id, estimate.public_id)]
    # the opening is no longer listed (its deposit is gone), the deletion is
    assert sorted(mine) == [
        ("deposit", named_id, "deleted"),
        ("reserve", estimate.public_id, "deleted"),
    ]
    # another organisation never saw it, and hears nothing of its deletion
    other = feed(client(api_client, w.other_key), since)
    assert not [e for e in other if e[1] in (named_id, estimate.public_id)]


def test_figures_withdrawn_from_an_open_clause_drop_the_figures_not_the_deposit(world, api_client):
    w = world
    estimate = w.named.reserves.get()
    clause = grant(sign(memorandum(w)), w.kigam, deposits=[w.named])
    since = timezone.now()
    clause.shares_reserves = False
    clause.save()
    api = client(api_client, w.kigam_key)
    assert [e for e in feed(api, since) if e[1] in (w.named.public_id, estimate.public_id)] == [
        ("reserve", estimate.public_id, "deleted")
    ]
    assert api.get(f"/api/v1/deposits/{w.named.public_id}/").status_code == 200


# --- Suspended memoranda --------------------------------------------------------------


def transitions_url(made):
    return f"/api/v1/memoranda/{made.public_id}/transitions/"


def test_a_suspension_closes_the_clause_and_a_resumption_opens_it_again(world, api_client):
    w = world
    estimate = w.named.reserves.get()
    made = sign(memorandum(w))
    grant(made, w.kigam, deposits=[w.named])
    since = timezone.now()
    staff = _staff_api(api_client)
    response = staff.post(
        transitions_url(made),
        {"status": "suspended", "date": (TODAY - 5 * DAY).isoformat(), "note": "Pending review."},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "suspended"
    assert [t["status"] for t in response.json()["transitions"]] == ["signed", "suspended"]

    api = client(api_client, w.kigam_key)
    assert listed(api) == BASE
    assert api.get(f"/api/v1/deposits/{w.named.public_id}/").status_code == 404
    assert silver_c1(api) == Decimal("120")
    clause = _staff_api(api_client).get(grants_url(made)).json()[0]
    assert clause["in_force"] is False
    assert clause["periods"] == [
        {"opens_on": made.signed_on.isoformat(), "closes_on": (TODAY - 5 * DAY).isoformat()}
    ]

    staff = _staff_api(api_client)
    response = staff.post(transitions_url(made), {"status": "resumed", "date": TODAY.isoformat()})
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "signed"  # the stage the suspension interrupted
    api = client(api_client, w.kigam_key)
    assert listed(api) == BASE | {"NAMEDX"}
    assert silver_c1(api) == Decimal("123")
    mine = [e for e in feed(api, since) if e[1] in (w.named.public_id, estimate.public_id)]
    assert mine == [
        ("deposit", w.named.public_id, "deleted"),
        ("reserve", estimate.public_id, "deleted"),
        ("deposit", w.named.public_id, "created"),
        ("reserve", estimate.public_id, "created"),
    ]
    clause = _staff_api(api_client).get(grants_url(made)).json()[0]
    assert clause["in_force"] is True
    assert [p["opens_on"] for p in clause["periods"]] == [
        made.signed_on.isoformat(),
        TODAY.isoformat(),
    ]


def test_the_moments_of_a_suspension_ahead_are_logged_as_closing_and_opening(world):
    """As an opening and a closing: what the feed (and the webhooks that push it) read
    with no job to run on those days."""
    from cooperation.grants import moment
    from cooperation.models import GrantChange

    w = world
    made = sign(memorandum(w, valid_until=TODAY + 60 * DAY))
    clause = grant(made, w.kigam, deposits=[w.named])
    record_transition(made, "suspended", TODAY + 10 * DAY, "From the 10th.")
    record_transition(made, "resumed", TODAY + 20 * DAY, "Resumed on the 20th.")
    ahead = GrantChange.objects.filter(grant=clause, at__gt=timezone.now())
    assert list(ahead.values_list("action", "at")) == [
        ("deleted", moment(TODAY + 10 * DAY)),
        ("created", moment(TODAY + 20 * DAY)),
        ("deleted", moment(TODAY + 61 * DAY)),
    ]
    # in force today, until the suspension's day
    assert periods_of(clause) == [
        (made.signed_on, TODAY + 10 * DAY),
        (TODAY + 20 * DAY, TODAY + 61 * DAY),
    ]


def periods_of(clause):
    """The clause's kept stretches in force."""
    return list(clause.periods.values_list("opens_on", "closes_on"))


@pytest.mark.parametrize(
    "steps, error",
    [
        ([("suspended", 0)], "status"),  # never signed
        ([("signed", -30), ("resumed", 0)], "status"),  # not suspended
        ([("signed", -30), ("suspended", -40)], "date"),  # before the signing
        ([("signed", -30), ("suspended", -5), ("suspended", -2)], "status"),  # already
        ([("signed", -30), ("suspended", -5), ("resumed", -5)], "date"),  # not after it
        ([("signed", -30), ("suspended", -5), ("in-force", -1)], "status"),  # resume first
        ([("signed", -30), ("terminated", -3), ("suspended", -1)], "status"),  # ended
    ],
)
def test_bad_suspensions_and_resumptions_are_refused_with_nothing_saved(
    world, api_client, steps, error
):
    w = world
    made = memorandum(w)
    *before, (status, offset) = steps
    for earlier, days in before:
        record_transition(made, earlier, TODAY + days * DAY, "")
    made.refresh_from_db()
    count, was = made.transitions.count(), made.status
    response = _staff_api(api_client).post(
        transitions_url(made), {"status": status, "date": (TODAY + offset * DAY).isoformat()}
    )
    assert response.status_code == 400, response.content
    assert error in response.json()
    made.refresh_from_db()
    assert (made.transitions.count(), made.status) == (count, was)


def test_a_suspension_recorded_by_mistake_is_withdrawn_by_a_correction(world, api_client):
    w = world
    made = sign(memorandum(w))
    grant(made, w.kigam, deposits=[w.named])
    record_transition(made, "suspended", TODAY - 3 * DAY, "Entered on the wrong memorandum.")
    assert listed(client(api_client, w.kigam_key)) == BASE
    record_transition(
        made, "resumed", TODAY - 3 * DAY, "Never suspended: entered by mistake.", correction=True
    )
    made.refresh_from_db()
    assert made.status == "signed"
    assert listed(client(api_client, w.kigam_key)) == BASE | {"NAMEDX"}
    assert periods_of(made.grants.get()) == [(made.signed_on, None)]


def test_a_suspended_memorandum_may_be_terminated(world, api_client):
    w = world
    made = sign(memorandum(w))
    grant(made, w.kigam, deposits=[w.named])
    record_transition(made, "suspended", TODAY - 3 * DAY, "")
    record_transition(made, "terminated", TODAY - DAY, "")
    made.refresh_from_db()
    assert made.status == "terminated"
    assert periods_of(made.grants.get()) == [(made.signed_on, TODAY - 3 * DAY)]
    assert listed(client(api_client, w.kigam_key)) == BASE


# --- The admin: suspension, and the clauses' history on the memorandum's -------------


def test_staff_suspend_and_resume_in_the_admin(world, client, api_client):
    w = world
    made = sign(memorandum(w))
    grant(made, w.kigam, deposits=[w.named])
    client.force_login(UserFactory(username="root", is_superuser=True))
    url = f"/admin/cooperation/memorandum/{made.pk}/change/"
    data = admin_form(made)
    data["transitions-TOTAL_FORMS"] += 1
    data["transitions-1-status"] = "suspended"
    data["transitions-1-date"] = (TODAY - 2 * DAY).isoformat()
    data["transitions-1-date_precision"] = "day"
    data["transitions-1-note"] = "Pending the commission."
    # a resumption before the suspension's day is refused, nothing saved
    bad = {**data, "transitions-1-status": "resumed"}
    response = client.post(url, bad)
    assert response.status_code == 200
    assert "Only a suspended memorandum can be resumed" in response.content.decode()
    assert made.transitions.count() == 1
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    made.refresh_from_db()
    assert made.status == "suspended"
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {w.kigam_key}")
    assert listed(api_client) == BASE
    # the clause shows the stretch it was in force, to the day before the suspension
    from cooperation.models import format_date

    stretch = f"{format_date(made.signed_on)} to {format_date(TODAY - 3 * DAY)}"
    assert stretch in client.get(url).content.decode()


def test_the_memorandum_history_page_shows_its_clauses_changes(world, client):
    w = world
    made = sign(memorandum(w))
    root = UserFactory(username="root", is_superuser=True)
    client.force_login(root)
    url = f"/admin/cooperation/memorandum/{made.pk}/change/"
    # a clause added, changed and a second one added and deleted, all in the admin
    data = admin_form(made)
    data.update(
        {
            "grants-TOTAL_FORMS": 2,
            "grants-0-organisation": w.kigam.pk,
            "grants-0-deposits": [w.named.pk],
            "grants-0-area": "",
            "grants-0-note": "Article 4",
            "grants-1-organisation": w.kigam.pk,
            "grants-1-regions": [w.khatlon.pk],
            "grants-1-area": "",
            "grants-1-note": "Article 5",
        }
    )
    assert client.post(url, data).status_code == 302
    made.refresh_from_db()
    kept, dropped = made.grants.order_by("id")
    data = admin_form(made, **{"grants-0-shares_reserves": "on", "grants-1-DELETE": "on"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert list(made.grants.all()) == [kept]

    page = client.get(f"/admin/cooperation/memorandum/{made.pk}/history/")
    assert page.status_code == 200
    rows = page.context["clause_history"]  # newest first; a scope's links are a change
    assert [(r.id, r.history_type) for r in rows] == [
        (dropped.pk, "-"),
        (kept.pk, "~"),
        (dropped.pk, "~"),
        (dropped.pk, "+"),
        (kept.pk, "~"),
        (kept.pk, "+"),
    ]
    deltas = [
        [(c["field"], c["old"], c["new"]) for c in getattr(r, "history_delta_changes", [])]
        for r in rows
    ]
    assert deltas == [
        [],
        [("Shares reserve figures", "False", "True")],
        [("Regions", "[]", "[TJ-KT Khatlon]")],
        [],
        [("Named deposits", "[]", "[Named NAMEDX]")],
        [],
    ]
    assert {r.history_user for r in rows} == {root}
    text = page.content.decode()
    section = text.split('id="clause-history"', 1)[1]
    assert section.count(f"#{kept.pk} {w.kigam.name}") == len([r for r in rows if r.id == kept.pk])
    assert "Shares reserve figures:" in section and "Deleted" in section
    # staff who may view the memorandum but not its clauses see its history without them
    from django.contrib.auth.models import Permission

    looker = UserFactory(username="looker")
    looker.user_permissions.add(Permission.objects.get(codename="view_memorandum"))
    client.force_login(looker)
    page = client.get(f"/admin/cooperation/memorandum/{made.pk}/history/")
    assert page.status_code == 200 and page.context["clause_history"] == []
    assert 'id="clause-history"' not in page.content.decode()
