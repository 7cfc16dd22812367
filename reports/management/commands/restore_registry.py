"""Load a dump written by dump_registry into an empty database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports import backup


class Command(BaseCommand):
    help = "Restore a dump_registry FILE into an empty (freshly migrated) database."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        if not Path(file).is_file():
            raise CommandError(f"cannot read {file}: no such file")
        if not backup.is_empty():
            raise CommandError(
                "the database already holds registry records; restore into an empty one"
            )
        try:
            backup.restore(file)
        except Exception as exc:  # loaddata wraps every failure in its own exceptions
            raise CommandError(f"{file} could not be restored, nothing was written: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Registry restored from {file}."))
