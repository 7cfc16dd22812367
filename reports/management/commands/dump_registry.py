"""Write the whole registry (records, history, staff accounts) to a portable file."""

from django.core.management.base import BaseCommand, CommandError

from reports import backup


class Command(BaseCommand):
    help = "Dump the registry and cooperation data, with history, to FILE (.json or .json.gz)."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        if not file.endswith((".json", ".json.gz", ".json.bz2", ".json.xz")):
            raise CommandError("FILE must end in .json, .json.gz, .json.bz2 or .json.xz")
        try:
            backup.dump(file)
        except OSError as exc:
            raise CommandError(f"cannot write {file}: {exc.strerror}") from exc
        self.stdout.write(self.style.SUCCESS(f"Registry written to {file}."))
