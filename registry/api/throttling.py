"""Request rates per API key (or staff session) and per anonymous IP address.

Rates come from settings at request time, so they can be changed from the
environment (API_THROTTLE_ANON, API_THROTTLE_KEY) and overridden in tests.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from registry.models import ApiKey


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class ApiKeyRateThrottle(_SettingsRateThrottle):
    scope = "key"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            ident = f"key-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(_SettingsRateThrottle):
    scope = "anon"

    def get_cache_key(self, request, view):
        if request.auth is not None or (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
