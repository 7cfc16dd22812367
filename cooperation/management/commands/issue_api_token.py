"""Issue an API key: a partner organisation's read-only key, or a key acting as a staff user.

The key is printed once and only its hash is stored; revoke or set expiry in the admin,
where staff may also issue keys (both go through `ApiKey.issue` and its rules).
"""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.commands import ClerkCommand
from kernel.models import ApiKey


class Command(ClerkCommand):
    help = (
        "Print a new API key: `issue_api_token KIGAM` for a partner organisation (read-only, "
        "partner visibility) or `issue_api_token --user USERNAME` for a staff user. "
        "--language ru or tg gives the messages in Russian or Tajik."
    )

    def add_arguments(self, parser):
        parser.add_argument("acronym", nargs="?", help="Acronym of the partner organisation.")
        parser.add_argument("--user", help="Username of a staff user the key acts as.")
        parser.add_argument("--days", type=int, help="Expire the key after this many days.")
        parser.add_argument("--note", default="", help="What the key is for (shown in the admin).")

    def handle(self, *args, acronym=None, user=None, days=None, note="", **options):
        if bool(acronym) == bool(user):
            raise CommandError(_("Give either an organisation acronym or --user USERNAME."))
        if days is not None and days < 1:
            raise CommandError(_("--days must be 1 or more."))
        expires_at = timezone.now() + datetime.timedelta(days=days) if days else None
        if acronym:
            holder = {"organisation": self._organisation(acronym)}
        else:
            holder = {"user": self._staff_user(user)}
        try:
            # The rules of issuing live in ApiKey (the admin issues through it too).
            _api_key, key = ApiKey.issue(note=note, expires_at=expires_at, **holder)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(key)
        holder_name = holder.get("organisation") or holder.get("user")
        self.stderr.write(
            _(
                "Key for %(holder)s issued; it is shown only this once. "
                "Send it as 'Authorization: Token <key>'."
            )
            % {"holder": holder_name}
        )

    def _organisation(self, acronym):
        from cooperation.models import Organisation

        matches = list(Organisation.objects.filter(acronym__iexact=acronym.strip()))
        if not matches:
            raise CommandError(
                _("No organisation with the acronym %(acronym)s.") % {"acronym": repr(acronym)}
            )
        if len(matches) > 1:
            names = "; ".join(f"{o.public_id} {o.name}" for o in matches)
            raise CommandError(
                _("The acronym %(acronym)s is ambiguous: %(names)s.")
                % {"acronym": repr(acronym), "names": names}
            )
        return matches[0]

    def _staff_user(self, username):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(_("No user %(user)s.") % {"user": repr(username)}) from None
        return user
