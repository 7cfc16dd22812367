"""The admin warns before a clerk's save of reserve estimates moves other deposits' shares
by more than SHARE_MOVE_WARNING_POINTS, and saves once the clerk confirms.

The scenarios of issue 19: a clerk's 50 t C1 estimate for Altyn-Topkan, which once turned
Konimansur's reported "over 70%" into a computed 0.00%, and a test entry of 120.5 t that
made a test deposit 91.63% of national silver with no warning."""

from decimal import Decimal

import pytest
from django.urls import reverse

from deposits.models import DepositCommodity, ReserveEstimate
from deposits.shares import share_moves
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MineralFactory,
    ReserveEstimateFactory,
    UserFactory,
)
from tests.test_concurrency_admin import form_data as submitted_form

pytestmark = pytest.mark.django_db

CONFIRM = "share_moves_checked"


@pytest.fixture
def clerk(client):
    client.force_login(UserFactory(username="clerk", groups=["Registry editors"]))
    return client


@pytest.fixture
def silver_registry():
    """Konimansur with its published "over 70%"; Konchoch 150 t and Altyn-Topkan 50 t of
    balance C1 silver (75% and 25% computed); Jilau, a silver deposit with no figures."""
    silver = MineralFactory()
    deposits = {}
    for name in ("Konimansur", "Konchoch", "Altyn-Topkan", "Jilau"):
        deposits[name] = DepositFactory(name=name)
    CommodityFactory(
        deposit=deposits["Konimansur"],
        mineral=silver,
        reported_share_pct=Decimal(70),
        reported_share_bound="over",
        reported_share_source="Ministry of Industry, 2019",
    )
    for name in ("Konchoch", "Altyn-Topkan", "Jilau"):
        CommodityFactory(deposit=deposits[name], mineral=silver)
    ReserveEstimateFactory(deposit=deposits["Konchoch"], mineral=silver, quantity=Decimal(150))
    ReserveEstimateFactory(deposit=deposits["Altyn-Topkan"], mineral=silver, quantity=Decimal(50))
    return deposits


def share(deposit) -> tuple:
    from deposits.shares import with_shares
    from kernel.visibility import STAFF

    row = with_shares(DepositCommodity.objects.filter(deposit=deposit), STAFF).get()
    return row.share_pct, row.share_basis


def form_data(response) -> dict:
    """What the browser submits for the form unchanged (a yes/no/unknown choice says "true")."""
    data = submitted_form(response)
    return {
        name: "true" if name.endswith("balance") and value == "on" else value
        for name, value in data.items()
    }


def change_url(record):
    meta = record._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk])


def with_new_estimate(data: dict, quantity: str, **fields) -> dict:
    """The deposit form's data with one more C1 balance silver estimate in its inline."""
    index = int(data["reserves-TOTAL_FORMS"])
    data = {**data, "reserves-TOTAL_FORMS": str(index + 1)}
    estimate = {
        "mineral": str(MineralFactory().pk),
        "category": "C1",
        "balance": "true",
        "quantity": quantity,
        "unit": "t",
        "as_of": "2024-06-01",
        "as_of_precision": "day",
        "source": "GKZ protocol 1234",
        **fields,
    }
    data.update({f"reserves-{index}-{name}": value for name, value in estimate.items()})
    return data


def open_deposit_form(clerk, deposit) -> dict:
    return form_data(clerk.get(change_url(deposit)))


def test_a_test_entry_of_120_5_t_is_held_until_the_clerk_confirms(clerk, silver_registry):
    jilau = silver_registry["Jilau"]
    data = with_new_estimate(open_deposit_form(clerk, jilau), "120.5")
    response = clerk.post(change_url(jilau), data)

    assert response.status_code == 200  # the form again, nothing saved
    assert not ReserveEstimate.objects.filter(deposit=jilau).exists()
    moves = [(m.deposit, m.before, m.after) for m in response.context["share_moves"]]
    assert moves == [
        ("Konchoch", Decimal("75.00"), Decimal("46.80")),  # 150 / 320.5
        ("Altyn-Topkan", Decimal("25.00"), Decimal("15.60")),  # 50 / 320.5
    ]
    page = response.content.decode()
    assert "I have checked these figures" in page
    assert "75.00%" in page and "46.80%" in page
    assert "more than 5 percentage points" in page
    assert share(silver_registry["Konchoch"]) == (Decimal("75.00"), "computed")

    response = clerk.post(change_url(jilau), {**data, CONFIRM: "1"})
    assert response.status_code == 302
    assert ReserveEstimate.objects.get(deposit=jilau).quantity == Decimal("120.5")
    assert share(silver_registry["Konchoch"]) == (Decimal("46.80"), "computed")
    assert share(jilau) == (Decimal("37.60"), "computed")


def test_altyn_topkans_c1_estimate_leaves_konimansurs_reported_share_alone(clerk, silver_registry):
    """A re-estimate of Altyn-Topkan to 52 t moves Konchoch by under a point: saved at once,
    and Konimansur keeps its published "over 70%" (never a computed 0)."""
    altyn_topkan = silver_registry["Altyn-Topkan"]
    data = with_new_estimate(open_deposit_form(clerk, altyn_topkan), "52")
    response = clerk.post(change_url(altyn_topkan), data)
    assert response.status_code == 302
    assert share(silver_registry["Konimansur"]) == (Decimal("70.000"), "reported")
    assert share(altyn_topkan) == (Decimal("25.74"), "computed")  # 52 / 202, the 50 t replaced


def test_konimansur_is_never_listed_as_moved(silver_registry):
    """Only computed shares move with another deposit's estimates."""
    jilau = silver_registry["Jilau"]

    def write():
        ReserveEstimateFactory(deposit=jilau, mineral=MineralFactory(), quantity=Decimal(1000))

    moves = share_moves(write, [MineralFactory().pk], jilau.pk, 5)
    assert {m.deposit for m in moves} == {"Konchoch", "Altyn-Topkan"}
    assert not ReserveEstimate.objects.filter(deposit=jilau).exists()  # rehearsed, undone


def test_deleting_an_estimate_in_the_deposit_form_is_held_too(clerk, silver_registry):
    konchoch = silver_registry["Konchoch"]
    data = open_deposit_form(clerk, konchoch)
    data["reserves-0-DELETE"] = "on"
    response = clerk.post(change_url(konchoch), data)
    assert response.status_code == 200
    assert [(m.deposit, m.after) for m in response.context["share_moves"]] == [
        ("Altyn-Topkan", Decimal("100.00"))
    ]
    assert konchoch.reserves.exists()
    assert clerk.post(change_url(konchoch), {**data, CONFIRM: "1"}).status_code == 302
    assert not konchoch.reserves.exists()


def test_the_estimate_form_warns_as_the_deposit_form_does(clerk, silver_registry):
    add = reverse("admin:deposits_reserveestimate_add")
    data = {
        "deposit": silver_registry["Jilau"].pk,
        "mineral": MineralFactory().pk,
        "category": "C1",
        "balance": "true",
        "quantity": "120.5",
        "unit": "t",
        "as_of_precision": "day",
        "source": "test entry",
    }
    response = clerk.post(add, data)
    assert response.status_code == 200
    assert [m.deposit for m in response.context["share_moves"]] == ["Konchoch", "Altyn-Topkan"]
    assert "I have checked these figures" in response.content.decode()
    assert ReserveEstimate.objects.count() == 2
    assert clerk.post(add, {**data, CONFIRM: "1"}).status_code == 302
    assert ReserveEstimate.objects.count() == 3


def test_changing_an_estimate_in_its_own_form_is_rehearsed_as_an_update(clerk, silver_registry):
    estimate = silver_registry["Altyn-Topkan"].reserves.get()
    data = form_data(clerk.get(change_url(estimate)))
    response = clerk.post(change_url(estimate), {**data, "quantity": "450"})
    assert response.status_code == 200
    assert [(m.deposit, m.before, m.after) for m in response.context["share_moves"]] == [
        ("Konchoch", Decimal("75.00"), Decimal("25.00"))
    ]
    estimate.refresh_from_db()
    assert (estimate.quantity, estimate.version) == (Decimal(50), 1)


def test_the_threshold_is_a_setting(clerk, silver_registry, settings):
    settings.SHARE_MOVE_WARNING_POINTS = 30
    jilau = silver_registry["Jilau"]
    data = with_new_estimate(open_deposit_form(clerk, jilau), "120.5")
    assert clerk.post(change_url(jilau), data).status_code == 302  # 28.2 points: no warning


def test_a_new_deposit_with_estimates_is_rehearsed_and_nothing_is_left_behind(
    clerk, silver_registry
):
    add = reverse("admin:deposits_deposit_add")
    data = form_data(clerk.get(add))
    data.update({"name": "Test deposit", "visibility": "internal", "sources": "test entry"})
    data = with_new_estimate(data, "120.5")
    deposits = DepositCommodity.objects.count()
    response = clerk.post(add, data)
    assert response.status_code == 200, response.context["errors"]
    assert [m.deposit for m in response.context["share_moves"]] == ["Konchoch", "Altyn-Topkan"]
    assert not ReserveEstimate.objects.filter(deposit__name="Test deposit").exists()
    assert DepositCommodity.objects.count() == deposits
    response = clerk.post(add, {**data, CONFIRM: "1"})
    assert response.status_code == 302, response.context["errors"]
    assert ReserveEstimate.objects.get(deposit__name="Test deposit").quantity == Decimal("120.5")


# The spreadsheet import of estimates: its preview is the rehearsal.

IMPORT_HEADER = ["id", "deposit", "mineral", "category", "balance", "quantity", "unit", "as_of"]
IMPORT_HEADER += ["protocol", "source"]


def estimate_row(deposit, quantity: str, **values) -> dict:
    row = {
        "id": "",
        "deposit": deposit.public_id,
        "mineral": "silver",
        "category": "C1",
        "balance": "1",
        "quantity": quantity,
        "unit": "t",
        "as_of": "2024-06-01",
        "protocol": "1234",
        "source": "GKZ protocol 1234",
    }
    return {**row, **values}


def preview_import(clerk, *rows):
    from tests.test_spreadsheet_import import csv_file, preview

    upload = csv_file(list(rows), header=IMPORT_HEADER, name="estimates.csv")
    return preview(clerk, upload, model="reserveestimate")


def confirm_import(clerk, response, **extra):
    form = response.context["confirm_form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    return clerk.post(
        reverse("admin:deposits_reserveestimate_process_import"), {**data, **extra}, follow=True
    )


def test_an_imported_test_entry_of_120_5_t_is_listed_in_the_preview(clerk, silver_registry):
    response = preview_import(clerk, estimate_row(silver_registry["Jilau"], "120.5"))
    assert response.status_code == 200
    assert response.context["result"].totals["new"] == 1
    moves = [(m.deposit, m.before, m.after) for m in response.context["share_moves"]]
    assert moves == [
        ("Konchoch", Decimal("75.00"), Decimal("46.80")),  # the admin form's own figures
        ("Altyn-Topkan", Decimal("25.00"), Decimal("15.60")),
    ]
    page = response.content.decode()
    assert "This import moves other deposits' shares by more than 5 percentage points" in page
    assert "75.00%" in page and "46.80%" in page
    assert 'name="share_moves_checked"' in page and "I have checked these figures" in page
    # The preview (and its rehearsal) wrote nothing.
    assert not ReserveEstimate.objects.filter(deposit=silver_registry["Jilau"]).exists()
    assert share(silver_registry["Konchoch"]) == (Decimal("75.00"), "computed")

    # Confirmed without the tick: refused, nothing imported.
    refused = confirm_import(clerk, response)
    assert "I have checked these figures" in refused.content.decode()
    assert refused.context["confirm_form"].errors["share_moves_checked"]
    assert not ReserveEstimate.objects.filter(deposit=silver_registry["Jilau"]).exists()

    # With it: imported.
    confirm_import(clerk, response, share_moves_checked="on")
    assert ReserveEstimate.objects.get(deposit=silver_registry["Jilau"]).quantity == Decimal(
        "120.5"
    )
    assert share(silver_registry["Konchoch"]) == (Decimal("46.80"), "computed")


def test_an_import_that_moves_nothing_much_needs_no_tick(clerk, silver_registry):
    """Altyn-Topkan re-estimated at 52 t moves Konchoch by under a point; Konimansur's
    reported "over 70%" is never listed."""
    altyn_topkan = silver_registry["Altyn-Topkan"]
    response = preview_import(clerk, estimate_row(altyn_topkan, "52"))
    assert "confirm_form" in response.context
    assert not response.context.get("share_moves")
    assert "I have checked these figures" not in response.content.decode()
    confirm_import(clerk, response)
    assert share(altyn_topkan) == (Decimal("25.74"), "computed")
    assert share(silver_registry["Konimansur"]) == (Decimal("70.000"), "reported")


def test_deposits_the_file_writes_are_its_own_figures_not_listed(clerk, silver_registry):
    """A file re-estimating Konchoch and entering Jilau lists Altyn-Topkan only; a row that
    moves an estimate (named by its id) to another deposit writes both deposits."""
    konchoch, jilau = silver_registry["Konchoch"], silver_registry["Jilau"]
    response = preview_import(clerk, estimate_row(konchoch, "300"), estimate_row(jilau, "120.5"))
    assert [m.deposit for m in response.context["share_moves"]] == ["Altyn-Topkan"]

    altyn_topkans = silver_registry["Altyn-Topkan"].reserves.get()
    moved = estimate_row(jilau, "500", id=altyn_topkans.public_id, as_of="")
    response = preview_import(clerk, moved)
    assert response.context["result"].totals["update"] == 1
    assert [m.deposit for m in response.context["share_moves"]] == ["Konchoch"]


def test_a_refused_row_shows_its_refusal_not_a_warning(clerk, silver_registry):
    response = preview_import(
        clerk,
        estimate_row(silver_registry["Jilau"], "120.5"),
        estimate_row(silver_registry["Jilau"], "-3", category="C2"),
    )
    assert "confirm_form" not in response.context
    assert not response.context.get("share_moves")
    assert [row.number for row in response.context["result"].invalid_rows] == [2]
    assert ReserveEstimate.objects.count() == 2
