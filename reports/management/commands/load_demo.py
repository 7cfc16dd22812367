"""Load the demo registry: real, sourced data shipped with the project. Idempotent."""

from django.core.management.base import BaseCommand
from django.db import transaction

from cooperation import demo as cooperation_demo
from deposits import demo as deposits_demo


class Command(BaseCommand):
    help = "Load the demo registry (regions, minerals, deposits, cooperation). Safe to repeat."

    def handle(self, *args, **options):
        with transaction.atomic():
            deposits_demo.load(self.stdout)
            cooperation_demo.load(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo registry loaded."))
