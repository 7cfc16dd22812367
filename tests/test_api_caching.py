"""API reads answered from the cache until the registry changes (registry/api/caching.py)."""

from decimal import Decimal

import pytest

from registry.api.caching import registry_generation
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MineralFactory,
    ReserveEstimateFactory,
)

pytestmark = pytest.mark.django_db

# Each test runs inside a transaction that never commits; `committed` runs the writes'
# on-commit callbacks as a real commit would.

DEPOSITS = "/api/v1/deposits/"


@pytest.fixture(autouse=True)
def _cache_on(settings):
    settings.API_CACHE_SECONDS = 300


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def silver():
    return MineralFactory()


@pytest.fixture
def deposit(silver):
    deposit = DepositFactory(name="Konimansuri Kalon")
    CommodityFactory(deposit=deposit, mineral=silver)
    ReserveEstimateFactory(deposit=deposit, mineral=silver, quantity=Decimal(300))
    return deposit


def test_a_repeated_read_touches_no_database(api_client, deposit, django_assert_num_queries):
    url = f"{DEPOSITS}{deposit.public_id}/"
    first = api_client.get(url)
    with django_assert_num_queries(0):
        again = api_client.get(url)
    assert again.status_code == 200
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert again["Content-Type"] == first["Content-Type"]


def test_a_cached_answer_still_honours_if_none_match(api_client, deposit):
    url = f"{DEPOSITS}{deposit.public_id}/"
    etag = api_client.get(url)["ETag"]
    api_client.get(url)  # now cached
    response = api_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert api_client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_a_write_through_the_api_is_read_at_once(api_client, staff_api_client, deposit, committed):
    url = f"{DEPOSITS}{deposit.public_id}/"
    assert api_client.get(url).json()["status"] == "explored"
    with committed():
        patched = staff_api_client.patch(url, {"status": "producing"}, format="json")
    assert patched.status_code == 200
    assert api_client.get(url).json()["status"] == "producing"


def test_another_deposits_estimate_moves_this_deposits_share(
    api_client, deposit, silver, committed
):
    url = f"{DEPOSITS}{deposit.public_id}/"

    def share():
        return api_client.get(url).json()["commodities"][0]["reserve_share_pct"]

    assert share() == "100.00"
    with committed():
        ReserveEstimateFactory(mineral=silver, quantity=Decimal(100))  # saved as the admin does
    assert share() == "75.00"


def test_lists_are_cached_per_visibility(api_client, partner_client, deposit):
    DepositFactory(name="Partners only", visibility="partners")
    assert api_client.get(DEPOSITS).json()["count"] == 1
    assert partner_client.get(DEPOSITS).json()["count"] == 2
    assert api_client.get(DEPOSITS).json()["count"] == 1


def test_a_deleted_record_is_gone_from_the_next_read(api_client, deposit, committed):
    url = f"{DEPOSITS}{deposit.public_id}/"
    assert api_client.get(url).status_code == 200
    with committed():
        deposit.delete()
    assert api_client.get(url).status_code == 404


def test_the_generation_moves_only_when_the_write_commits(
    deposit, django_capture_on_commit_callbacks
):
    before = registry_generation()
    with django_capture_on_commit_callbacks() as callbacks:
        deposit.name = "Konimansur"
        deposit.save()
        assert registry_generation() == before  # readers still see the old record
    assert callbacks
    for callback in callbacks:
        callback()
    assert registry_generation() > before


def test_exports_are_never_cached(api_client, deposit):
    api_client.get(DEPOSITS, {"format": "csv"})
    type(deposit).objects.filter(pk=deposit.pk).update(name="Renamed without a signal")
    csv_text = b"".join(api_client.get(DEPOSITS, {"format": "csv"}).streaming_content)
    assert "Renamed without a signal" in csv_text.decode()


def test_off_when_the_setting_is_zero(api_client, deposit, settings):
    settings.API_CACHE_SECONDS = 0
    url = f"{DEPOSITS}{deposit.public_id}/"
    api_client.get(url)
    type(deposit).objects.filter(pk=deposit.pk).update(name="Changed in bulk")
    assert api_client.get(url).json()["name"] == "Changed in bulk"
