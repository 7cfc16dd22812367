"""`Authorization: Token <key>` authentication against the registry's API keys."""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from kernel.api import caching
from kernel.keys import hash_key
from kernel.models import ApiKey


class KeyLookup:
    """A presented key's row, kept in the shared cache at the registry generation it was
    read at (kernel/api/caching.py), so a partner's repeated reads need no database:
    any committed write of a key (issue, revocation, deletion) moves the generation on,
    and a row kept at an older one is not used. On whenever the API cache is
    (`API_CACHE_SECONDS`, with a shared cache); kept as long as an answer.

    The generation is taken before the database is read: a revocation committed after
    that moves the generation past the one the row is kept at. The key's holder is not
    kept: a staff key's user is read from the database, so deactivating the user takes
    effect at once."""

    def __init__(self, presented: str):
        self.presented = presented
        self.key = "api-key:" + hash_key(presented) if settings.API_CACHE_SECONDS else None
        self.generation = None

    def find(self) -> ApiKey | None:
        if self.key is None:
            return ApiKey.objects.find(self.presented)
        self.generation, row = caching.kept(self.key)
        if row is not None:
            return ApiKey.from_db(ApiKey.objects.db, *row)
        api_key = ApiKey.objects.find(self.presented)
        if api_key is not None:
            self.keep(api_key)
        return api_key

    def keep(self, api_key: ApiKey) -> None:
        if self.key is not None:
            fields = ApiKey._meta.concrete_fields
            row = [f.attname for f in fields], [getattr(api_key, f.attname) for f in fields]
            caching.keep(self.key, self.generation, row)


class ApiKeyAuthentication(BaseAuthentication):
    """A partner organisation's key acts as an anonymous caller with partner visibility;
    a staff key acts as its user. A bad, revoked or expired key answers 401, never
    a silent downgrade to anonymous, so a partner notices at once; so does a key sent
    where it is not read (another scheme such as `Bearer`, or `api_key` in the query
    string, which only the OGC service takes), with the form that is read."""

    keyword = "Token"
    # The query parameter GIS tools put the key in (deposits/ogc/views.py reads it).
    query_parameter = "api_key"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if parts:
            return self.authenticate_header_key(parts)
        if self.query_parameter in request.query_params:
            return self.authenticate_query_key(request)
        return None

    def authenticate_header_key(self, parts: list[bytes]):
        if parts[0].lower() != self.keyword.lower().encode() or len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Give the key as 'Authorization: Token <key>' (the scheme is Token, and "
                  "the key has no spaces).")
            )  # fmt: skip
        try:
            presented = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from None
        return self.authenticate_credentials(presented)

    def authenticate_query_key(self, request):
        """The REST API reads no key from the query string (it would end up in logs)."""
        raise exceptions.AuthenticationFailed(
            _("This API reads the key from the header 'Authorization: Token <key>', not "
              "from the api_key parameter.")
        )  # fmt: skip

    def authenticate_credentials(self, presented: str):
        """(user, key) for a presented key, or 401; also used by the OGC service's `api_key`."""
        lookup = KeyLookup(presented)
        api_key = lookup.find()
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        if not api_key.is_active:
            raise exceptions.AuthenticationFailed(_("This API key is revoked or has expired."))
        if api_key.user_id is not None and not api_key.user.is_active:
            raise exceptions.AuthenticationFailed(_("The user of this API key is inactive."))
        if api_key.touch():
            lookup.keep(api_key)  # with its new last use, so the next request need not write
        return (api_key.user or AnonymousUser(), api_key)

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'
