"""API reads answered from the cache until the registry changes (kernel/api/caching.py)."""

import datetime
import time
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from kernel.api import caching
from kernel.api.caching import registry_generation
from kernel.models import ApiKey, ApiKeyQuerySet, RegistryGeneration
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MineralFactory,
    ReserveEstimateFactory,
)
from tests.versions import if_match

pytestmark = pytest.mark.django_db

DEPOSITS = "/api/v1/deposits/"
SEARCH = "/api/v1/search/"


@pytest.fixture(autouse=True)
def _cache_on(either_cache, settings):
    settings.API_CACHE_SECONDS = 300


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


def test_a_partners_repeated_read_touches_no_database(
    partner_client, deposit, django_assert_num_queries
):
    url = f"{DEPOSITS}{deposit.public_id}/"
    first = partner_client.get(url)
    with django_assert_num_queries(0):  # the key, too, is read from the cache
        again = partner_client.get(url)
    assert again.status_code == 200 and again.content == first.content


def test_a_key_revoked_is_refused_at_once(partner_client, deposit, commit):
    url = f"{DEPOSITS}{deposit.public_id}/"
    commit()  # the fixtures' writes
    assert partner_client.get(url).status_code == 200  # the key is now kept in the cache
    ApiKey.objects.get().revoke()
    commit()
    assert partner_client.get(url).status_code == 401


def test_a_key_deleted_is_refused_at_once(partner_client, deposit, commit):
    url = f"{DEPOSITS}{deposit.public_id}/"
    commit()  # the fixtures' writes
    assert partner_client.get(url).status_code == 200
    ApiKey.objects.all().delete()
    commit()
    assert partner_client.get(url).status_code == 401


def test_a_revocation_committed_while_the_key_is_read_is_not_outlived(
    partner_client, deposit, commit, monkeypatch
):
    """The key's row is read, valid; the revocation commits before that row is kept in
    the cache. The entry is kept under the generation read before the row, which the
    revocation has moved past, so the next request reads the key again and is refused."""
    url = f"{DEPOSITS}{deposit.public_id}/"
    find = ApiKeyQuerySet.find

    def revoked_meanwhile(queryset, presented):
        found = find(queryset, presented)
        monkeypatch.setattr(ApiKeyQuerySet, "find", find)
        ApiKey.objects.get().revoke()
        commit()
        return found

    commit()  # the fixtures' writes
    monkeypatch.setattr(ApiKeyQuerySet, "find", revoked_meanwhile)
    assert partner_client.get(url).status_code == 200  # valid when it was read
    assert partner_client.get(url).status_code == 401


def test_a_staff_keys_user_deactivated_is_refused_at_once(staff_api_client, deposit, editor):
    url = f"{DEPOSITS}{deposit.public_id}/"
    assert staff_api_client.get(url).status_code == 200
    editor.is_active = False
    editor.save()  # no registry record: the generation stays, the key's entry with it
    assert staff_api_client.get(url).status_code == 401


def test_a_keys_use_is_still_recorded_once_an_interval(
    partner_client, deposit, monkeypatch, django_assert_num_queries
):
    url = f"{DEPOSITS}{deposit.public_id}/"
    partner_client.get(url)
    first_use = ApiKey.objects.get().last_used_at
    later = first_use + datetime.timedelta(seconds=ApiKey.TOUCH_INTERVAL_SECONDS + 1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    with django_assert_num_queries(1):  # the new last use, written
        partner_client.get(url)
    assert ApiKey.objects.get().last_used_at == later
    with django_assert_num_queries(0):  # the kept entry knows of that use
        assert partner_client.get(url).status_code == 200


def test_a_cached_answer_still_honours_if_none_match(api_client, deposit):
    url = f"{DEPOSITS}{deposit.public_id}/"
    etag = api_client.get(url)["ETag"]
    api_client.get(url)  # now cached
    response = api_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert api_client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_a_write_through_the_api_is_read_at_once(api_client, staff_api_client, deposit, commit):
    url = f"{DEPOSITS}{deposit.public_id}/"
    commit()  # the fixtures' writes
    assert api_client.get(url).json()["status"] == "explored"
    version = if_match(staff_api_client, url)
    patched = staff_api_client.patch(url, {"status": "producing"}, format="json", headers=version)
    commit()
    assert patched.status_code == 200
    assert api_client.get(url).json()["status"] == "producing"


def test_another_deposits_estimate_moves_this_deposits_share(api_client, deposit, silver, commit):
    url = f"{DEPOSITS}{deposit.public_id}/"
    commit()  # the fixtures' writes

    def share():
        return api_client.get(url).json()["commodities"][0]["reserve_share_pct"]

    assert share() == "100.00"
    ReserveEstimateFactory(mineral=silver, quantity=Decimal(100))  # saved as the admin does
    commit()
    assert share() == "75.00"


STATISTICS = ["minerals/", "minerals/silver/", "regions/", "regions/TJ-SU/"]


def test_statistics_are_cached_per_url_top_included(
    api_client, deposit, silver, commit, django_assert_num_queries
):
    CommodityFactory(deposit=DepositFactory(name="Second"), mineral=silver)
    commit()
    urls = [f"/api/v1/stats/{path}" for path in STATISTICS]
    first = {url: api_client.get(url).content for url in urls}
    silver_url = "/api/v1/stats/minerals/silver/"
    one = api_client.get(silver_url, {"top": 1}).json()  # another URL, not the cached answer
    assert len(one["deposits"]) == 1 and one["deposit_count"] == 2
    with django_assert_num_queries(0):
        for url in urls:
            assert api_client.get(url).content == first[url]
        assert api_client.get(silver_url, {"top": 1}).json() == one
    ReserveEstimateFactory(mineral=silver, quantity=Decimal(100))
    commit()
    assert api_client.get(silver_url).json()["deposits"][0]["reserve_share_pct"] == "75.00"


def test_lists_are_cached_per_visibility(api_client, partner_client, deposit):
    DepositFactory(name="Partners only", visibility="partners")
    assert api_client.get(DEPOSITS).json()["count"] == 1
    assert partner_client.get(DEPOSITS).json()["count"] == 2
    assert api_client.get(DEPOSITS).json()["count"] == 1


def suggested(client, q="konimansur") -> list[str]:
    response = client.get(SEARCH, {"q": q})
    assert response.status_code == 200, response.content
    return sorted(s["label"] for s in response.json()["results"] if s["kind"] == "deposit")


def test_a_repeated_search_is_answered_from_the_cache_until_the_registry_changes(
    api_client, deposit, commit, django_assert_num_queries
):
    commit()  # the fixtures' writes
    first = api_client.get(SEARCH, {"q": "konimansur"})
    assert suggested(api_client) == ["Konimansuri Kalon"]
    with django_assert_num_queries(0):
        again = api_client.get(SEARCH, {"q": "konimansur"})
    assert again.content == first.content
    DepositFactory(name="Konimansuri Khurd")
    commit()
    assert suggested(api_client) == ["Konimansuri Kalon", "Konimansuri Khurd"]


def test_a_kept_search_is_served_only_to_callers_who_may_see_it(
    api_client, partner_client, deposit
):
    DepositFactory(name="Konimansuri Khurd", visibility="partners")
    assert suggested(partner_client) == ["Konimansuri Kalon", "Konimansuri Khurd"]
    assert suggested(api_client) == ["Konimansuri Kalon"]
    assert suggested(partner_client) == ["Konimansuri Kalon", "Konimansuri Khurd"]


def test_a_deleted_record_is_gone_from_the_next_read(api_client, deposit, commit):
    url = f"{DEPOSITS}{deposit.public_id}/"
    commit()  # the fixtures' writes
    assert api_client.get(url).status_code == 200
    deposit.delete()
    commit()
    assert api_client.get(url).status_code == 404


def generation_moves(callbacks) -> list:
    """The callbacks a commit runs that move the registry generation (others, such as the
    webhooks' hand-over, run beside them)."""
    return [c for c in callbacks if getattr(c, "func", None) is caching._moved_on]


def test_the_generation_moves_once_when_the_transaction_commits(
    deposit, commit, django_capture_on_commit_callbacks
):
    commit()  # the fixtures' records
    before = registry_generation()
    with django_capture_on_commit_callbacks() as callbacks:
        deposit.name = "Konimansur"
        deposit.save()
        DepositFactory.create_batch(3)  # many records, their history rows too
        assert registry_generation() == before  # readers still see the old record
    assert len(generation_moves(callbacks)) == 1  # one move for the whole transaction
    commit()
    assert registry_generation() == before + 1


def test_the_database_generation_moves_after_a_commit_only(deposit, commit):
    """The database holds the generation: a committed write moves it, once; a write
    rolled back leaves it."""
    commit()
    before = RegistryGeneration.current()
    with transaction.atomic():
        deposit.save()
        transaction.set_rollback(True)
    commit()
    assert RegistryGeneration.current() == before
    deposit.save()
    DepositFactory()
    commit()
    assert RegistryGeneration.current() == before + 1


def test_the_caches_copy_of_the_generation_is_trusted_for_seconds(
    api_client, deposit, commit, settings, monkeypatch, django_assert_num_queries
):
    url = f"{DEPOSITS}{deposit.public_id}/"
    commit()  # the fixtures' writes
    start = time.time()
    monkeypatch.setattr(caching, "clock", lambda: start)
    first = api_client.get(url)
    later = start + settings.API_CACHE_GENERATION_SECONDS
    monkeypatch.setattr(caching, "clock", lambda: later)
    with django_assert_num_queries(1):  # the database's generation, the same: still kept
        assert api_client.get(url).content == first.content
    with django_assert_num_queries(0):  # copied again, with the time it was read
        assert api_client.get(url).content == first.content


def test_a_write_whose_copy_is_not_forgotten_is_outlived_by_seconds_at_most(
    api_client, partner_client, deposit, commit, settings, monkeypatch
):
    """Redis misses the write's forgetting of the generation's copy (stalled, away): the
    write still succeeds, and once the copy is API_CACHE_GENERATION_SECONDS old a read
    takes the database's generation, so a record made internal and a revoked key stop
    being served (tests/test_health.py does it with a real Redis paused and stopped)."""
    from django.core.cache import caches
    from redis.exceptions import TimeoutError

    url = f"{DEPOSITS}{deposit.public_id}/"
    commit()  # the fixtures' writes
    start = time.time()
    monkeypatch.setattr(caching, "clock", lambda: start)
    assert api_client.get(url).status_code == 200
    assert partner_client.get(url).status_code == 200

    def stalled(*args, **kwargs):
        raise TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(caches["default"], "delete", stalled)
    deposit.visibility = "internal"
    deposit.save()
    ApiKey.objects.get().revoke()
    commit()  # does not raise: the write has committed
    assert api_client.get(url).status_code == 200  # the copy is trusted a few seconds more
    later = start + settings.API_CACHE_GENERATION_SECONDS
    monkeypatch.setattr(caching, "clock", lambda: later)
    assert api_client.get(url).status_code == 404
    assert partner_client.get(url).status_code == 401


def test_a_write_after_a_rolled_back_savepoint_still_moves_the_generation(
    deposit, commit, django_capture_on_commit_callbacks
):
    commit()
    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            deposit.save()
            transaction.set_rollback(True)  # the savepoint's callback goes with it
        deposit.save()
    assert len(generation_moves(callbacks)) == 1


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


def test_cached_reads_are_counted_by_the_throttle(api_client, deposit, two_requests_a_minute):
    url = f"{DEPOSITS}{deposit.public_id}/"
    assert api_client.get(url).status_code == 200
    assert api_client.get(url).status_code == 200  # from the cache
    assert api_client.get(url).status_code == 429


@pytest.mark.parametrize("either_cache", ["redis"], indirect=True)
@pytest.mark.parametrize(("caller", "expected"), [("api_client", 2), ("partner_client", 3)])
def test_round_trips_to_redis_of_a_cached_read(caller, expected, deposit, monkeypatch, request):
    """One for the throttle's counter, one for the registry's generation with the cached
    answer; a partner's key needs one of its own (with the generation again), before
    the throttle counts it."""
    from redis.connection import AbstractConnection

    client = request.getfixturevalue(caller)
    url = f"{DEPOSITS}{deposit.public_id}/"
    first = client.get(url)  # read from the database, then kept
    round_trips = []
    send = AbstractConnection.send_packed_command

    def counted(connection, command, *args, **kwargs):
        round_trips.append(command)
        return send(connection, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    again = client.get(url)
    assert again.content == first.content
    assert len(round_trips) == expected
