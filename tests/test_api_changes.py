"""The change feed: creates, updates and deletes since a moment, oldest first, per visibility."""

import datetime

import pytest
from django.utils import timezone

from cooperation.models import Memorandum
from deposits.models import Deposit
from tests.factories import DepositFactory, ReserveEstimateFactory

pytestmark = pytest.mark.django_db

CHANGES = "/api/v1/changes/"


@pytest.fixture
def since():
    return (timezone.now() - datetime.timedelta(minutes=1)).isoformat()


def feed(client, since, **params):
    response = client.get(CHANGES, {"since": since, **params})
    assert response.status_code == 200, response.content
    return [(c["model"], c["id"], c["action"]) for c in response.json()["results"]]


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

    assert feed(api_client, since) == [
        ("deposit", public.public_id, "created"),
        ("deposit", public.public_id, "deleted"),
    ]
    assert feed(partner_client, since) == [
        ("deposit", shared.public_id, "created"),
        ("deposit", public.public_id, "created"),
        ("deposit", public.public_id, "deleted"),
    ]
    assert [c[2] for c in feed(staff_api_client, since)] == [
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
    assert feed(api_client, since) == [("memorandum", public.public_id, "created")]
    assert len(feed(partner_client, since)) == 2


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
