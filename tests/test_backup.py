"""dump_registry and restore_registry carry every record, relation, source and history row."""

from io import StringIO

import pytest
from django.apps import apps
from django.core import serializers
from django.core.management import CommandError, call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from deposits.models import Deposit, Mineral, Region
from kernel.models import ApiKey
from reports import backup, webhooks
from reports.models import WebhookDelivery, WebhookSubscription, WrittenChange
from tests.factories import PartnerOrganisationFactory, UserFactory, issue_api_key

# A restore goes into an emptied database (flush), outside any test transaction;
# serialized_rollback brings back what the migrations created for later tests.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def snapshot() -> dict[str, list]:
    """Every dumped record, serialised with natural keys so database ids of users don't matter."""
    models = [apps.get_model("auth", "group"), apps.get_model("auth", "user")]
    models += backup.registry_models()
    result = {}
    for model in models:
        rows = serializers.serialize(
            "python",
            model._default_manager.order_by("pk"),
            use_natural_foreign_keys=True,
            use_natural_primary_keys=True,
        )
        for row in rows:
            if model._meta.model_name == "user":
                row.pop("pk", None)
        result[model._meta.label] = rows
    return result


@pytest.fixture
def registry_with_history():
    call_command("load_demo", stdout=StringIO())
    clerk = UserFactory(username="clerk", groups=["Registry editors"])
    deposit = Deposit.objects.get(name="Jilau")
    deposit.description = "Edited by a clerk."
    deposit._history_user = clerk
    deposit.save()
    Deposit.objects.get(name="Ziddy").delete()
    key = issue_api_key(organisation=PartnerOrganisationFactory(name="Hook survey"))
    subscription = WebhookSubscription.objects.create(
        api_key=ApiKey.objects.find(key), url="https://sync.example/hook", collections=["deposit"]
    )
    # Of the deposit edited after the restore, so that edit is sent to it.
    subscription.minerals.set(Mineral.objects.filter(commodities__deposit=deposit)[:1])
    subscription.regions.set(Region.objects.exclude(pk=deposit.region_id)[:1])
    subscription.regions.add(deposit.region)
    WebhookDelivery.objects.create(subscription=subscription, changes=[])


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_round_trip_through_an_empty_database(registry_with_history, tmp_path, suffix):
    before = snapshot()
    path = tmp_path / f"registry{suffix}"
    call_command("dump_registry", str(path), stdout=StringIO())

    call_command("flush", interactive=False, verbosity=0)
    assert backup.is_empty()
    call_command("restore_registry", str(path), stdout=StringIO())

    after = snapshot()
    assert after.keys() == before.keys()
    for label in before:
        assert after[label] == before[label], label
    jilau = Deposit.objects.get(name="Jilau")
    assert jilau.history.latest().history_user.username == "clerk"
    assert Deposit.history.filter(name="Ziddy", history_type="-").exists()
    assert before["deposits.Deposit"] and before["cooperation.Memorandum"]


def test_webhook_subscriptions_come_back_with_their_secrets_and_no_deliveries(
    registry_with_history, tmp_path
):
    """A subscription is carried whole (its key, URL, choices and secret: the partner's
    receiver goes on verifying); its deliveries and queued tasks are not, and the
    restored registry pushes what is written after the restore."""
    before = WebhookSubscription.objects.get()
    path = tmp_path / "registry.json"
    call_command("dump_registry", str(path), stdout=StringIO())
    call_command("flush", interactive=False, verbosity=0)
    call_command("restore_registry", str(path), stdout=StringIO())

    after = WebhookSubscription.objects.get()
    fields = ("pk", "api_key_id", "url", "collections", "secret", "active", "created_at")
    assert [getattr(after, f) for f in fields] == [getattr(before, f) for f in fields]
    assert set(after.minerals.all()) == set(before.minerals.all()) and after.minerals.exists()
    assert set(after.regions.all()) == set(before.regions.all()) and after.regions.count() == 2
    assert not WebhookDelivery.objects.exists()
    assert not DBTaskResult.objects.exists() and not WrittenChange.objects.exists()

    deposit = Deposit.objects.get(name="Jilau")
    deposit.description = "After the restore."
    deposit.save()
    [task] = DBTaskResult.objects.filter(task_path=webhooks.dispatch.module_path)
    webhooks.dispatch.call(*task.args_kwargs["args"])
    [delivery] = after.deliveries.all()
    assert [(c["id"], c["action"]) for c in delivery.changes] == [(deposit.public_id, "updated")]


FILLED = ["deposits_deposit", "deposits_depositcommodity", "deposits_historicaldeposit"]


def analysed_tables() -> set[str]:
    """Tables the query planner holds statistics for."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = 'public'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if not cursor.fetchall():
                return set()
            cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
        return {row[0] for row in cursor.fetchall()}


def test_a_restore_leaves_the_planner_statistics_behind(registry_with_history, tmp_path):
    """A restored registry is planned as what it holds, not as empty tables (on
    PostgreSQL into a fresh database: tests/test_backup_postgres.py)."""
    path = tmp_path / "registry.json"
    call_command("dump_registry", str(path), stdout=StringIO())
    call_command("flush", interactive=False, verbosity=0)
    call_command("restore_registry", str(path), stdout=StringIO())
    assert set(FILLED) <= analysed_tables()


def test_identifiers_continue_after_a_restore(registry_with_history, tmp_path):
    path = tmp_path / "registry.json"
    call_command("dump_registry", str(path), stdout=StringIO())
    last = max(Deposit.history.values_list("public_id", flat=True))
    call_command("flush", interactive=False, verbosity=0)
    call_command("restore_registry", str(path), stdout=StringIO())
    assert Deposit.objects.create(name="New").public_id > last


def test_restore_refuses_a_database_that_holds_records(registry_with_history, tmp_path):
    path = tmp_path / "registry.json"
    call_command("dump_registry", str(path), stdout=StringIO())
    count = Deposit.objects.count()
    with pytest.raises(CommandError, match="already holds registry records"):
        call_command("restore_registry", str(path), stdout=StringIO())
    assert Deposit.objects.count() == count


def test_a_damaged_dump_writes_nothing(registry_with_history, tmp_path):
    path = tmp_path / "registry.json"
    call_command("dump_registry", str(path), stdout=StringIO())
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    call_command("flush", interactive=False, verbosity=0)
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("restore_registry", str(path), stdout=StringIO())
    assert backup.is_empty()


def test_bad_file_names_are_refused(tmp_path):
    with pytest.raises(CommandError, match=r"must end in \.json"):
        call_command("dump_registry", str(tmp_path / "registry.txt"))
    with pytest.raises(CommandError, match="no such file"):
        call_command("restore_registry", str(tmp_path / "absent.json"))
