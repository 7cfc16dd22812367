"""Small helpers that read settings from the environment (one place, typed)."""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {value!r}")


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from exc


def env_seconds(name: str, default: float) -> float:
    """A duration in seconds, 0 or more (a decimal fraction allowed)."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return _seconds(name, value)


def env_seconds_list(name: str, default: list[str]) -> list[float]:
    """Durations in seconds, separated by commas (`env_list`), each 0 or more."""
    return [_seconds(name, item) for item in env_list(name, default)]


def _seconds(name: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is None or not 0 <= seconds < float("inf"):
        raise ImproperlyConfigured(f"{name} must be a number of seconds, 0 or more, not {value!r}")
    return seconds
