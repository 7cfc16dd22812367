"""Print what a partner organisation's keys read over the API in one month: the access
record (kernel/access.py), per endpoint, per record read on its own and per memorandum.

    python manage.py access_report KIGAM --month 2026-11
"""

from django.core.management.base import CommandError
from django.db.models import Count, Q, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from cooperation import access as memoranda
from cooperation.models import Memorandum, Organisation
from kernel import access
from kernel.commands import ClerkCommand, figure
from kernel.models import AccessRecord


class Command(ClerkCommand):
    help = (
        "Print the access record of a partner organisation (its identifier ORG-…, acronym or "
        "name) for a month: `access_report KIGAM --month 2026-11`."
    )

    def add_arguments(self, parser):
        parser.add_argument("organisation", help="Identifier (ORG-…), acronym or name.")
        parser.add_argument(
            "--month", help="The month, YYYY-MM (default: the current month).", default=None
        )

    def handle(self, *args, organisation, month=None, **options):
        holder = find_organisation(organisation)
        month = month or timezone.localdate().strftime("%Y-%m")
        try:
            start, end = access.month_bounds(month)
        except ValueError:
            raise CommandError(
                _("Give the month as YYYY-MM, e.g. 2026-11; not %(month)s.")
                % {"month": repr(month)}
            ) from None
        records = AccessRecord.objects.filter(organisation=holder, at__gte=start, at__lt=end)
        write = self.stdout.write
        write(
            _("Access record of %(organisation)s, %(identifier)s: %(month)s")
            % {
                "organisation": holder,
                "identifier": holder.public_id,
                "month": formats.date_format(start, "F Y"),
            }
        )
        totals = records.aggregate(reads=Count("id"), returned=Sum("returned"))
        if not totals["reads"]:
            write(_("No reads recorded in this month."))
            return
        write(
            _("Reads: %(reads)s; records returned: %(returned)s")
            % {"reads": figure(totals["reads"]), "returned": figure(totals["returned"] or 0)}
        )
        keys = records.values_list("key_prefix", flat=True).distinct().order_by("key_prefix")
        write(_("Keys: %(keys)s") % {"keys": ", ".join(f"{prefix}…" for prefix in keys)})

        write("")
        write(f"{_('Endpoint'):40} {_('Reads'):>8} {_('Records returned'):>18}")
        by_endpoint = (
            records.values("endpoint")
            .annotate(reads=Count("id"), returned=Sum("returned"))
            .order_by("-reads", "endpoint")
        )
        for row in by_endpoint:
            returned = "—" if row["returned"] is None else figure(row["returned"])
            write(f"{row['endpoint']:40} {figure(row['reads']):>8} {returned:>18}")

        read = access.records_read(records)
        if read:
            write("")
            write(f"{_('Records read on their own'):40} {_('Reads'):>8} {_('Last read'):>18}")
            for row in read:
                last = formats.date_format(timezone.localtime(row["last"]), "Y-m-d H:i")
                write(f"{row['identifiers']:40} {figure(row['reads']):>8} {last:>18}")

        write("")
        write(_("Memoranda it is a party to, and the reads of this month while each was in force:"))
        for memorandum in Memorandum.objects.with_party(holder).order_by("signed_on", "pk"):
            under = memoranda.reads_under(memorandum).filter(pk__in=records.values("pk"))
            count = under.count()
            write(f"  {memorandum.public_id} {memorandum.title}: {figure(count)}")


def find_organisation(given: str) -> Organisation:
    """The one organisation with this identifier, acronym or name (any case)."""
    given = given.strip()
    matches = list(
        Organisation.objects.filter(
            Q(public_id__iexact=given) | Q(acronym__iexact=given) | Q(name__iexact=given)
        )
    )
    if not matches:
        raise CommandError(
            _("No organisation with the identifier, acronym or name %(given)s.")
            % {"given": repr(given)}
        )
    if len(matches) > 1:
        names = "; ".join(f"{o.public_id} {o}" for o in matches)
        raise CommandError(
            _("%(given)s is ambiguous: %(names)s.") % {"given": repr(given), "names": names}
        )
    return matches[0]
