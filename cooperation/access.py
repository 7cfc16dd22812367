"""What a memorandum's parties read over the API while it was in force (the access record,
kernel/access.py).

Today a partner key reads what every partner key reads, so "what was pulled under a
memorandum" is what the keys of its parties read during its period: from its entry into
force (its signing, where no entry is recorded) to its expiry or termination (its
`valid_until`, where neither is recorded). When memoranda carry data-sharing grants,
`reads_under` is where a grant's scope narrows this to the records the grant opened.
"""

import datetime

from django.utils import timezone

from cooperation.models import Memorandum, MemorandumStatus, effective_dates
from kernel.models import AccessRecord


def period(memorandum: Memorandum) -> tuple[datetime.date, datetime.date | None] | None:
    """The first day it was in force and the day it ended (None: it has not), or None
    for a memorandum never signed."""
    dates = effective_dates(memorandum.recorded_transitions())
    start = dates.get(MemorandumStatus.IN_FORCE) or memorandum.signed_on
    if start is None:
        return None
    ended = [dates.get(MemorandumStatus.EXPIRED), dates.get(MemorandumStatus.TERMINATED)]
    end = min((d for d in ended if d is not None), default=memorandum.valid_until)
    return start, end


def reads_under(memorandum: Memorandum):
    """The access records of the memorandum's parties during its period."""
    span = period(memorandum)
    if span is None:
        return AccessRecord.objects.none()
    start, end = span
    zone = timezone.get_current_timezone()
    records = AccessRecord.objects.filter(
        organisation__in=memorandum.parties.values("organisation_id"),
        at__gte=datetime.datetime.combine(start, datetime.time(), zone),
    )
    if end is not None:
        records = records.filter(at__lt=datetime.datetime.combine(end, datetime.time(), zone))
    return records
