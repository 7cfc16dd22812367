"""`manage.py compiletranslations`: compile locale/*.po with Babel (no GNU gettext needed)."""

from django.core.management.base import BaseCommand

from kernel.translations import compile_catalogues


class Command(BaseCommand):
    help = "Compile the translation catalogues in locale/ (only those changed, unless --force)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Recompile every catalogue.")

    def handle(self, *args, force=False, **options):
        written = compile_catalogues(force=force)
        for path in written:
            self.stdout.write(f"compiled {path}")
        self.stdout.write(self.style.SUCCESS(f"{len(written)} catalogue(s) compiled."))
