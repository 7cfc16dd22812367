"""The deposit admin's bulk actions: change the status or the visibility of a selection
after a page that lists what changes, each deposit saved with its history; and the
"Export selected" action of the spreadsheet admins."""

import io
import re
from decimal import Decimal

import openpyxl
import pytest

from deposits.models import Deposit
from deposits.shares import national_totals
from kernel.models import Visibility
from kernel.visibility import ANONYMOUS
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MineralFactory,
    ReserveEstimateFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/deposits/deposit/"


def step(client, action, deposits, **extra):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [d.pk for d in deposits], **extra}
    )


def test_status_is_chosen_then_confirmed_then_saved_with_history(editor_client):
    explored = DepositFactory(name="Konchoch", status="explored")
    producing = DepositFactory(name="Altyn-Topkan", status="producing")
    history_before = explored.history.count()

    chosen = step(editor_client, "change_status", [explored, producing])
    page = chosen.content.decode()
    assert chosen.status_code == 200
    assert "Choose the new status of the 2 selected deposits." in page
    assert "Konchoch" in page and "Altyn-Topkan" in page
    assert Deposit.objects.get(pk=explored.pk).status == "explored"  # nothing yet

    confirm = step(editor_client, "change_status", [explored, producing], bulk_value="producing")
    page = confirm.content.decode()
    assert "The status of this deposit will be set to “producing”:" in page
    assert "Konchoch" in page and "Altyn-Topkan" not in page.split("<table>")[1]
    assert "One selected deposit has it already and is left alone." in page
    assert Deposit.objects.get(pk=explored.pk).status == "explored"  # still nothing

    done = step(
        editor_client,
        "change_status",
        [explored, producing],
        bulk_value="producing",
        bulk_apply="1",
    )
    assert done.status_code == 302
    explored.refresh_from_db()
    assert explored.status == "producing"
    assert explored.history.count() == history_before + 1
    latest = explored.history.first()
    assert latest.history_user.username == "editor"
    assert latest.history_change_reason == "Status set for a selection"
    assert producing.history.count() == 1  # created only: left alone
    messages = editor_client.get(CHANGELIST).content.decode()
    assert "Changed: 1. Already so: 1." in messages


def test_hiding_deposits_moves_their_reserves_out_of_the_public_totals(editor_client):
    silver = MineralFactory(code="silver")
    shown = DepositFactory(name="Konchoch")
    CommodityFactory(deposit=shown, mineral=silver)
    ReserveEstimateFactory(deposit=shown, mineral=silver, quantity=Decimal("150"))
    assert national_totals(ANONYMOUS) == {silver.pk: Decimal("150000")}

    step(
        editor_client,
        "change_visibility",
        [shown],
        bulk_value=Visibility.INTERNAL,
        bulk_apply="1",
    )

    assert Deposit.objects.get(pk=shown.pk).visibility == Visibility.INTERNAL
    assert national_totals(ANONYMOUS) == {}


def test_an_unknown_value_is_refused_on_the_page_and_changes_nothing(editor_client):
    deposit = DepositFactory(status="explored")
    response = step(
        editor_client, "change_status", [deposit], bulk_value="mined-out", bulk_apply="1"
    )
    assert response.status_code == 200
    assert "Select a valid choice. mined-out is not one of the available choices." in (
        response.content.decode()
    )
    assert Deposit.objects.get(pk=deposit.pk).status == "explored"


def test_all_matching_a_filter_is_carried_through_the_steps(editor_client):
    deposits = [DepositFactory(status="prospect") for _ in range(3)]
    DepositFactory(status="closed")
    url = f"{CHANGELIST}?status__exact=prospect"
    data = {"action": "change_status", "select_across": "1", "_selected_action": deposits[0].pk}
    page = editor_client.post(url, {**data, "bulk_value": "explored"}).content.decode()
    assert "these 3 deposits" in page
    assert 'name="select_across" value="1"' in page
    editor_client.post(url, {**data, "bulk_value": "explored", "bulk_apply": "1"})
    assert sorted(Deposit.objects.values_list("status", flat=True)) == ["closed"] + ["explored"] * 3


def test_viewers_are_not_offered_the_actions_and_cannot_post_them(viewer_client):
    deposit = DepositFactory(status="explored")
    page = viewer_client.get(CHANGELIST).content.decode()
    assert 'value="change_status"' not in page and 'value="change_visibility"' not in page
    step(viewer_client, "change_status", [deposit], bulk_value="closed", bulk_apply="1")
    assert Deposit.objects.get(pk=deposit.pk).status == "explored"


def test_export_selected_exports_only_the_selection(editor_client):
    chosen = DepositFactory(name="Konimansuri Kalon")
    DepositFactory(name="Other")
    form = step(editor_client, "export_admin_action", [chosen])
    assert form.status_code == 200
    page = form.content.decode()
    assert 'name="export_items"' in page
    export = editor_client.post(
        "/admin/deposits/deposit/export/",
        {"format": "1", "resource": "", "export_items": [chosen.pk], **export_fields(page)},
    )
    assert export.status_code == 200, export.content[:500]
    sheet = openpyxl.load_workbook(filename=_bytes(export)).active
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["Konimansuri Kalon"]


def export_fields(page: str) -> dict:
    """The export form's field checkboxes, all ticked, as the page offers them."""
    return dict.fromkeys(re.findall(r'type="checkbox" name="([^"]+)"', page), "on")


def _bytes(response) -> io.BytesIO:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return io.BytesIO(body)
