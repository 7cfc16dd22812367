"""The admin works for ministry staff: list, search, edit, history, revert."""

from decimal import Decimal

import pytest
from django.urls import reverse

from deposits.models import Deposit, DepositCommodity
from tests.factories import CommodityFactory, DepositFactory, MineralFactory, RegionFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:deposits_deposit_changelist")


def change_url(deposit):
    return reverse("admin:deposits_deposit_change", args=[deposit.pk])


def form_data(deposit, **overrides):
    """The POST body of the deposit change form, with empty inlines, carrying the version
    of the record the form shows (kernel/concurrency.py refuses a form without it)."""
    data = {
        "name": deposit.name,
        "aliases": "\n".join(deposit.aliases),
        "visibility": deposit.visibility,
        "region": deposit.region_id or "",
        "district": "",
        "latitude": deposit.latitude or "",
        "longitude": deposit.longitude or "",
        "status": deposit.status,
        "deposit_type": deposit.deposit_type,
        "belt": "",
        "exploration_level": "",
        "description": deposit.description,
        "sources": "\n".join(deposit.sources),
    }
    for prefix in ["commodities", "reserves", "movements"]:
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    if deposit.pk is not None:
        data["loaded_version"] = Deposit.objects.get(pk=deposit.pk).version
    data.update(overrides)
    return data


def test_changelist_search_finds_cyrillic_aliases(editor_client):
    konimansur = DepositFactory(name="Konimansuri Kalon", aliases=["Большой Конимансур"])
    DepositFactory(name="Jilau")
    response = editor_client.get(CHANGELIST, {"q": "конимансур"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [konimansur]


def test_changelist_filters_by_mineral_and_critical(editor_client):
    silver = MineralFactory(critical_lists=["KR-2023"])
    with_silver = CommodityFactory(mineral=silver).deposit
    DepositFactory()
    response = editor_client.get(CHANGELIST, {"mineral": "silver"})
    assert list(response.context["cl"].result_list) == [with_silver]
    response = editor_client.get(CHANGELIST, {"critical": "yes"})
    assert list(response.context["cl"].result_list) == [with_silver]


def test_changelist_query_count_stays_flat_as_rows_grow(
    editor_client, django_assert_max_num_queries
):
    silver = MineralFactory()
    for _ in range(3):
        CommodityFactory(mineral=silver)
    with django_assert_max_num_queries(12) as few:
        editor_client.get(CHANGELIST)
    for _ in range(30):
        CommodityFactory(mineral=silver)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = editor_client.get(CHANGELIST)
    assert response.status_code == 200
    sql = " ".join(q["sql"] for q in few.captured_queries)
    assert "LIMIT 10001" in sql  # the count is bounded, never a full COUNT of the table


def test_editor_changes_a_deposit_and_history_records_who(editor_client, editor):
    deposit = DepositFactory(region=RegionFactory())
    response = editor_client.post(
        change_url(deposit), form_data(deposit, name="Jilau", aliases="Dzhilau\nДжилау")
    )
    assert response.status_code == 302, response.context["errors"]
    deposit.refresh_from_db()
    assert deposit.aliases == ["Dzhilau", "Джилау"]
    latest = deposit.history.latest()
    assert (latest.name, latest.history_user) == ("Jilau", editor)


def test_bad_coordinates_show_on_the_form_and_save_nothing(editor_client):
    deposit = DepositFactory(name="Taror")
    response = editor_client.post(
        change_url(deposit), form_data(deposit, latitude="95", longitude="70")
    )
    assert response.status_code == 200
    assert "outside Tajikistan" in str(response.context["adminform"].form.errors["latitude"])
    deposit.refresh_from_db()
    assert deposit.latitude is None
    assert deposit.history.count() == 1


def test_a_name_with_a_right_to_left_override_is_a_form_error(editor_client):
    deposit = DepositFactory(name="Taror")
    response = editor_client.post(
        change_url(deposit), form_data(deposit, name="Taror\u202erorat", aliases="A\ufeffB")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in str(errors["name"])
    assert "U+FEFF" in str(errors["aliases"])
    deposit.refresh_from_db()
    assert deposit.name == "Taror"


def test_reported_shares_past_100_percent_are_a_form_error(editor_client):
    silver = MineralFactory()
    CommodityFactory(mineral=silver, reported_share_pct=Decimal("70"), reported_share_source="a")
    deposit = DepositFactory()
    data = form_data(
        deposit,
        **{
            "commodities-TOTAL_FORMS": "1",
            "commodities-0-mineral": silver.pk,
            "commodities-0-role": "main",
            "commodities-0-reported_share_pct": "40",
            "commodities-0-reported_share_source": "another report",
        },
    )
    response = editor_client.post(change_url(deposit), data, follow=True)
    assert "past 100%" in response.content.decode()
    assert not DepositCommodity.objects.filter(deposit=deposit).exists()


def test_revert_to_an_earlier_version(editor_client):
    deposit = DepositFactory(name="Old name")
    deposit.name = "New name"
    deposit.save()
    first = deposit.history.earliest()
    url = reverse("admin:deposits_deposit_simple_history", args=[deposit.pk, first.history_id])
    page = editor_client.get(url)
    assert page.status_code == 200
    response = editor_client.post(url, form_data(first.instance, name="Old name"))
    assert response.status_code == 302
    deposit.refresh_from_db()
    assert deposit.name == "Old name"
    assert deposit.history.count() == 3


def test_history_page_lists_changes(editor_client):
    deposit = DepositFactory()
    response = editor_client.get(reverse("admin:deposits_deposit_history", args=[deposit.pk]))
    assert response.status_code == 200


def test_viewer_can_read_but_not_change(viewer_client):
    deposit = DepositFactory(name="Jilau")
    assert viewer_client.get(CHANGELIST).status_code == 200
    page = viewer_client.get(change_url(deposit))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    response = viewer_client.post(change_url(deposit), form_data(deposit, name="Changed"))
    assert response.status_code == 403
    deposit.refresh_from_db()
    assert deposit.name == "Jilau"
    assert viewer_client.get(reverse("admin:deposits_deposit_add")).status_code == 403


def test_autocomplete_for_minerals(editor_client):
    MineralFactory()
    response = editor_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "sil",
            "app_label": "deposits",
            "model_name": "depositcommodity",
            "field_name": "mineral",
        },
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["text"] == "Silver (Ag)"


def test_new_deposit_gets_an_identifier_from_the_admin(editor_client):
    region = RegionFactory()
    response = editor_client.post(
        reverse("admin:deposits_deposit_add"),
        form_data(Deposit(name="Chore", region=region, status="explored")),
    )
    assert response.status_code == 302
    assert Deposit.objects.get(name="Chore").public_id.startswith("TJD-")
