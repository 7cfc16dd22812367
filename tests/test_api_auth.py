"""API keys: issuing, hashing, revocation, expiry, throttling."""

import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from kernel.keys import hash_key
from kernel.models import ApiKey
from tests.factories import DepositFactory, PartnerOrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

DEPOSITS = "/api/v1/deposits/"


def issue(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip()


def test_issue_api_token_for_a_partner_prints_a_read_only_key(api_client, partner_org):
    DepositFactory(name="Partners only", visibility="partners")
    key = issue("kigam")  # acronyms match in any case

    api_key = ApiKey.objects.get()
    assert api_key.organisation == partner_org and api_key.user is None
    assert api_key.key_hash == hash_key(key) and key not in api_key.key_hash
    assert key.startswith(api_key.prefix)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get(DEPOSITS).json()["count"] == 1
    assert api_client.post(DEPOSITS, {"name": "x"}, format="json").status_code == 403


def test_issue_api_token_for_a_staff_user_acts_as_that_user(api_client, editor):
    DepositFactory(visibility="internal")
    key = issue("--user", "editor", "--days", "30", "--note", "ministry ETL")

    api_key = ApiKey.objects.get()
    assert api_key.user == editor and api_key.note == "ministry ETL"
    assert api_key.expires_at > timezone.now() + datetime.timedelta(days=29)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get(DEPOSITS).json()["count"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOPE"], "No organisation"),
        (["--user", "ghost"], "No user"),
        ([], "either"),
        (["KIGAM", "--user", "editor"], "either"),
        (["--user", "outsider"], "not an active staff user"),
        (["KIGAM", "--days", "0"], "--days"),
    ],
)
def test_issue_api_token_refuses_bad_input_and_issues_nothing(partner_org, editor, args, message):
    UserFactory(username="outsider", is_staff=False)
    with pytest.raises(CommandError, match=message):
        issue(*args)
    assert not ApiKey.objects.exists()


def test_ambiguous_acronym_is_refused(partner_org):
    PartnerOrganisationFactory(name="Another KIGAM", country="KR")
    with pytest.raises(CommandError, match="ambiguous"):
        issue("KIGAM")


@pytest.mark.parametrize(
    "header",
    ["Token not-a-key", "Token", "Token two parts", "token tjr_unknown"],
)
def test_a_bad_key_is_a_401_not_a_silent_downgrade(api_client, header):
    DepositFactory()
    response = api_client.get(DEPOSITS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert "detail" in response.json()
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize(
    ("surface", "header", "params"),
    [
        ("/api/v1/deposits/", "Bearer {key}", {}),
        ("/api/v1/deposits/", "Basic {key}", {}),
        ("/api/v1/deposits/", "{key}", {}),
        ("/api/v1/deposits/", None, {"api_key": "{key}"}),
        ("/api/v1/changes/", None, {"api_key": "{key}", "since": "2026-01-01"}),
        ("/api/schema/", "Bearer {key}", {"format": "json"}),
        ("/ogc/collections/deposits/items", "Bearer {key}", {}),
        ("/ogc/collections/deposits/items", "ApiKey {key}", {"api_key": "{key}"}),
    ],
)
def test_a_good_key_in_a_place_not_read_is_a_401_naming_the_form_that_is(
    api_client, partner_org, surface, header, params
):
    """Never a silent anonymous caller: a partner who got the scheme wrong is told."""
    DepositFactory(visibility="partners")
    _api_key, key = ApiKey.issue(organisation=partner_org)
    extra = {"HTTP_AUTHORIZATION": header.format(key=key)} if header else {}
    params = {name: value.format(key=key) for name, value in params.items()}
    response = api_client.get(surface, params, **extra)
    assert response.status_code == 401
    error = json.loads(response.content)  # the schema answers in its own media type
    assert "Authorization: Token <key>" in (error.get("detail") or error["description"])
    assert key not in response.content.decode()
    assert response["WWW-Authenticate"].startswith("Token")


def test_revoked_and_expired_keys_are_refused(api_client, partner_org):
    revoked, revoked_key = ApiKey.issue(organisation=partner_org)
    revoked.revoke()
    expired, expired_key = ApiKey.issue(organisation=partner_org)
    expired.expires_at = timezone.now() - datetime.timedelta(minutes=1)  # as the admin sets it
    expired.save()
    for key in (revoked_key, expired_key):
        response = api_client.get(DEPOSITS, HTTP_AUTHORIZATION=f"Token {key}")
        assert response.status_code == 401
        assert "revoked or has expired" in response.json()["detail"]


def test_a_key_of_a_deactivated_user_is_refused(api_client, editor):
    _api_key, key = ApiKey.issue(user=editor)
    editor.is_active = False
    editor.save()
    assert api_client.get(DEPOSITS, HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_find_reads_a_key_as_the_orm_does(partner_org, editor):
    expires = timezone.now() + datetime.timedelta(days=30)
    partner, partner_key = ApiKey.issue(organisation=partner_org, note="GIS", expires_at=expires)
    staff, staff_key = ApiKey.issue(user=editor)
    partner.touch()
    for issued, key in ((partner, partner_key), (staff, staff_key)):
        found = ApiKey.objects.find(key)
        stored = ApiKey.objects.get(pk=issued.pk)
        for field in ApiKey._meta.concrete_fields:
            assert getattr(found, field.attname) == getattr(stored, field.attname), field.name
        assert found._state.adding is False and found._state.db == stored._state.db
    assert ApiKey.objects.find(staff_key).user == editor
    assert ApiKey.objects.find(partner_key).expires_at == expires
    assert ApiKey.objects.find(partner_key + "x") is None
    assert ApiKey.objects.find("") is None


def test_find_reads_a_staff_key_with_its_user_in_one_query(editor, django_assert_num_queries):
    _api_key, key = ApiKey.issue(user=editor)
    with django_assert_num_queries(1):
        assert ApiKey.objects.find(key).user.is_active


def test_use_is_recorded(partner_client):
    partner_client.get(DEPOSITS)
    assert ApiKey.objects.get().last_used_at is not None


def test_a_key_belongs_to_an_organisation_or_a_user(partner_org, editor):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        ApiKey.issue(organisation=partner_org, user=editor)
    with pytest.raises(ValidationError):
        ApiKey.issue()


def test_admin_revokes_keys(client, partner_org):
    admin = UserFactory(username="root", is_superuser=True)
    api_key, _key = ApiKey.issue(organisation=partner_org)
    client.force_login(admin)
    response = client.post(
        "/admin/registry/apikey/",
        {"action": "revoke", "_selected_action": [api_key.pk]},
        secure=True,
    )
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    page = client.get(f"/admin/registry/apikey/{api_key.pk}/change/", secure=True)
    assert page.status_code == 200
    assert api_key.key_hash not in page.content.decode()


def test_anonymous_clients_are_throttled_with_retry_after(
    api_client, two_requests_a_minute, throttle_clock
):
    assert api_client.get(DEPOSITS).status_code == 200
    assert api_client.get("/api/v1/regions/").status_code == 200
    throttle_clock.now += 20
    response = api_client.get(DEPOSITS)
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 40  # until the minute ends
    assert "detail" in response.json()


def test_the_allowance_returns_when_the_minute_ends(
    partner_client, two_requests_a_minute, throttle_clock
):
    for _ in range(2):
        assert partner_client.get(DEPOSITS).status_code == 200
    throttle_clock.now += 59
    assert partner_client.get(DEPOSITS).status_code == 429
    throttle_clock.now += 1
    for _ in range(2):
        assert partner_client.get(DEPOSITS).status_code == 200
    assert partner_client.get(DEPOSITS).status_code == 429


@pytest.mark.parametrize("either_cache", ["redis"], indirect=True)
def test_a_windows_counter_expires_with_the_window(
    api_client, two_requests_a_minute, throttle_clock
):
    """In Redis each caller's counter of a window is a key; it must not outlive it."""
    from django.core.cache import cache

    assert api_client.get(DEPOSITS).status_code == 200
    assert api_client.get(DEPOSITS).status_code == 200
    window = int(throttle_clock.now // 60)
    counter = f"throttle_anon_127.0.0.1:{window}"
    assert cache.get(counter) == 2
    assert 0 < cache.ttl(counter) <= 60


def test_keys_are_throttled_each_on_its_own(
    partner_client, staff_api_client, api_client, two_requests_a_minute
):
    for _ in range(2):
        assert partner_client.get(DEPOSITS).status_code == 200
    assert partner_client.get(DEPOSITS).status_code == 429
    # Another key and anonymous callers keep their own allowance.
    assert staff_api_client.get(DEPOSITS).status_code == 200
    assert api_client.get(DEPOSITS).status_code == 200


def test_session_of_signed_in_staff_reads_everything(client, editor):
    DepositFactory(visibility="internal")
    client.force_login(editor)
    response = client.get(DEPOSITS, secure=True, HTTP_ACCEPT="application/json")
    assert response.json()["count"] == 1
