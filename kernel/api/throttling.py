"""Request rates per API key (or staff session) and per anonymous IP address.

Rates come from settings at request time, so they can be changed from the
environment (API_THROTTLE_ANON, API_THROTTLE_KEY) and overridden in tests.

Requests are counted in fixed windows (a minute for "120/minute"): one atomic
increment of a counter in the shared cache per request (with Redis, one round trip
that also sets the counter's expiry). DRF's own throttle keeps
the time of every request in the window, a list as long as the rate, read and
written back whole on each request; a counter costs the same at any rate. The
price: a client may spend one window's allowance at its end and the next one's at
the start of the next.
"""

from django.core.cache import caches
from django_redis.cache import RedisCache
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from kernel.models import ApiKey


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        window = int(self.timer() // self.duration)
        self.window_ends = (window + 1) * self.duration
        return self.count(f"{self.key}:{window}") <= self.num_requests

    def count(self, counter: str) -> int:
        """The window's counter with this request counted."""
        backend = caches["default"]
        if isinstance(backend, RedisCache):
            # INCR and EXPIRE in one transaction: one round trip, where the cache API's
            # incr runs a script (EVAL) and a window's first request takes three.
            client = backend.client
            key = client.make_key(counter)
            transaction = client.get_client(write=True).pipeline()
            return transaction.incr(key).expire(key, self.duration).execute()[0]
        try:
            return self.cache.incr(counter)
        except ValueError:  # the window's first request
            self.cache.add(counter, 0, self.duration)
            return self.cache.incr(counter)

    def wait(self):
        return max(0.0, self.window_ends - self.timer())


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
