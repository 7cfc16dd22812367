"""What a memorandum's parties read over the API while it was in force (the access record,
kernel/access.py).

"What was pulled under a memorandum" is what the keys of its parties read while it was
in force, by the one rule of when a memorandum (and so its data-sharing clauses) is in
force: `cooperation.grants.force_period`.
"""

import datetime

from django.utils import timezone

from cooperation.grants import force_period
from cooperation.models import Memorandum
from kernel.models import AccessRecord


def reads_under(memorandum: Memorandum):
    """The access records of the memorandum's parties during its period."""
    start, end = force_period(memorandum)
    if start is None:
        return AccessRecord.objects.none()
    zone = timezone.get_current_timezone()
    records = AccessRecord.objects.filter(
        organisation__in=memorandum.parties.values("organisation_id"),
        at__gte=datetime.datetime.combine(start, datetime.time(), zone),
    )
    if end is not None:
        records = records.filter(at__lt=datetime.datetime.combine(end, datetime.time(), zone))
    return records
