"""The change feed: creates, updates and deletes since a moment, oldest first, per visibility."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from cooperation.models import Memorandum
from deposits.models import BalanceClosure, Deposit
from tests.factories import (
    DepositFactory,
    EventFactory,
    InitiativeFactory,
    MemorandumFactory,
    MineralFactory,
    OrganisationFactory,
    PersonFactory,
    ReserveEstimateFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

LEVELS = ("public", "partners", "internal")
# A page of the feed: the partner's key, the count and the page (one UNION each), however
# many records and kinds it holds.
QUERIES = 3

CHANGES = "/api/v1/changes/"


@pytest.fixture
def since():
    return (timezone.now() - datetime.timedelta(minutes=1)).isoformat()


def feed(client, since, *models, **params):
    """The feed as (model, id, action), only of `models` when named (a partner key's
    fixture creates its organisation, which the feed lists too)."""
    response = client.get(CHANGES, {"since": since, **params})
    assert response.status_code == 200, response.content
    changes = [(c["model"], c["id"], c["action"]) for c in response.json()["results"]]
    return [c for c in changes if not models or c[0] in models]


def test_creates_updates_and_deletes_oldest_first(api_client, since):
    deposit = DepositFactory()
    estimate = ReserveEstimateFactory(deposit=deposit)
    deposit.status = "producing"
    deposit.save()
    public_id, estimate_id = deposit.public_id, estimate.public_id
    estimate.delete()
    deposit.delete()

    assert feed(api_client, since) == [
        ("deposit", public_id, "created"),
        ("reserve", estimate_id, "created"),
        ("deposit", public_id, "updated"),
        ("reserve", estimate_id, "deleted"),
        ("deposit", public_id, "deleted"),
    ]
    first = api_client.get(CHANGES, {"since": since}).json()["results"][0]
    assert set(first) == {"model", "id", "action", "at"}


def test_only_changes_since_the_given_moment(api_client):
    old = DepositFactory()
    Deposit.history.filter(id=old.pk).update(
        history_date=timezone.now() - datetime.timedelta(days=3)
    )
    new = DepositFactory()
    yesterday = (timezone.now() - datetime.timedelta(days=1)).date().isoformat()
    assert feed(api_client, yesterday) == [("deposit", new.public_id, "created")]


def test_hidden_records_are_absent_and_leaving_the_view_reads_as_a_deletion(
    api_client, partner_client, staff_api_client, since
):
    internal = DepositFactory(visibility="internal")
    ReserveEstimateFactory(deposit=internal)
    shared = DepositFactory(visibility="partners")
    public = DepositFactory()
    public.visibility = "internal"  # withdrawn from the public
    public.save()

    assert feed(api_client, since, "deposit", "reserve") == [
        ("deposit", public.public_id, "created"),
        ("deposit", public.public_id, "deleted"),
    ]
    assert feed(partner_client, since, "deposit", "reserve") == [
        ("deposit", shared.public_id, "created"),
        ("deposit", public.public_id, "created"),
        ("deposit", public.public_id, "deleted"),
    ]
    assert [c[2] for c in feed(staff_api_client, since, "deposit", "reserve")] == [
        "created",
        "created",
        "created",
        "created",
        "updated",
    ]


def test_a_record_entering_the_view_reads_as_created(api_client, since):
    deposit = DepositFactory(visibility="internal")
    deposit.visibility = "public"
    deposit.save()
    assert feed(api_client, since) == [("deposit", deposit.public_id, "created")]


def test_deletion_of_a_hidden_deposit_is_absent(api_client, since):
    deposit = DepositFactory(visibility="internal")
    deposit.delete()
    assert feed(api_client, since) == []


def test_memoranda_appear_in_the_feed(api_client, partner_client, since):
    public = Memorandum.objects.create(title="MoU on geology", kind="memorandum")
    Memorandum.objects.create(title="Draft", kind="memorandum", visibility="partners")
    assert feed(api_client, since, "memorandum") == [("memorandum", public.public_id, "created")]
    assert len(feed(partner_client, since, "memorandum")) == 2


def test_the_feed_is_paged(api_client, since):
    for _ in range(7):
        DepositFactory()
    first = api_client.get(CHANGES, {"since": since, "page_size": 5}).json()
    assert first["count"] == 7 and len(first["results"]) == 5
    second = api_client.get(first["next"]).json()
    assert len(second["results"]) == 2
    ids = [c["id"] for c in first["results"] + second["results"]]
    assert len(set(ids)) == 7


@pytest.mark.parametrize("value", [None, "", "yesterday", "2026-13-45", "2026-11-26T25:00"])
def test_since_is_required_and_validated(api_client, value):
    params = {} if value is None else {"since": value}
    response = api_client.get(CHANGES, params)
    assert response.status_code == 400
    assert "since" in response.json()


def test_an_unencoded_plus_of_the_offset_is_understood(api_client):
    DepositFactory()
    since = (timezone.now() - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    response = api_client.get(f"{CHANGES}?since={since}+00:00")
    assert response.status_code == 200 and response.json()["count"] == 1


# --- Every resource of the API is in the feed ---------------------------------------


def test_every_resource_of_the_api_is_in_the_feed(api_client, since):
    organisation = OrganisationFactory()
    person = PersonFactory(organisation=organisation)
    topic = TopicFactory()
    event = EventFactory()
    memorandum = MemorandumFactory()
    initiative = InitiativeFactory(lead_organisation=organisation)
    topic.description = "Rare earths of the Pamirs"
    topic.save()
    event_id = event.public_id
    event.delete()

    assert feed(api_client, since) == [
        ("organisation", organisation.public_id, "created"),
        ("person", person.public_id, "created"),
        ("topic", topic.public_id, "created"),
        ("event", event_id, "created"),
        ("memorandum", memorandum.public_id, "created"),
        ("initiative", initiative.public_id, "created"),
        ("topic", topic.public_id, "updated"),
        ("event", event_id, "deleted"),
    ]
    # Each id is the one its resource answers to.
    for resource, record in [
        ("organizations", organisation),
        ("people", person),
        ("topics", topic),
        ("memoranda", memorandum),
        ("initiatives", initiative),
    ]:
        assert api_client.get(f"/api/v1/{resource}/{record.public_id}/").status_code == 200


def test_the_feed_offers_every_kind_in_its_schema(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    models = schema["components"]["schemas"]["ModelEnum"]["enum"]
    assert set(models) == {
        "deposit",
        "reserve",
        "movement",
        "closure",
        "organisation",
        "person",
        "topic",
        "event",
        "memorandum",
        "initiative",
    }


def test_state_balance_closures_are_in_everyones_feed_by_their_number(
    api_client, partner_client, staff_api_client, since
):
    """A partner's copy of `balance/closures/` (and so of `balance_complete_for`) is kept
    by the feed like any other resource."""
    closure = BalanceClosure.objects.create(
        mineral=MineralFactory(), year=2023, closed_on=datetime.date(2024, 3, 1),
        source="GKZ RT State Balance 2023",
    )  # fmt: skip
    number = str(closure.pk)
    closure.protocol = "45"
    closure.save()
    for client in (api_client, partner_client, staff_api_client):
        assert feed(client, since, "closure") == [
            ("closure", number, "created"),
            ("closure", number, "updated"),
        ]
    assert api_client.get(f"/api/v1/balance/closures/{number}/").json()["protocol"] == "45"
    closure.delete()
    assert feed(api_client, since, "closure")[-1] == ("closure", number, "deleted")


@pytest.mark.parametrize("factory", [EventFactory, InitiativeFactory, MemorandumFactory])
def test_cooperation_records_are_in_the_feed_of_those_who_may_see_them(
    factory, api_client, partner_client, staff_api_client, since
):
    public, shared, internal = (factory(visibility=level) for level in LEVELS)
    model = factory._meta.model._meta.model_name
    ids = {public.public_id: "public", shared.public_id: "partners", internal.public_id: "internal"}

    def levels(client):
        return [ids[c[1]] for c in feed(client, since, model)]

    assert levels(api_client) == ["public"]
    assert levels(partner_client) == ["public", "partners"]
    assert levels(staff_api_client) == ["public", "partners", "internal"]


def test_organisations_people_and_topics_are_in_everyones_feed(
    api_client, partner_client, staff_api_client, since
):
    organisation, person, topic = OrganisationFactory(), PersonFactory(), TopicFactory()
    for client in (api_client, partner_client, staff_api_client):
        listed = {c[1] for c in feed(client, since, "organisation", "person", "topic")}
        assert {organisation.public_id, person.public_id, topic.public_id} <= listed


@pytest.mark.parametrize("factory", [EventFactory, InitiativeFactory])
def test_a_cooperation_record_leaving_the_view_reads_as_a_deletion_and_returning_as_created(
    factory, api_client, partner_client, staff_api_client, since
):
    record = factory(visibility="partners")
    model = factory._meta.model._meta.model_name
    record.visibility = "internal"
    record.save()
    record.visibility = "partners"
    record.save()
    record.visibility = "public"
    record.save()

    def actions(client):
        return [c[2] for c in feed(client, since, model)]

    assert actions(partner_client) == ["created", "deleted", "created", "updated"]
    assert actions(api_client) == ["created"]
    assert actions(staff_api_client) == ["created", "updated", "updated", "updated"]


# --- A reserve estimate moved to a deposit the caller may not see -------------------


def test_a_reserve_estimate_moved_to_a_hidden_deposit_is_deleted_for_the_partner(
    partner_client, staff_api_client, since
):
    """The issue's case: a partner kept a stale figure of an estimate moved away."""
    seen = DepositFactory(visibility="partners")
    hidden = DepositFactory(visibility="internal")
    estimate = ReserveEstimateFactory(deposit=seen)
    estimate.deposit = hidden
    estimate.save()

    assert feed(partner_client, since, "reserve") == [
        ("reserve", estimate.public_id, "created"),
        ("reserve", estimate.public_id, "deleted"),
    ]
    # The feed agrees with the resource: the estimate is gone for the partner.
    assert partner_client.get(f"/api/v1/reserves/{estimate.public_id}/").status_code == 404
    assert feed(staff_api_client, since, "reserve") == [
        ("reserve", estimate.public_id, "created"),
        ("reserve", estimate.public_id, "updated"),
    ]

    later = timezone.now().isoformat()
    estimate.quantity = Decimal("120")  # changes out of sight stay out of the feed
    estimate.save()
    estimate.deposit = seen  # and moved back, it is created again
    estimate.save()
    assert feed(partner_client, later, "reserve") == [("reserve", estimate.public_id, "created")]
    assert partner_client.get(f"/api/v1/reserves/{estimate.public_id}/").status_code == 200


def test_a_reserve_estimate_moved_between_visible_deposits_is_updated(api_client, since):
    first, second = DepositFactory(), DepositFactory()
    estimate = ReserveEstimateFactory(deposit=first)
    estimate.deposit = second
    estimate.save()
    assert feed(api_client, since, "reserve") == [
        ("reserve", estimate.public_id, "created"),
        ("reserve", estimate.public_id, "updated"),
    ]


def test_a_reserve_estimate_moved_out_of_a_hidden_deposit_is_created(api_client, since):
    hidden, public = DepositFactory(visibility="internal"), DepositFactory()
    estimate = ReserveEstimateFactory(deposit=hidden)
    estimate.deposit = public
    estimate.save()
    assert feed(api_client, since, "reserve") == [("reserve", estimate.public_id, "created")]


# --- Paging and cost -----------------------------------------------------------------


def test_paging_walks_every_kind_once_in_order(staff_api_client, since):
    for level in LEVELS:
        deposit = DepositFactory(visibility=level)
        ReserveEstimateFactory(deposit=deposit)
        EventFactory(visibility=level)
        InitiativeFactory(visibility=level)
        MemorandumFactory(visibility=level)
        TopicFactory()
        PersonFactory()  # and its organisation
    whole = staff_api_client.get(CHANGES, {"since": since, "page_size": 1000}).json()
    walked, url = [], f"{CHANGES}?since={since.replace('+', '%2B')}&page_size=4"
    while url:
        page = staff_api_client.get(url).json()
        assert page["count"] == whole["count"]
        walked += page["results"]
        url = page["next"]
    assert walked == whole["results"]
    assert len({(c["model"], c["id"]) for c in walked}) == 3 * 8
    assert [c["at"] for c in walked] == sorted(c["at"] for c in walked)


@pytest.mark.parametrize("records", [1, 10])
def test_a_page_of_the_feed_costs_the_same_queries_whatever_it_holds(
    partner_client, since, records, django_assert_num_queries
):
    for _ in range(records):
        estimate = ReserveEstimateFactory()
        estimate.deposit = DepositFactory(visibility="internal")
        estimate.save()
        EventFactory()
        PersonFactory()
    partner_client.get(CHANGES, {"since": since})  # the key's first use is written down
    with django_assert_num_queries(QUERIES):
        response = partner_client.get(CHANGES, {"since": since})
    assert response.status_code == 200 and response.json()["count"] >= 6 * records
