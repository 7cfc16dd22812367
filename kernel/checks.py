"""System checks of the registry's own deployment needs (`manage.py check --deploy`)."""

from django.core.cache import caches
from django.core.checks import Tags, Warning, register
from django_redis.cache import RedisCache


@register(Tags.caches, deploy=True)
def shared_cache(app_configs=None, **kwargs):
    """Production runs several processes: without a cache they share, each counts API
    throttles on its own (a caller gets the rate once per worker) and the API cache is off."""
    if isinstance(caches["default"], RedisCache):
        return []
    return [
        Warning(
            "The cache is not shared between the server's processes: each worker counts "
            "API throttles on its own, and API answers and keys are not cached.",
            hint="Set REDIS_URL, e.g. redis://127.0.0.1:6379/0 (docs/deployment.md).",
            id="registry.W001",
        )
    ]
