"""Staff issue API keys in the admin, by the rules of `issue_api_token`; the key is shown once."""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from kernel.models import ApiKey
from tests.factories import DepositFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/registry/apikey/add/"
DEPOSITS = "/api/v1/deposits/"


@pytest.fixture
def key_clerk(client):
    """A staff user allowed to issue and manage keys, and nothing else."""
    clerk = UserFactory(username="keyclerk")
    clerk.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="registry",
            codename__in=["add_apikey", "change_apikey", "view_apikey"],
        )
    )
    client.force_login(clerk)
    return client


def a_form(client) -> dict:
    """The token of a freshly opened add form, as the browser sends it back."""
    page = client.get(ADD).content.decode()
    return {"form_token": re.search(r'name="form_token" value="([^"]+)"', page).group(1)}


def test_a_key_issued_in_the_admin_is_shown_once_and_works(key_clerk, api_client, partner_org):
    DepositFactory(name="Partners only", visibility="partners")
    form = {"organisation": partner_org.pk, "note": "KIGAM GIS sync", **a_form(key_clerk)}
    response = key_clerk.post(ADD, form)

    assert response.status_code == 200
    api_key = ApiKey.objects.get()
    key = response.context["key"]
    assert key.startswith(api_key.prefix) and key in response.content.decode()
    assert api_key.organisation == partner_org and api_key.note == "KIGAM GIS sync"
    assert key not in api_key.key_hash  # only the hash is stored

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get(DEPOSITS).json()["count"] == 1

    # A reload sends the same form again: refused, no second key, the key not shown.
    again = key_clerk.post(ADD, form)
    assert again.status_code == 200
    assert "This form has already issued a key" in again.content.decode()
    assert key not in again.content.decode()
    assert ApiKey.objects.count() == 1
    # A form opened again issues another key.
    key_clerk.post(ADD, {"organisation": partner_org.pk, **a_form(key_clerk)})
    assert ApiKey.objects.count() == 2

    # Not shown again: not on the key's page, not on the list, not left in a message.
    for url in (f"/admin/registry/apikey/{api_key.pk}/change/", "/admin/registry/apikey/"):
        page = key_clerk.get(url)
        assert page.status_code == 200
        assert key not in page.content.decode()


def test_a_key_for_a_staff_user_acts_as_that_user(key_clerk, api_client, editor):
    DepositFactory(visibility="internal")
    expires = timezone.now() + datetime.timedelta(days=30)
    response = key_clerk.post(
        ADD,
        {
            "user": editor.pk,
            "expires_at_0": expires.date().isoformat(),
            "expires_at_1": "12:00:00",
            **a_form(key_clerk),
        },
    )
    api_key = ApiKey.objects.get()
    assert api_key.user == editor and api_key.expires_at > timezone.now()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {response.context['key']}")
    assert api_client.get(DEPOSITS).json()["count"] == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "partner organisation or to a user"),
        ("both", "partner organisation or to a user"),
        ("outsider", "Select a valid choice"),  # only active staff users are offered
        ("expired", "must expire in the future"),
    ],
)
def test_the_admin_refuses_what_the_command_refuses(key_clerk, partner_org, editor, form, message):
    outsider = UserFactory(username="outsider", is_staff=False)
    data = (
        {
            "both": {"organisation": partner_org.pk, "user": editor.pk},
            "outsider": {"user": outsider.pk},
            "expired": {
                "organisation": partner_org.pk,
                "expires_at_0": "2020-01-01",
                "expires_at_1": "12:00:00",
            },
        }.get(form, form)
        if isinstance(form, str)
        else form
    )
    response = key_clerk.post(ADD, {**data, **a_form(key_clerk)})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_model_refuses_a_key_for_a_user_who_is_not_active_staff(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="not an active staff user"):
        ApiKey.issue(user=UserFactory(username="gone", is_active=False))
    assert not ApiKey.objects.exists()


def test_staff_without_the_permission_cannot_add_a_key(editor_client, partner_org):
    assert editor_client.get(ADD).status_code == 403
    assert editor_client.post(ADD, {"organisation": partner_org.pk}).status_code == 403
    assert not ApiKey.objects.exists()


def test_revoking_stays_as_it_was(key_clerk, partner_org, api_client):
    api_key, key = ApiKey.issue(organisation=partner_org)
    response = key_clerk.post(
        "/admin/registry/apikey/",
        {"action": "revoke", "_selected_action": [api_key.pk]},
        follow=True,
    )
    assert "1 key(s) revoked." in response.content.decode()
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get(DEPOSITS).status_code == 401
