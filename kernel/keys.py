"""API keys: how they are made and how a presented key is recognised.

Only the SHA-256 of a key is stored, so a copy of the database gives no
working keys; the key itself is shown once, when it is issued.
"""

import hashlib
import secrets

KEY_PREFIX = "tjr_"
# The first characters of a key, kept in clear so staff can tell keys apart.
VISIBLE_CHARS = 12


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)
