"""The deposit admin's action "Confirm the derived region", for the data-quality
report's "region derived from coordinates; confirm it" findings in bulk."""

import pytest

from deposits.models import Deposit
from tests.factories import DepositFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/deposits/deposit/"
ACTION = "confirm_derived_region"


def confirm(client, deposits):
    return client.post(
        CHANGELIST,
        {"action": ACTION, "_selected_action": [d.pk for d in deposits]},
        follow=True,
    )


def test_confirms_derived_regions_with_history_and_skips_the_others(editor_client):
    derived = [DepositFactory(name=f"Derived {n}", region_derived=True) for n in range(2)]
    confirmed_already = DepositFactory(name="Confirmed")
    no_region = DepositFactory(name="Nowhere", region=None, region_derived=True)
    history_before = {d.pk: d.history.count() for d in [*derived, confirmed_already, no_region]}

    response = confirm(editor_client, [*derived, confirmed_already, no_region])

    assert "Regions confirmed: 2. Left alone (no derived region): 2." in response.content.decode()
    for deposit in derived:
        deposit.refresh_from_db()
        assert not deposit.region_derived
        assert deposit.history.count() == history_before[deposit.pk] + 1
        latest = deposit.history.first()
        assert latest.history_user.username == "editor"
        assert latest.history_change_reason == "Derived region confirmed"
        assert not latest.region_derived and latest.prev_record.region_derived
    for untouched in (confirmed_already, no_region):
        assert untouched.history.count() == history_before[untouched.pk]
    assert Deposit.objects.get(pk=no_region.pk).region_derived  # nothing to confirm


def test_the_action_is_offered_to_those_who_may_change_deposits(editor_client):
    DepositFactory(region_derived=True)
    assert f'value="{ACTION}"' in editor_client.get(CHANGELIST).content.decode()


def test_the_action_is_not_offered_to_those_who_may_only_view(viewer_client):
    DepositFactory(region_derived=True)
    page = viewer_client.get(CHANGELIST)
    assert page.status_code == 200
    assert f'value="{ACTION}"' not in page.content.decode()


def test_a_viewer_posting_the_action_changes_nothing(viewer_client):
    deposit = DepositFactory(region_derived=True)
    confirm(viewer_client, [deposit])
    deposit.refresh_from_db()
    assert deposit.region_derived


def test_the_changelist_filters_deposits_whose_region_awaits_confirmation(editor_client):
    DepositFactory(name="Awaiting", region_derived=True)
    DepositFactory(name="Settled")
    page = editor_client.get(CHANGELIST + "?region_derived__exact=1")
    names = [d.name for d in page.context["cl"].result_list]
    assert names == ["Awaiting"]
