"""Load the demo registry: real, sourced data shipped with the project. Idempotent."""

from django.db import transaction
from django.utils.translation import gettext as _

from cooperation import demo as cooperation_demo
from deposits import demo as deposits_demo
from kernel.commands import ClerkCommand


class Command(ClerkCommand):
    help = (
        "Load the demo registry (regions, minerals, deposits, cooperation). Safe to repeat. "
        "--language ru or tg prints its report in Russian or Tajik."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            deposits_demo.load(self.stdout)
            cooperation_demo.load(self.stdout)
        self.stdout.write(self.style.SUCCESS(_("Demo registry loaded.")))
