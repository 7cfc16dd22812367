"""Import MinMod MineralSite records (a JSON list) into the registry."""

import json

from django.core.management.base import BaseCommand, CommandError

from deposits.minmod import import_sites


class Command(BaseCommand):
    help = (
        "Import MinMod mineral-site records (the format of tajikistan_sites.json), matching "
        "existing deposits by name/alias and distance. Idempotent. Exits 1 if a record was refused."
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
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"{file} is not a UTF-8 JSON file: {exc}") from exc
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise CommandError(f"{file} must hold a JSON list of MineralSite records")

        report = import_sites(records, as_published)
        self.stdout.write(report.summary())
        for name in report.created:
            self.stdout.write(f"  created {name}")
        for name in report.updated:
            self.stdout.write(f"  updated {name}")
        for note in report.notes:
            self.stdout.write(f"  note: {note}")
        for number, name, reason in report.refused:
            self.stderr.write(f"  refused record {number} ({name}): {reason}")
        if report.refused:
            raise SystemExit(1)
