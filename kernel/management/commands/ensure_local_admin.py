"""Create an admin account for a local run, once, with a generated password."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "For a local run (DEBUG on): create the 'admin' superuser if no superuser exists."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("ensure_local_admin is for local runs only (DEBUG is off).")
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin account exists already; its password is unchanged.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "admin@localhost", password)
        self.stdout.write(
            self.style.WARNING(
                "Created the admin account for this local registry.\n"
                f"  user: admin\n  password: {password}\n"
                "The password is shown only this once."
            )
        )
