"""`manage.py extracttranslations`: bring locale/*.po in line with the sources (Babel, no
GNU gettext), keeping every translation they have."""

from django.core.management.base import BaseCommand

from kernel.translations import extract_messages, update_catalogues


class Command(BaseCommand):
    help = (
        "Extract the strings marked for translation in the Python sources and templates "
        "into the catalogues in locale/; new strings arrive untranslated, strings gone "
        "from the sources are dropped."
    )

    def handle(self, *args, **options):
        template = extract_messages()
        self.stdout.write(f"{sum(1 for message in template if message.id)} strings in the sources.")
        for path, (added, removed) in update_catalogues(template).items():
            self.stdout.write(f"{path}: {added} added, {removed} removed")
        self.stdout.write(
            self.style.SUCCESS(
                "Catalogues updated. Translate the new entries (docs/translation.md), "
                "then run `manage.py compiletranslations`."
            )
        )
