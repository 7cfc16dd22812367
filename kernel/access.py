"""The access record: every read by a partner organisation's key, kept for the ministry.

Who read (organisation, and the key by its public prefix, never the key itself), which
endpoint and address, when, with what status, and what the answer carried: how many
records (a page, an export's rows, one record) and, for a record read on its own, its
identifier (and its deposit's).

`AccessRecordMiddleware` notes a read once its response is closed, that is after the
body went out (a streamed export is counted as it streams), so the request waits for
nothing. Notes are kept in the process and written in bulk: when `ACCESS_RECORD_BATCH`
are waiting, `ACCESS_RECORD_SECONDS` after the first of them at the latest (a timer
thread), and when the process exits. A process killed outright loses what it had not
written yet, at most one batch or those seconds' worth.

What an answer carried is marked on the response by the surface that built it
(`mark`): the API's viewsets (kernel/api/viewsets.py), the streaming exports
(kernel/exports.py), the OGC items. The API response cache keeps the mark with the
answer, so an answer replayed from the cache is recorded like a fresh one.

Records older than `ACCESS_RECORD_DAYS` are removed by `purge` (`manage.py
purge_access_records`), which a process writing records also runs once a day.
"""

import atexit
import datetime
import logging
import threading
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connections
from django.db.models import Count, Max, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from kernel.models import AccessRecord, ApiKey

logger = logging.getLogger(__name__)

READS = frozenset({"GET", "HEAD"})
# The query parameter the OGC service takes a key in: never written to the record.
KEY_PARAMETER = "api_key"


@dataclass
class Returned:
    """What an answer carried: how many records, and the identifiers of a record read on
    its own. An export's count goes up as its rows stream."""

    count: int | None = None
    identifiers: tuple[str, ...] = ()

    def as_kept(self) -> tuple:
        return (self.count, self.identifiers)

    @classmethod
    def from_kept(cls, kept) -> "Returned | None":
        return None if kept is None else cls(*kept)


def mark(response, returned: Returned | None) -> None:
    """Say what `response` carries (read by the middleware when the response is closed)."""
    response.access_returned = returned


def marked(response) -> Returned | None:
    return getattr(response, "access_returned", None)


def partner_key(request) -> ApiKey | None:
    """The partner organisation's key a read was made with, else None (anonymous, staff)."""
    if request.method not in READS:
        return None
    api_key = getattr(request, "auth", None)
    if isinstance(api_key, ApiKey) and api_key.organisation_id is not None:
        return api_key
    return None


def address(request) -> str:
    """The path and query of a read, without a key given in the query string."""
    query = request.META.get("QUERY_STRING", "")
    if KEY_PARAMETER in query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, v) for k, v in pairs if k != KEY_PARAMETER])
    full = f"{request.path}?{query}" if query else request.path
    return full[: AccessRecord._meta.get_field("path").max_length]


class AccessRecordMiddleware:
    """Notes every read by a partner key once its response is closed (Django closes a
    response after the server has sent it, a streamed one after its last chunk)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        api_key = partner_key(request)
        if api_key is not None:
            at = timezone.now()
            match = request.resolver_match
            endpoint = match.view_name if match is not None else ""

            def closed():
                returned = marked(response)
                note(
                    AccessRecord(
                        at=at,
                        organisation_id=api_key.organisation_id,
                        api_key_id=api_key.pk,
                        key_prefix=api_key.prefix,
                        endpoint=endpoint[:100],
                        path=address(request),
                        status=response.status_code,
                        returned=returned.count if returned else None,
                        identifiers=" ".join(returned.identifiers)[:200] if returned else "",
                    )
                )

            # Django's own list of what `response.close()` calls, the hook a response
            # offers for the end of its sending.
            response._resource_closers.append(closed)
        return response


class _Pending:
    """The records this process has noted and not written yet."""

    def __init__(self):
        self.records: list[AccessRecord] = []
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None
        self.exit_hook = False
        self.purged_on: datetime.date | None = None


_pending = _Pending()


def note(record: AccessRecord) -> None:
    with _pending.lock:
        _pending.records.append(record)
        full = len(_pending.records) >= settings.ACCESS_RECORD_BATCH
        if not _pending.exit_hook:
            atexit.register(flush)
            _pending.exit_hook = True
        if not full and _pending.timer is None and settings.ACCESS_RECORD_SECONDS > 0:
            _pending.timer = threading.Timer(settings.ACCESS_RECORD_SECONDS, _flush_in_thread)
            _pending.timer.daemon = True
            _pending.timer.start()
    if full:
        flush()


def flush() -> int:
    """Write the waiting records in one insert; how many were written. Records a database
    away could not take wait for the next flush (up to ten batches; older ones are
    dropped and the loss logged)."""
    with _pending.lock:
        batch, _pending.records = _pending.records, []
        if _pending.timer is not None:
            _pending.timer.cancel()
            _pending.timer = None
    if not batch:
        return 0
    try:
        _insert(batch)
    except DatabaseError:
        limit = 10 * settings.ACCESS_RECORD_BATCH
        with _pending.lock:
            _pending.records[:0] = batch
            dropped = len(_pending.records) - limit
            if dropped > 0:
                del _pending.records[:dropped]
        logger.error(
            "The access record could not be written; %d records wait%s",
            min(len(batch), limit),
            f", {dropped} dropped" if dropped > 0 else "",
            exc_info=True,
        )
        return 0
    _purge_daily()
    return len(batch)


def _insert(batch: list[AccessRecord]) -> None:
    try:
        AccessRecord.objects.bulk_create(batch)
    except IntegrityError:
        # A key or organisation deleted since its reads were noted: its records lose the
        # reference, as those already written do (SET_NULL; the key's prefix stays), and
        # the others of the batch are not held back by them.
        for field in ("api_key", "organisation"):
            related = AccessRecord._meta.get_field(field).related_model
            named = {getattr(record, f"{field}_id") for record in batch} - {None}
            existing = set(related.objects.filter(pk__in=named).values_list("pk", flat=True))
            for record in batch:
                if getattr(record, f"{field}_id") not in existing:
                    setattr(record, field, None)
        AccessRecord.objects.bulk_create(batch)


def _flush_in_thread() -> None:
    with _pending.lock:
        _pending.timer = None
    try:
        flush()
    finally:
        connections.close_all()  # this thread's connections only: they are per thread


def _purge_daily() -> None:
    today = timezone.localdate()
    if _pending.purged_on == today:
        return
    _pending.purged_on = today
    try:
        purge()
    except DatabaseError:
        logger.warning("Old access records could not be removed", exc_info=True)


def discard_pending() -> None:
    """Forget what is waiting (tests: a rolled-back test's records must not reach the next)."""
    with _pending.lock:
        _pending.records = []
        if _pending.timer is not None:
            _pending.timer.cancel()
            _pending.timer = None


def purge(now: datetime.datetime | None = None) -> int:
    """Remove the records older than ACCESS_RECORD_DAYS; how many were removed."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.ACCESS_RECORD_DAYS)
    removed, _by_model = AccessRecord.objects.filter(at__lt=cutoff).delete()
    return removed


# --- Reading the record ------------------------------------------------------------


def month_bounds(month: str) -> tuple[datetime.datetime, datetime.datetime]:
    """The first moment of a month "YYYY-MM" and of the next, in the registry's time zone;
    ValueError for anything else."""
    year, number = month.split("-") if month.count("-") == 1 else ("", "")
    if len(year) != 4 or len(number) != 2:
        raise ValueError(month)
    first = datetime.date(int(year), int(number), 1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    zone = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(first, datetime.time(), zone),
        datetime.datetime.combine(following, datetime.time(), zone),
    )


def monthly_summary(records) -> list[dict]:
    """Per month, organisation and endpoint: the reads, the records they returned, and the
    last read; newest month first."""
    return list(
        records.annotate(month=TruncMonth("at"))
        .values("month", "organisation_id", "organisation__name", "endpoint")
        .annotate(reads=Count("id"), returned=Sum("returned"), last=Max("at"))
        .order_by("-month", "organisation__name", "organisation_id", "endpoint")
    )


def records_read(records):
    """The records read on their own, with how often and when last, most read first."""
    return (
        records.exclude(identifiers="")
        .values("identifiers")
        .annotate(reads=Count("id"), last=Max("at"))
        .order_by("-reads", "identifiers")
    )
