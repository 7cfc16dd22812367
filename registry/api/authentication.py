"""`Authorization: Token <key>` authentication against the registry's API keys."""

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from registry.models import ApiKey


class ApiKeyAuthentication(BaseAuthentication):
    """A partner organisation's key acts as an anonymous caller with partner visibility;
    a staff key acts as its user. A bad, revoked or expired key answers 401, never
    a silent downgrade to anonymous, so a partner notices at once."""

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Give the key as 'Authorization: Token <key>', with no spaces in the key.")
            )
        try:
            presented = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from None
        return self.authenticate_credentials(presented)

    def authenticate_credentials(self, presented: str):
        """(user, key) for a presented key, or 401; also used by the OGC service's `api_key`."""
        api_key = ApiKey.objects.find(presented)
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        if not api_key.is_active:
            raise exceptions.AuthenticationFailed(_("This API key is revoked or has expired."))
        if api_key.user_id is not None and not api_key.user.is_active:
            raise exceptions.AuthenticationFailed(_("The user of this API key is inactive."))
        api_key.touch()
        return (api_key.user or AnonymousUser(), api_key)

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'
