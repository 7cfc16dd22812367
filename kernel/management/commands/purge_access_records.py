"""Remove access records older than ACCESS_RECORD_DAYS (kernel/access.py).

A process writing records also does it once a day; this command is for a schedule
(docs/deployment.md) or after lowering the setting.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from kernel import access


class Command(BaseCommand):
    help = "Remove access records older than ACCESS_RECORD_DAYS days (default 400)."

    def handle(self, *args, **options):
        removed = access.purge()
        self.stdout.write(
            f"Removed {removed} access records older than {settings.ACCESS_RECORD_DAYS} days."
        )
