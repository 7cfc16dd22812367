"""Import MinMod MineralSite records (a JSON list) into the registry."""

import json

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from deposits.minmod import import_sites
from kernel.commands import ClerkCommand


class Command(ClerkCommand):
    help = (
        "Import MinMod mineral-site records (the format of tajikistan_sites.json), matching "
        "existing deposits by name/alias and distance. Idempotent. Exits 1 if a record was "
        "refused. --language ru or tg prints the report in Russian or Tajik."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a JSON file holding a list of MineralSite records")
        parser.add_argument(
            "--as-published",
            action="store_true",
            help=(
                "keep a record the entry checks refuse (a look-alike of a recorded deposit, "
                "a point outside the border or its region) as published, noted here and "
                "listed in the data-quality report, instead of refusing it"
            ),
        )

    def handle(self, *args, file, as_published, **options):
        try:
            with open(file, encoding="utf-8") as handle:
                records = json.load(handle)
        except OSError as exc:
            raise CommandError(
                _("cannot read %(file)s: %(reason)s") % {"file": file, "reason": exc.strerror}
            ) from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(
                _("%(file)s is not a UTF-8 JSON file: %(error)s") % {"file": file, "error": exc}
            ) from exc
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise CommandError(
                _("%(file)s must hold a JSON list of MineralSite records") % {"file": file}
            )

        report = import_sites(records, as_published)
        self.stdout.write(report.summary())
        for name in report.created:
            self.stdout.write("  " + _("created %(name)s") % {"name": name})
        for name in report.updated:
            self.stdout.write("  " + _("updated %(name)s") % {"name": name})
        for note in report.notes:
            self.stdout.write("  " + _("note: %(note)s") % {"note": note})
        for line in report.refusal_lines():
            self.stderr.write(f"  {line}")
        if report.refused:
            raise SystemExit(1)
