"""Webhooks: the change feed pushed to subscribers, signed, retried, never beyond their sight.

The delivery tests run the real worker (`manage.py db_worker`, another process) against
the test database, committed (`committed`), and a real HTTP receiver on loopback;
on SQLite the in-memory test database is first copied to a file both processes open.
"""

import datetime
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connections, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cooperation.models import DataGrant, GrantChange, GrantPeriod
from cooperation.services import record_transition
from deposits.models import BalanceClosure, Deposit
from kernel.models import ApiKey
from reports import webhooks
from reports.models import (
    PushedGrantChange,
    WebhookDelivery,
    WebhookSubscription,
    WrittenChange,
)
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MemorandumFactory,
    MemorandumPartyFactory,
    MineralFactory,
    OrganisationFactory,
    PartnerOrganisationFactory,
    PersonFactory,
    RegionFactory,
    ReserveEstimateFactory,
    UserFactory,
    issue_api_key,
)

ROOT = Path(__file__).resolve().parent.parent
WEBHOOKS = "/api/v1/webhooks/"


# --- the real parts ------------------------------------------------------------------


class Receiver:
    """A partner's endpoint: records every request; answers 500 to the first `failures`;
    the first `stalls` requests get no answer until `released` is set."""

    def __init__(self, failures: int = 0, stalls: int = 0):
        self.failures, self.stalls = failures, stalls
        self.requests: list[tuple[dict, bytes, int]] = []
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if len(receiver.requests) < receiver.stalls:
                    receiver.requests.append((dict(self.headers), body, 0))
                    receiver.released.wait(60)
                    return
                status = 500 if len(receiver.requests) < receiver.failures else 204
                receiver.requests.append((dict(self.headers), body, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _headers, body, _status in self.requests]

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(failures=0, stalls=0):
        made.append(Receiver(failures, stalls))
        return made[-1]

    yield make
    for r in made:
        r.close()


# Tests whose writes another process reads commit them; the database is restored for the
# tests that follow, with what the migrations made (serialized_rollback).
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def database_url(sequences_in_step, tmp_path):
    """The URL of the test database for another process. SQLite's test database lives in
    this process's memory: it is copied to a file, which both processes then use."""
    connection = connections["default"]
    if connection.vendor != "sqlite":
        config = connection.settings_dict
        host, port = config["HOST"] or "127.0.0.1", config["PORT"] or 5432
        password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
        yield f"postgres://{config['USER']}{password}@{host}:{port}/{config['NAME']}"
        return
    path = tmp_path / "registry.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as copy:
        connection.connection.backup(copy)
    in_memory, name = connection.connection, connection.settings_dict["NAME"]
    connection.connection = None
    connection.settings_dict["NAME"] = str(path)
    try:
        yield f"sqlite:///{path}"
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name
        connection.connection = in_memory


@pytest.fixture
def worker(database_url):
    """`start(**environment)` runs `manage.py db_worker` on the test database until the test
    ends (or it is killed)."""
    started = []

    def start(**extra):
        environment = {
            **{k: v for k, v in os.environ.items() if k not in ("DEBUG", "PYTEST_CURRENT_TEST")},
            "DATABASE_URL": database_url,
            "SECRET_KEY": "webhook-tests",
            "DB_CONN_MAX_AGE": "0",
            "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",  # the receiver is on loopback
            "WEBHOOK_RETRY_SECONDS": "0.2,0.2,0.2",
            "WEBHOOK_SWEEP_SECONDS": "0.5",
            **extra,
        }
        command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.1"]
        command += ["--no-startup-delay", "--queue-name", "*", "-v", "0"]
        started.append(subprocess.Popen(command, cwd=ROOT, env=environment, stderr=subprocess.PIPE))
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(10)


def settled(timeout=30) -> list[WebhookDelivery]:
    """The deliveries once the queue is empty and none is pending (or fail the test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # The sweep is always queued again while anyone subscribes: its own runs are left out.
        queued = (
            DBTaskResult.objects.exclude(status__in=["SUCCESSFUL", "FAILED"])
            .exclude(task_path=webhooks.sweep.module_path)
            .exists()
        )
        pending = WebhookDelivery.objects.filter(status="pending").exists()
        if not queued and not pending:
            failed = DBTaskResult.objects.filter(status="FAILED").values_list(
                "exception_class_path", "traceback"
            )
            assert not failed, list(failed)
            return list(WebhookDelivery.objects.order_by("id"))
        time.sleep(0.1)
    raise AssertionError("the worker did not finish the deliveries in time")


def subscribe(api_key_secret: str, url: str, **fields) -> WebhookSubscription:
    subscription = WebhookSubscription(
        api_key=ApiKey.objects.find(api_key_secret), url=url, **fields
    )
    subscription.full_clean()
    subscription.save()
    return subscription


def partner_key() -> str:
    return issue_api_key(organisation=PartnerOrganisationFactory())


# --- delivery, signature, retry ------------------------------------------------------


@committed
def test_a_change_is_delivered_signed_and_retried_after_the_receiver_fails_twice(worker, receiver):
    hook = receiver(failures=2)
    subscription = subscribe(partner_key(), hook.url, collections=["deposit"])
    deposit = DepositFactory(visibility="partners")
    worker()

    [delivery] = settled()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 3, 204)
    assert [status for *_rest, status in hook.requests] == [500, 500, 204]
    for headers, body, _status in hook.requests:
        assert webhooks.verify(subscription.secret, headers[webhooks.SIGNATURE_HEADER], body)
        assert not webhooks.verify("whsec_another", headers[webhooks.SIGNATURE_HEADER], body)
        assert headers[webhooks.DELIVERY_HEADER] == str(delivery.pk)
    body = hook.bodies()[-1]
    assert body["subscription"] == subscription.pk
    assert [(c["model"], c["id"], c["action"]) for c in body["changes"]] == [
        ("deposit", deposit.public_id, "created")
    ]


@committed
def test_nothing_is_delivered_that_the_key_may_not_see_when_it_is_sent(worker, receiver):
    partner_hook, staff_hook = receiver(), receiver()
    subscribe(partner_key(), partner_hook.url)
    subscribe(issue_api_key(user=UserFactory(username="hook-staff")), staff_hook.url)
    # Written while no worker runs: by the time the deliveries are sent, the first deposit
    # is internal; the second always was.
    hidden_later = DepositFactory(visibility="public")
    hidden_later.visibility = "internal"
    hidden_later.save()
    internal = DepositFactory(visibility="internal")
    worker()
    settled()

    partner_changes = [
        (c["id"], c["action"]) for body in partner_hook.bodies() for c in body["changes"]
    ]
    # Never its document or a create/update: only the deletion that tells a copy to drop
    # it (sent when the subscriber could see it before the change).
    assert partner_changes == [(hidden_later.public_id, "deleted")]
    assert internal.public_id not in json.dumps(partner_hook.bodies())
    withheld = WebhookDelivery.objects.filter(subscription__url=partner_hook.url, status="withheld")
    assert withheld.count() == 1
    staff_changes = {(c["id"], c["action"]) for b in staff_hook.bodies() for c in b["changes"]}
    assert {
        (hidden_later.public_id, "created"),
        (hidden_later.public_id, "updated"),
        (internal.public_id, "created"),
    } <= staff_changes


# --- what a write queues (no worker needed) --------------------------------------------


def queries_of(write) -> int:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connections["default"]) as captured:
        write()
    return len(captured)


def dispatches():
    return DBTaskResult.objects.filter(task_path=webhooks.dispatch.module_path)


def run_dispatches() -> None:
    """What the worker would do with the dispatches queued, here, in order."""
    done = set()
    while task := dispatches().exclude(pk__in=done).order_by("enqueued_at").first():
        done.add(task.pk)
        webhooks.dispatch.call(*task.args_kwargs["args"])


@committed
def test_a_write_queues_one_task_whatever_the_number_of_subscriptions(
    sequences_in_step, django_capture_on_commit_callbacks
):
    """What a write costs for webhooks: the question whether anyone subscribes, and with
    subscribers one row of the queue and one of the outbox per history row, for 1 or 100
    of them, all inside the write's transaction (nothing runs once it commits)."""
    key = partner_key()
    DepositFactory()  # the region and the first identifiers, made once
    alone = queries_of(DepositFactory)
    assert not DBTaskResult.objects.exists()

    subscribe(key, "https://h0.example/")
    one = queries_of(DepositFactory)
    for n in range(1, 100):
        subscribe(key if n < 20 else issue_api_key(user=UserFactory()), f"https://h{n}.example/")
    hundred = queries_of(DepositFactory)
    assert dispatches().count() == 2
    outboxed = WrittenChange.objects.count() // 2
    assert outboxed >= 1
    assert one == hundred == alone + 1 + outboxed
    with transaction.atomic(), django_capture_on_commit_callbacks() as callbacks:
        DepositFactory()
    ours = [c for c in callbacks if isinstance(c, webhooks._Written)]
    assert len(ours) == 1 and queries_of(ours[0]) == 0


@pytest.mark.django_db
def test_the_outbox_rows_of_a_dispatch_that_failed_go_with_its_task(settings):
    """A dispatch that raised keeps its batch's rows while its failed task is kept, then
    both are pruned; the rows of a batch still queued stay."""
    subscribe(issue_api_key(user=UserFactory()), "https://staff.example/")
    DepositFactory()
    [failed] = dispatches()
    failed_batch = failed.args_kwargs["args"][0]
    # As the worker records a task that raised, long enough ago to be pruned.
    long_ago = timezone.now() - datetime.timedelta(days=settings.WEBHOOK_DELIVERY_DAYS + 1)
    dispatches().filter(pk=failed.pk).update(status="FAILED", finished_at=long_ago)
    # Another batch, queued as a write queues one (one batch a transaction).
    queued_batch = uuid.uuid4()
    kept = WrittenChange.objects.filter(batch=failed_batch).first()
    webhooks.dispatch.enqueue(str(queued_batch), timezone.now().isoformat())
    WrittenChange.objects.create(
        batch=queued_batch, collection=kept.collection, history_id=kept.history_id
    )

    webhooks._prune()
    assert not WrittenChange.objects.filter(batch=failed_batch).exists()
    assert not dispatches().filter(pk=failed.pk).exists()
    assert WrittenChange.objects.filter(batch=queued_batch).count() == 1


class RolledBack(Exception):
    pass


@pytest.mark.django_db
def test_the_queue_row_commits_with_the_write_and_a_rolled_back_write_leaves_none():
    subscribe(issue_api_key(user=UserFactory()), "https://staff.example/")
    with pytest.raises(RolledBack), transaction.atomic():
        DepositFactory()
        # Inside the write's transaction: the worker will see both once it commits.
        assert dispatches().count() == 1 and WrittenChange.objects.exists()
        raise RolledBack
    assert not dispatches().exists() and not WrittenChange.objects.exists()
    kept = DepositFactory()  # after the rolled-back savepoint, a batch of its own
    [task] = dispatches()
    batch = task.args_kwargs["args"][0]
    assert WrittenChange.objects.filter(batch=batch).exists()
    assert WrittenChange.objects.exclude(batch=batch).count() == 0
    run_dispatches()
    [delivery] = WebhookDelivery.objects.all()
    assert [(c["id"], c["action"]) for c in delivery.changes] == [(kept.public_id, "created")]
    assert not WrittenChange.objects.exists()


@pytest.mark.django_db
def test_a_large_write_is_dispatched_in_parts_and_each_change_delivered_once(monkeypatch):
    monkeypatch.setattr(webhooks, "ROWS_PER_DISPATCH", 2)
    subscription = subscribe(issue_api_key(user=UserFactory()), "https://staff.example/")
    with transaction.atomic():
        deposits = [DepositFactory() for _ in range(3)]
    assert dispatches().count() == 1  # one per transaction; it queues the rest itself
    run_dispatches()
    assert dispatches().count() == 2
    sent = [c["id"] for d in subscription.deliveries.all() for c in d.changes]
    assert sorted(sent) == sorted(d.public_id for d in deposits)
    # Run again (as after a lost worker): its rows are gone with the deliveries made.
    for task in dispatches():
        assert webhooks.dispatch.call(*task.args_kwargs["args"]) == 0


@pytest.mark.django_db
def test_minerals_and_regions_narrow_what_a_subscription_is_sent():
    gold, silver = MineralFactory(code="gold"), MineralFactory(code="silver")
    sughd, khatlon = RegionFactory(code="TJ-SU"), RegionFactory(code="TJ-KT")
    key = partner_key()
    gold_only = subscribe(key, "https://a.example/")
    gold_only.minerals.set([gold])
    khatlon_only = subscribe(key, "https://b.example/", collections=["deposit"])
    khatlon_only.regions.set([khatlon])
    gold_in_sughd = DepositFactory(region=sughd)
    CommodityFactory(deposit=gold_in_sughd, mineral=gold)
    silver_in_khatlon = DepositFactory(region=khatlon)
    CommodityFactory(deposit=silver_in_khatlon, mineral=silver)
    gold_estimate = ReserveEstimateFactory(deposit=silver_in_khatlon, mineral=gold)
    run_dispatches()

    def sent(subscription):
        return {c["id"] for d in subscription.deliveries.all() for c in d.changes}

    assert sent(gold_only) == {gold_in_sughd.public_id, gold_estimate.public_id}
    assert sent(khatlon_only) == {silver_in_khatlon.public_id}


@pytest.mark.django_db
def test_a_closed_state_balance_year_is_pushed_and_no_mineral_narrows_it():
    silver = MineralFactory(code="silver")
    key = partner_key()
    closures = subscribe(key, "https://a.example/", collections=["closure"])
    gold_only = subscribe(key, "https://b.example/")
    gold_only.minerals.set([MineralFactory(code="gold")])
    deposits_only = subscribe(key, "https://c.example/", collections=["deposit"])
    closure = BalanceClosure.objects.create(
        mineral=silver, year=2023, closed_on=datetime.date(2024, 3, 1), source="GKZ RT"
    )
    run_dispatches()
    changes = [c for d in closures.deliveries.all() for c in d.changes]
    assert [(c["model"], c["id"], c["action"]) for c in changes] == [
        ("closure", str(closure.pk), "created")
    ]
    assert gold_only.deliveries.count() == 1  # a closure is of the whole country
    assert not deposits_only.deliveries.exists()


def test_a_signature_is_refused_for_another_body_or_when_old():
    body = b'{"changes":[]}'
    now = int(time.time())
    header = webhooks.sign("whsec_x", now, body)
    assert webhooks.verify("whsec_x", header, body)
    assert not webhooks.verify("whsec_x", header, body + b" ")
    assert not webhooks.verify("whsec_x", webhooks.sign("whsec_x", now - 3600, body), body)
    assert not webhooks.verify("whsec_x", "v1=abc", body)


# --- the API and the admin ----------------------------------------------------------


@pytest.mark.django_db
def test_a_partner_subscribes_over_the_api_and_sees_the_secret_once(key_client, api_client):
    kigam = PartnerOrganisationFactory()
    client = key_client(organisation=kigam)
    MineralFactory(code="gold")
    created = client.post(
        WEBHOOKS,
        {"url": "https://kigam.example/hook", "collections": ["reserve", "deposit"],
         "minerals": ["gold"]},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    subscription = created.json()
    assert subscription["secret"].startswith("whsec_")
    assert subscription["collections"] == ["deposit", "reserve"]  # the feed's order
    assert subscription["key"] == client.key[:12]

    # Listed to every key of KIGAM, never with the secret; not to another organisation.
    listed = key_client(organisation=kigam).get(WEBHOOKS).json()["results"]
    assert [s["id"] for s in listed] == [subscription["id"]]
    assert "secret" not in listed[0]
    other = key_client(organisation=PartnerOrganisationFactory(name="BGS", country="GB"))
    assert other.get(f"{WEBHOOKS}{subscription['id']}/").status_code == 404
    assert other.get(WEBHOOKS).json()["count"] == 0
    assert api_client.get(WEBHOOKS).status_code == 401

    off = client.patch(f"{WEBHOOKS}{subscription['id']}/", {"active": False}, format="json")
    assert off.status_code == 200 and off.json()["active"] is False
    deliveries = client.get(f"{WEBHOOKS}{subscription['id']}/deliveries/")
    assert deliveries.status_code == 200 and deliveries.json()["count"] == 0
    assert client.delete(f"{WEBHOOKS}{subscription['id']}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "ftp://kigam.example/hook"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://kigam.example/", "collections": ["grants"]}, "collections"),
        ({"url": "https://kigam.example/", "minerals": ["unobtainium"]}, "minerals"),
    ],
)
def test_bad_input_over_the_api_is_refused_with_nothing_saved(key_client, body, field):
    client = key_client(organisation=PartnerOrganisationFactory())
    response = client.post(WEBHOOKS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_a_signed_in_session_without_a_key_cannot_subscribe(client, editor):
    client.force_login(editor)
    response = client.post(
        WEBHOOKS, {"url": "https://x.example/"}, content_type="application/json",
        HTTP_X_FORWARDED_PROTO="https",
    )  # fmt: skip
    assert response.status_code == 403
    assert "API key" in response.json()["detail"]


@pytest.mark.django_db
def test_the_admin_refuses_a_url_that_is_not_http_and_shows_a_new_secret_once(admin_client):
    api_key = ApiKey.objects.find(partner_key())
    add = "/admin/reports/webhooksubscription/add/"
    form = {"api_key": api_key.pk, "url": "ftp://kigam.example/hook", "active": "on"}
    form["form_token"] = "first-form"
    refused = admin_client.post(add, form, HTTP_X_FORWARDED_PROTO="https")
    assert refused.status_code == 200
    assert "http:// or https://" in refused.content.decode()
    assert not WebhookSubscription.objects.exists()

    form.update(url="https://kigam.example/hook", collections=["deposit"])
    saved = admin_client.post(add, form, HTTP_X_FORWARDED_PROTO="https")
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret in saved.content.decode()
    # The page that showed the secret, reloaded, sends the form again: nothing is saved.
    again = admin_client.post(add, form, HTTP_X_FORWARDED_PROTO="https")
    assert "already saved a subscription" in again.content.decode()
    assert WebhookSubscription.objects.count() == 1
    change = admin_client.get(
        f"/admin/reports/webhooksubscription/{subscription.pk}/change/",
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert change.status_code == 200 and subscription.secret not in change.content.decode()
    deliveries = admin_client.get("/admin/reports/webhookdelivery/", HTTP_X_FORWARDED_PROTO="https")
    assert deliveries.status_code == 200


def test_deposit_model_is_what_the_feed_calls_deposit():
    from reports.changes import collection_of

    assert collection_of(Deposit) == "deposit"
    assert collection_of(Deposit.history.model) == "deposit"


@pytest.mark.django_db
def test_a_receiver_inside_the_registrys_network_is_not_tried(settings, receiver):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    hook = receiver()
    subscription = subscribe(issue_api_key(user=UserFactory()), hook.url)
    deposit = DepositFactory()
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        changes=[{"model": "deposit", "id": deposit.public_id, "action": "created", "at": "x"}],
    )
    assert webhooks.deliver.call(delivery.pk) == "pending"  # to be retried, as any failure
    delivery.refresh_from_db()
    assert "127.0.0.1 is not a public one" in delivery.error
    assert hook.requests == []


# --- the sweep: clause moments, and work whose worker was lost --------------------------
# A data-sharing clause's opening is pushed at its moment, with no write; a delivery whose
# worker is killed in the middle of its attempt is tried again until it completes, and a
# completed one is never sent twice.


def waited(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError("not in time")


@committed
def test_a_clause_opening_is_pushed_at_its_moment_to_that_partner_only(worker, receiver, settings):
    settings.WEBHOOK_SWEEP_SECONDS = 0.5  # as the worker's, for the sweep a subscription starts
    today = timezone.localdate()
    named = DepositFactory(visibility="internal")
    kigam, other = PartnerOrganisationFactory(), OrganisationFactory(name="Other", country="CN")
    kigam_hook, other_hook = receiver(), receiver()
    subscribe(issue_api_key(organisation=kigam), kigam_hook.url, collections=["deposit"])
    subscribe(issue_api_key(organisation=other), other_hook.url, collections=["deposit"])
    made = MemorandumFactory(signed_on=today + datetime.timedelta(days=1))
    for organisation in (OrganisationFactory(name="Ministry"), kigam):
        MemorandumPartyFactory(
            memorandum=made, organisation=organisation,
            signatory=PersonFactory(organisation=organisation),
        )  # fmt: skip
    record_transition(made, "signed", made.signed_on)
    clause = DataGrant(memorandum=made, organisation=kigam, shares_reserves=False)
    clause.save()
    clause.deposits.set([named])
    # Signed to take effect tomorrow: its opening is logged ahead, at tomorrow's first moment.
    [opening] = GrantChange.objects.filter(grant=clause, action="created")
    assert opening.at > timezone.now()

    # The clock brought forward: the clause opens today, its moment a few seconds away.
    soon = timezone.now() + datetime.timedelta(seconds=3)
    DataGrant.objects.filter(pk=clause.pk).update(opens_on=today)
    GrantPeriod.objects.filter(grant=clause).update(opens_on=today)
    GrantChange.objects.filter(pk=opening.pk).update(at=soon, day=today)
    worker()

    waited(lambda: kigam_hook.requests)
    assert timezone.now() >= soon
    [body] = kigam_hook.bodies()
    assert [(c["model"], c["id"], c["action"]) for c in body["changes"]] == [
        ("deposit", named.public_id, "created")
    ]
    # Pushed once: later sweeps, and another look from here, send nothing more.
    seen = timezone.now()
    sweeps = DBTaskResult.objects.filter(task_path=webhooks.sweep.module_path, status="SUCCESSFUL")
    waited(lambda: sweeps.filter(finished_at__gt=seen).exists())
    assert webhooks.push_moments() == 0
    assert len(kigam_hook.requests) == 1
    assert PushedGrantChange.objects.filter(change_id=opening.pk).exists()
    # Another organisation is told nothing of it.
    assert other_hook.requests == []
    assert not WebhookDelivery.objects.filter(subscription__url=other_hook.url).exists()


@committed
def test_a_delivery_whose_worker_is_killed_mid_attempt_is_tried_again_and_completes(
    worker, receiver
):
    hook = receiver(stalls=1)  # the first attempt is never answered
    subscription = subscribe(issue_api_key(user=UserFactory()), hook.url, collections=["deposit"])
    deposit = DepositFactory()
    quick = {"WEBHOOK_IN_FLIGHT_SECONDS": "2"}
    first = worker(**quick)
    waited(lambda: hook.requests)
    first.kill()  # SIGKILL in the middle of the attempt: nothing of the worker's runs after
    first.wait(10)
    [delivery] = WebhookDelivery.objects.all()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.in_flight_until is not None

    worker(**quick)
    waited(lambda: WebhookDelivery.objects.filter(status="delivered").exists())
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.response_status, delivery.in_flight_until) == (2, 204, None)
    assert [headers[webhooks.DELIVERY_HEADER] for headers, _b, _s in hook.requests] == [
        str(delivery.pk)
    ] * 2
    assert [c["id"] for c in hook.bodies()[-1]["changes"]] == [deposit.public_id]
    deliver = DBTaskResult.objects.filter(task_path=webhooks.deliver.module_path)
    lost = deliver.get(status="FAILED")
    assert lost.exception_class_path == "reports.webhooks.WorkerLost"
    assert subscription.deliveries.count() == 1

    # A worker lost after the delivery completed, before it marked its task done: the task
    # is run again, finds the delivery delivered and sends nothing.
    done = deliver.get(status="SUCCESSFUL", return_value="delivered")
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    DBTaskResult.objects.filter(pk=done.pk).update(
        status="RUNNING", started_at=long_ago, finished_at=None
    )
    waited(lambda: deliver.filter(status="SUCCESSFUL", return_value="gone").exists())
    assert DBTaskResult.objects.get(pk=done.pk).status == "FAILED"
    assert len(hook.requests) == 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
