"""Webhooks: the change feed pushed to those who subscribed, signed and retried.

The path of a change (docs/api.md "Webhooks", docs/deployment.md "Workers"):

1. A write saves history rows; `history_written` adds, in the write's own transaction,
   the task `dispatch` of the transaction's batch to the queue (a table of the same
   database) when anyone subscribes, and each history row to the outbox
   (`WrittenChange`) under that batch: the worker sees them once the write commits, a
   rolled-back write leaves none, and the write pays no commit of its own for them.
   Nothing is written when no one subscribes, whatever the number of subscriptions.
2. A worker (django-tasks' `db_worker`) runs the task `dispatch`: the change feed of
   exactly the batch's history rows (reports/changes.py, the feed partners poll), read
   once per kind of caller the subscriptions' keys read as, narrowed to each
   subscription's collections, minerals and regions, becomes one `WebhookDelivery` per
   subscription, each queued to the task `deliver`; the batch's rows go with it.
3. `deliver` judges the changes again against what the key may read now (`Caller.of_key`,
   kernel/visibility.py): a record created or updated that the key may no longer see is
   left out, and a delivery left with nothing is withheld. What remains is posted,
   signed with the subscription's secret; a failure is retried after the waits of
   `WEBHOOK_RETRY_SECONDS`, then the delivery has failed. Each attempt is recorded on the
   delivery, which the admin lists.
4. The task `sweep`, which a worker runs every `WEBHOOK_SWEEP_SECONDS` while anyone
   subscribes, pushes what happens with no write: a data-sharing clause opening or
   closing at its logged moment (`push_moments`; a sweep is due at the next one); and it
   queues again a dispatch or delivery whose worker was lost in the middle of it
   (`resume_lost`).
"""

import functools
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.signals import post_save
from django.utils import timezone
from django_tasks import task

from kernel.visibility import Caller
from reports.changes import (
    ChangeSerializer,
    change_feed,
    collection_of,
    feed_lookup,
    grant_changes,
    id_field,
    visible_now,
)
from reports.models import (
    PushedGrantChange,
    WebhookDelivery,
    WebhookSubscription,
    WrittenChange,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Registry-Signature"
DELIVERY_HEADER = "X-Registry-Delivery"
# A receiver should refuse a signature older than this (replayed).
SIGNATURE_TOLERANCE_SECONDS = 300
# Changes per delivery: a large import arrives as several deliveries.
CHANGES_PER_DELIVERY = 500
# History rows per dispatch task: a large import is dispatched in parts, each read with
# one `IN` list SQLite takes (it allows 32,766 parameters a statement).
ROWS_PER_DISPATCH = 5000
# The collections a mineral or region narrows (the others have no mineral or region).
SCOPED = ("deposit", "reserve", "movement")
USER_AGENT = "tj-mineral-registry-webhooks/1"


# --- Signing ------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
    "<t>.<body>" under the secret>` (the timestamp is signed, so it cannot be moved)."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: float | None = None) -> bool:
    """What a receiver does (docs/api.md shows the same in a few lines): the signature is
    the body's under the secret, and it is recent."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


# --- 1. A write notes its changes, in its own transaction ----------------------------


class _Written:
    """The outbox batch of one transaction, or None when no one subscribed as it began.
    Kept among the transaction's on-commit callbacks to be found again by its next
    history row, and forgotten with a savepoint rolled back, as the rows written under it
    are; it does nothing on commit: its task was written inside the transaction."""

    def __init__(self, batch: uuid.UUID | None):
        self.batch = batch
        # Set when the transaction saves a subscription after finding none: ask again.
        self.stale = False

    def __call__(self) -> None:
        pass


def history_written(sender, history_instance, using=None, **kwargs) -> None:
    """Receiver of simple_history's `post_create_historical_record`: the transaction's first
    history row asks whether anyone subscribes and, if anyone does, adds the `dispatch`
    task of the transaction's batch to the queue; each row is added to the outbox under
    that batch. All of it in the write's own transaction (a transactional outbox): the
    worker sees the task once the write commits, a rolled-back write leaves nothing, and
    no second commit is paid. Outside a transaction, the row and its task commit together."""
    label = collection_of(sender)
    if label is None:
        return
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        with transaction.atomic(using=using):
            history_written(sender, history_instance, using=using)
        return
    written = next(
        (c[1] for c in reversed(connection.run_on_commit) if isinstance(c[1], _Written)),
        None,
    )
    if written is None or written.stale:
        written = _Written(_open_batch(history_instance.history_date, using))
        transaction.on_commit(written, using=using)
    if written.batch is not None:
        WrittenChange.objects.using(using).create(
            batch=written.batch, collection=label, history_id=history_instance.history_id
        )


def _open_batch(since: datetime, using) -> uuid.UUID | None:
    if not WebhookSubscription.objects.using(using).sending().exists():
        return None
    batch = uuid.uuid4()
    # The batch's first history row is its earliest: the feed is read from its moment.
    dispatch.enqueue(str(batch), since.isoformat())
    return batch


# --- 2. Dispatch: the feed of those changes, per subscription ----------------------


@task()
def dispatch(batch: str, since: str) -> int:
    """One delivery (or a few, for a large write) per subscription that wants any of the
    changes of the batch's history rows; how many were made. The rows are deleted with
    the deliveries made of them, so a dispatch run again (its worker lost) makes nothing
    twice; a large batch is dispatched in parts, each a task of its own."""
    # On the primary, which holds the history rows; all or nothing.
    with transaction.atomic():
        rows = list(
            WrittenChange.objects.select_for_update()
            .filter(batch=batch)
            .order_by("id")
            .values_list("id", "collection", "history_id")[:ROWS_PER_DISPATCH]
        )
        made = 0
        if rows:
            only = defaultdict(set)
            for _id, label, history_id in rows:
                only[label].add(history_id)
            start = datetime.fromisoformat(since)
            made = _fan_out(lambda caller: change_feed(start, caller, only))
            WrittenChange.objects.filter(id__in=[row[0] for row in rows]).delete()
            if len(rows) == ROWS_PER_DISPATCH:
                dispatch.enqueue(batch, since)  # the rest of a large write
        _prune()
    made += push_moments()
    ensure_sweep()
    return made


def _fan_out(feed) -> int:
    """Queue, per subscription that may read and wants any, the changes `feed(caller)`
    lists for the kind of caller its key reads as (read once per kind); how many
    deliveries were made."""
    by_caller = defaultdict(list)
    for subscription in WebhookSubscription.objects.sending().prefetch_related(
        "minerals", "regions"
    ):
        if subscription.api_key.is_active:
            by_caller[Caller.of_key(subscription.api_key)].append(subscription)
    made = 0
    for caller, subscriptions in by_caller.items():
        changes = ChangeSerializer(feed(caller), many=True).data
        if not changes:
            continue
        scopes = _scopes(changes)
        for subscription in subscriptions:
            wanted = [c for c in changes if _wants(subscription, c, scopes)]
            for first in range(0, len(wanted), CHANGES_PER_DELIVERY):
                _queue_delivery(subscription, wanted[first : first + CHANGES_PER_DELIVERY])
                made += 1
    return made


# --- Clause moments: what opens and closes with no write -----------------------------


def push_moments() -> int:
    """Dispatch the clause openings and closings (cooperation's `GrantChange`, whatever
    logged them) whose moment has come and that were not pushed yet, as the change feed
    lists them to each kind of caller; how many deliveries were made. Each is marked
    pushed with its deliveries, in one transaction: a moment looked at twice (by two
    sweeps, or a sweep and a dispatch) is pushed once, and what it carries is judged
    again when each delivery is sent, as every delivery is."""
    if not apps.is_installed("cooperation"):
        return 0
    from cooperation.models import GrantChange

    now = timezone.now()
    floor = now - timedelta(hours=settings.WEBHOOK_MOMENT_LOOKBACK_HOURS)
    try:
        with transaction.atomic():
            pushed = PushedGrantChange.objects.filter(at__gt=floor).values("change_id")
            due = list(
                GrantChange.objects.filter(at__gt=floor, at__lte=now)
                .exclude(id__in=pushed)
                .order_by("at", "id")
                .values_list("id", "at")[:ROWS_PER_DISPATCH]
            )
            if not due:
                return 0
            # Marked first: a concurrent push of the same moments fails on the unique
            # change id and rolls back whole, delivering nothing twice.
            PushedGrantChange.objects.bulk_create(
                [PushedGrantChange(change_id=pk, at=at) for pk, at in due]
            )
            ids, since = [pk for pk, _at in due], due[0][1]

            def feed(caller):
                parts = [part.filter(id__in=ids) for part in grant_changes(since, caller)]
                if not parts:
                    return []
                first, *rest = parts
                return first.union(*rest, all=True).order_by("c_at", "c_model", "c_seq")

            made = _fan_out(feed)
            PushedGrantChange.objects.filter(at__lte=floor).delete()
            return made
    except IntegrityError:
        return 0


def _queue_delivery(subscription, changes) -> None:
    # The delivery and its task commit together (the queue is a table of this database):
    # neither exists without the other.
    delivery = WebhookDelivery.objects.create(subscription=subscription, changes=changes)
    deliver.enqueue(delivery.pk)


def _scopes(changes) -> dict[tuple[str, str], tuple[str, set[str]]]:
    """(collection, id) → (region code, mineral codes) of the records of the changes that
    a mineral or region can narrow, as they are now."""
    from deposits.models import BalanceMovement, Deposit, ReserveEstimate

    ids = defaultdict(set)
    for change in changes:
        if change["model"] in SCOPED:
            ids[change["model"]].add(change["id"])
    scopes = {}
    for public_id, region, mineral in Deposit.objects.filter(
        public_id__in=ids["deposit"]
    ).values_list("public_id", "region__code", "commodities__mineral__code"):
        scopes.setdefault(("deposit", public_id), (region, set()))[1].add(mineral)
    for label, model in (("reserve", ReserveEstimate), ("movement", BalanceMovement)):
        rows = model.objects.filter(**feed_lookup(model, ids[label]))
        for key, region, mineral in rows.values_list(
            id_field(model), "deposit__region__code", "mineral__code"
        ):
            scopes[label, str(key)] = (region, {mineral})
    return scopes


def _wants(subscription, change, scopes) -> bool:
    if subscription.collections and change["model"] not in subscription.collections:
        return False
    if change["model"] not in SCOPED:
        return True
    minerals = {m.code for m in subscription.minerals.all()}
    regions = {r.code for r in subscription.regions.all()}
    if not minerals and not regions:
        return True
    scope = scopes.get((change["model"], change["id"]))
    if scope is None:
        # Gone since: a deletion is sent, since the record no longer says what it was of
        # and the subscriber may hold it; any other change of it is followed by that one.
        return change["action"] == "deleted"
    region, record_minerals = scope
    return (not regions or region in regions) and (not minerals or bool(minerals & record_minerals))


def _prune() -> None:
    """Deliveries and finished tasks older than WEBHOOK_DELIVERY_DAYS are removed, and with
    a dispatch that failed, the outbox rows of its batch: kept until then beside the
    failed task (which names its batch) so staff can look into it, never pushed."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_DELIVERY_DAYS)
    WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(status="pending").delete()
    finished = DBTaskResult.objects.filter(finished_at__lt=cutoff)
    failed = finished.filter(task_path=_task_path("dispatch"), status="FAILED")
    batches = {result.args_kwargs["args"][0] for result in failed.only("args_kwargs")}
    if batches:
        WrittenChange.objects.filter(batch__in=batches).delete()
    finished.delete()


# --- 3. Deliver: judged again, signed, posted, retried ------------------------------


class DeliveryRefused(Exception):
    """The receiver is not tried (its address is inside the registry's network)."""


def sendable(changes: list[dict], caller: Caller) -> list[dict]:
    """The changes `caller` may be sent now: every deletion (the subscriber drops the
    record, if it holds it), and the creates and updates of records it may see now."""
    ids = defaultdict(set)
    for change in changes:
        if change["action"] != "deleted":
            ids[change["model"]].add(change["id"])
    seen = {label: visible_now(caller, label, wanted) for label, wanted in ids.items()}
    return [c for c in changes if c["action"] == "deleted" or c["id"] in seen.get(c["model"], ())]


@task()
def deliver(delivery_id: int) -> str:
    """One attempt of a pending delivery; its status after it.

    The attempt is held (`in_flight_until`, committed) before it posts, and its outcome is
    saved only while it still holds it: a delivery another attempt holds is looked at
    again when that hold ends, and one whose attempt outlived its hold (its worker lost)
    is attempted again, that attempt counted as failed. A delivery no longer pending
    (delivered, failed, withheld) is never sent again."""
    now = timezone.now()
    # Read in a transaction, so on the primary (registry/routers.py): a replica may not
    # hold the delivery yet, nor the latest visibility of its records.
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_related("subscription__api_key__user")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return "gone"
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return "not yet"  # a repeat of a task; the retry queued for then will come
        held = delivery.in_flight_until
        if held is not None and held > now:
            deliver.using(run_after=held).enqueue(delivery.pk)
            return "held"
        if held is not None:
            delivery.error = "the worker was lost during the attempt"
            if delivery.attempts > len(settings.WEBHOOK_RETRY_SECONDS):
                return _finish(delivery, held, WebhookDelivery.Status.FAILED)
        subscription = delivery.subscription
        if not subscription.active or not subscription.api_key.is_active:
            reason = "the subscription is switched off or its key revoked"
            return _finish(delivery, held, WebhookDelivery.Status.WITHHELD, reason)
        changes = sendable(delivery.changes, Caller.of_key(subscription.api_key))
        if not changes:
            reason = "nothing the key may read now"
            return _finish(delivery, held, WebhookDelivery.Status.WITHHELD, reason)
        hold = now + timedelta(seconds=settings.WEBHOOK_IN_FLIGHT_SECONDS)
        taken = _holding(delivery.pk, held).update(
            in_flight_until=hold, attempts=F("attempts") + 1, last_attempt_at=now
        )
        if not taken:  # another attempt took it in the meantime
            return "held"
    body = json.dumps(
        {"delivery": delivery.pk, "subscription": subscription.pk, "changes": changes},
        separators=(",", ":"),
    ).encode()
    delivery.attempts += 1
    delivery.sent_count = len(changes)
    try:
        delivery.response_status = post(subscription, delivery.pk, body)
        delivery.error = ""
    except urllib.error.HTTPError as error:
        delivery.response_status, delivery.error = error.code, f"HTTP {error.code}"
    except (DeliveryRefused, OSError, ValueError) as error:
        delivery.response_status, delivery.error = None, str(error)[:500] or type(error).__name__
    if delivery.response_status is not None and 200 <= delivery.response_status < 300:
        delivery.delivered_at = timezone.now()
        return _finish(delivery, hold, WebhookDelivery.Status.DELIVERED)
    return _retry(delivery, hold)


def _holding(delivery_id: int, held: datetime | None):
    """The delivery, while the attempt that holds it until `held` (none: None) does."""
    rows = WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
    return rows.filter(Q(in_flight_until__isnull=True) if held is None else Q(in_flight_until=held))


_OUTCOME = ["status", "error", "response_status", "sent_count", "delivered_at"]


def _finish(delivery, held, status: str, error: str | None = None) -> str:
    """Save the attempt's outcome if it still holds the delivery; the status after it."""
    delivery.status = status
    if error is not None:
        delivery.error = error
    fields = {f: getattr(delivery, f) for f in _OUTCOME}
    if not _holding(delivery.pk, held).update(in_flight_until=None, next_attempt_at=None, **fields):
        return "superseded"  # its hold ended and another attempt took the delivery
    return status


def _retry(delivery, held) -> str:
    """After a failed attempt: the next one after its wait, or failed after the last."""
    waits = settings.WEBHOOK_RETRY_SECONDS
    if delivery.attempts > len(waits):
        return _finish(delivery, held, WebhookDelivery.Status.FAILED)
    due = timezone.now() + timedelta(seconds=waits[delivery.attempts - 1])
    fields = {f: getattr(delivery, f) for f in _OUTCOME}
    with transaction.atomic():
        if not _holding(delivery.pk, held).update(
            in_flight_until=None, next_attempt_at=due, **fields
        ):
            return "superseded"
        deliver.using(run_after=due).enqueue(delivery.pk)
    return delivery.status


# --- The sweep: clause moments, and work whose worker was lost ----------------------


class WorkerLost(Exception):
    """Set as the error of a task still marked running long after it began."""


# The tasks run again when their worker was lost: each finds what is left to do
# (a dispatch its batch's rows, a delivery whether it is still pending).
RESUMABLE = ("dispatch", "deliver")


@task()
def sweep() -> dict:
    """Run by a worker every WEBHOOK_SWEEP_SECONDS while anyone subscribes (and at the
    next clause moment when that is sooner): push the clause moments that have come, and
    queue again the dispatches and deliveries whose worker was lost mid-task."""
    from django_tasks_db.models import DBTaskResult

    # The next sweep first: a worker lost in the middle of this one leaves it queued.
    ensure_sweep()
    resumed = resume_lost()
    pushed = push_moments()
    # A sweep a minute is bookkeeping, not worth keeping for WEBHOOK_DELIVERY_DAYS.
    DBTaskResult.objects.filter(
        task_path=_task_path("sweep"), finished_at__lt=timezone.now() - timedelta(hours=1)
    ).delete()
    return {"resumed": resumed, "deliveries": pushed}


def _task_path(name: str) -> str:
    return globals()[name].module_path


def resume_lost() -> int:
    """Tasks of this module still marked running WEBHOOK_IN_FLIGHT_SECONDS after they
    began lost their worker (killed, its machine gone): each is marked failed and queued
    again with the same arguments, in one transaction. How many were."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.WEBHOOK_IN_FLIGHT_SECONDS)
    lost = DBTaskResult.objects.filter(
        status="RUNNING", task_path__in=[_task_path(n) for n in RESUMABLE], started_at__lt=cutoff
    )
    resumed = 0
    for result in lost:
        with transaction.atomic():
            marked = DBTaskResult.objects.filter(pk=result.pk, status="RUNNING").update(
                status="FAILED",
                finished_at=now,
                exception_class_path=f"{__name__}.WorkerLost",
                traceback=f"WorkerLost: still running {settings.WEBHOOK_IN_FLIGHT_SECONDS:g} s "
                "after it began; queued again",
            )
            if marked:
                task_ = dict(zip(RESUMABLE, (dispatch, deliver), strict=True))[result.task_name]
                task_.enqueue(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
                resumed += 1
    return resumed


def ensure_sweep() -> None:
    """Queue the next sweep unless one is queued for that time or sooner: at the next
    clause moment if it comes within WEBHOOK_SWEEP_SECONDS, else that many seconds from
    now. None while no one subscribes and no delivery is pending."""
    from django_tasks_db.models import DBTaskResult

    if (
        not WebhookSubscription.objects.sending().exists()
        and not WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).exists()
    ):
        return
    now = timezone.now()
    due = now + timedelta(seconds=settings.WEBHOOK_SWEEP_SECONDS)
    if apps.is_installed("cooperation"):
        from cooperation.models import GrantChange

        moment = (
            GrantChange.objects.filter(at__gt=now, at__lt=due)
            .order_by("at")
            .values_list("at", flat=True)
            .first()
        )
        due = moment or due
    with transaction.atomic():
        queued = DBTaskResult.objects.filter(
            task_path=_task_path("sweep"), status="READY", run_after__lte=due
        )
        if not queued.exists():
            sweep.using(run_after=due).enqueue()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed delivery, never followed (it could lead inside)."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(subscription, delivery_id: int, body: bytes) -> int:
    """POST the body, signed now; the receiver's status (an HTTPError for 3xx-5xx)."""
    _refuse_inside(subscription.url)
    request = urllib.request.Request(
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            DELIVERY_HEADER: str(delivery_id),
            SIGNATURE_HEADER: sign(subscription.secret, int(time.time()), body),
        },
    )
    with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
        response.read(65536)
        return response.status


def _refuse_inside(url: str) -> None:
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for *_rest, address in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP):
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global:
            raise DeliveryRefused(f"the receiver's address {ip} is not a public one")


@functools.cache
def connect() -> None:
    """Listen to every history row written (reports/apps.py, once)."""
    from simple_history.signals import post_create_historical_record

    post_create_historical_record.connect(history_written, dispatch_uid="webhooks")
    # A new or resumed subscription starts the sweep, which pushes clause moments even
    # when no write follows.
    post_save.connect(_subscription_saved, sender=WebhookSubscription, dispatch_uid="webhooks")


def _subscription_saved(sender, instance, raw=False, using=None, **kwargs) -> None:
    if raw or not instance.active:
        return
    for _sid, callback, *_rest in transaction.get_connection(using).run_on_commit:
        if isinstance(callback, _Written) and callback.batch is None:
            callback.stale = True
    transaction.on_commit(ensure_sweep, using=using)
