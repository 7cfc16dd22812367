"""Webhooks: the change feed pushed to those who subscribed, signed and retried.

The path of a change (docs/api.md "Webhooks", docs/deployment.md "Workers"):

1. A write saves history rows; `history_written` notes each (collection, history id) on
   a callback that runs once the write's transaction commits. The write itself only
   gains that note: the callback adds one row to the task queue when anyone subscribes,
   and nothing when no one does, whatever the number of subscriptions.
2. A worker (django-tasks' `db_worker`) runs the task `dispatch`: the change feed of
   exactly those history rows (reports/changes.py, the feed partners poll), read once per
   kind of caller the subscriptions' keys read as, narrowed to each subscription's
   collections, minerals and regions, becomes one `WebhookDelivery` per subscription,
   each queued to the task `deliver`.
3. `deliver` judges the changes again against what the key may read now (`Caller.of_key`,
   kernel/visibility.py): a record created or updated that the key may no longer see is
   left out, and a delivery left with nothing is withheld. What remains is posted,
   signed with the subscription's secret; a failure is retried after the waits of
   `WEBHOOK_RETRY_SECONDS`, then the delivery has failed. Each attempt is recorded on the
   delivery, which the admin lists.
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
from collections import defaultdict
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from kernel.visibility import Caller
from reports.changes import ChangeSerializer, change_feed, collection_of, visible_now
from reports.models import WebhookDelivery, WebhookSubscription

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


# --- 1. A write notes its changes ---------------------------------------------------


class _Written:
    """The history rows one transaction wrote, by collection, and when the first was."""

    def __init__(self):
        self.rows: dict[str, set[int]] = defaultdict(set)
        self.since: datetime | None = None

    def __call__(self) -> None:
        queue_dispatch(self)


def history_written(sender, history_instance, using=None, **kwargs) -> None:
    """Receiver of simple_history's `post_create_historical_record`: note the row on the
    transaction's pending `_Written` (one per transaction, as kernel/api/caching.py's
    move of the generation); outside a transaction it is queued at once."""
    label = collection_of(sender)
    if label is None:
        return
    connection = transaction.get_connection(using)
    written = next(
        (c[1] for c in connection.run_on_commit if isinstance(c[1], _Written)),
        None,
    )
    if written is None:
        written = _Written()
        transaction.on_commit(written, using=using)
    written.rows[label].add(history_instance.history_id)
    date = history_instance.history_date
    if written.since is None or date < written.since:
        written.since = date


def queue_dispatch(written: _Written) -> None:
    """After the commit: one task for the worker, if anyone subscribes. Never fails the
    write, which has committed; a change left unpushed is still in the feed."""
    try:
        if not WebhookSubscription.objects.sending().exists():
            return
        rows = [(label, row) for label, ids in written.rows.items() for row in sorted(ids)]
        for first in range(0, len(rows), ROWS_PER_DISPATCH):
            chunk = defaultdict(list)
            for label, row in rows[first : first + ROWS_PER_DISPATCH]:
                chunk[label].append(row)
            dispatch.enqueue(dict(chunk), written.since.isoformat())
    except Exception:
        logger.error("The changes of a committed write could not be queued", exc_info=True)


# --- 2. Dispatch: the feed of those changes, per subscription ----------------------


@task()
@transaction.atomic  # on the primary, which holds the history rows; all or nothing
def dispatch(rows: dict[str, list[int]], since: str) -> int:
    """One delivery (or a few, for a large write) per subscription that wants any of the
    changes of these history rows; how many were made."""
    only = {label: set(ids) for label, ids in rows.items()}
    start = datetime.fromisoformat(since)
    by_caller = defaultdict(list)
    for subscription in WebhookSubscription.objects.sending().prefetch_related(
        "minerals", "regions"
    ):
        if subscription.api_key.is_active:
            by_caller[Caller.of_key(subscription.api_key)].append(subscription)
    made = 0
    for caller, subscriptions in by_caller.items():
        changes = ChangeSerializer(change_feed(start, caller, only), many=True).data
        if not changes:
            continue
        scopes = _scopes(changes)
        for subscription in subscriptions:
            wanted = [c for c in changes if _wants(subscription, c, scopes)]
            for first in range(0, len(wanted), CHANGES_PER_DELIVERY):
                _queue_delivery(subscription, wanted[first : first + CHANGES_PER_DELIVERY])
                made += 1
    _prune()
    return made


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
    movements = [int(i) for i in ids["movement"] if i.isdigit()]
    for label, rows in (
        ("reserve", ReserveEstimate.objects.filter(public_id__in=ids["reserve"])),
        ("movement", BalanceMovement.objects.filter(id__in=movements)),
    ):
        field = "public_id" if label == "reserve" else "id"
        for key, region, mineral in rows.values_list(
            field, "deposit__region__code", "mineral__code"
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
    """Deliveries and finished tasks older than WEBHOOK_DELIVERY_DAYS are removed."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_DELIVERY_DAYS)
    WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(status="pending").delete()
    DBTaskResult.objects.filter(finished_at__lt=cutoff).delete()


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
    """One attempt of a pending delivery; its status after it."""
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
        subscription = delivery.subscription
        if not subscription.active or not subscription.api_key.is_active:
            return _withhold(delivery, "the subscription is switched off or its key revoked")
        changes = sendable(delivery.changes, Caller.of_key(subscription.api_key))
        if not changes:
            return _withhold(delivery, "nothing the key may read now")
    body = json.dumps(
        {"delivery": delivery.pk, "subscription": subscription.pk, "changes": changes},
        separators=(",", ":"),
    ).encode()
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    delivery.sent_count = len(changes)
    try:
        delivery.response_status = post(subscription, delivery.pk, body)
        delivery.error = ""
    except urllib.error.HTTPError as error:
        delivery.response_status, delivery.error = error.code, f"HTTP {error.code}"
    except (DeliveryRefused, OSError, ValueError) as error:
        delivery.response_status, delivery.error = None, str(error)[:500] or type(error).__name__
    if delivery.response_status is not None and 200 <= delivery.response_status < 300:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at, delivery.next_attempt_at = timezone.now(), None
        delivery.save()
        return delivery.status
    waits = settings.WEBHOOK_RETRY_SECONDS
    if delivery.attempts > len(waits):
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
        delivery.save()
        return delivery.status
    delivery.next_attempt_at = timezone.now() + timedelta(seconds=waits[delivery.attempts - 1])
    with transaction.atomic():
        delivery.save()
        deliver.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)
    return delivery.status


def _withhold(delivery, reason: str) -> str:
    delivery.status, delivery.error = WebhookDelivery.Status.WITHHELD, reason
    delivery.next_attempt_at = None
    delivery.save()
    return delivery.status


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
