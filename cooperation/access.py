"""What a memorandum's parties read over the API while it was in force (the access record,
kernel/access.py).

"What was pulled under a memorandum" is what the keys of its parties read while it was
in force, by the one rule of when a memorandum (and so its data-sharing clauses) is in
force: `cooperation.grants.force_periods` (its time in force less its suspensions).
"""

import datetime
import functools
import operator

from django.db.models import Q
from django.utils import timezone

from cooperation.grants import force_periods
from cooperation.models import Memorandum
from kernel.models import AccessRecord


def reads_under(memorandum: Memorandum):
    """The access records of the memorandum's parties during its periods in force."""
    periods = force_periods(memorandum)
    if not periods:
        return AccessRecord.objects.none()
    zone = timezone.get_current_timezone()

    def during(start, end):
        condition = Q(at__gte=datetime.datetime.combine(start, datetime.time(), zone))
        if end is not None:
            condition &= Q(at__lt=datetime.datetime.combine(end, datetime.time(), zone))
        return condition

    return AccessRecord.objects.filter(
        functools.reduce(operator.or_, (during(start, end) for start, end in periods)),
        organisation__in=memorandum.parties.values("organisation_id"),
    )
