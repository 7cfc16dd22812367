"""Logging filters, importable while Django configures logging (before the apps load)."""

import logging
import re

# API keys look like `tjr_` + 43 URL-safe characters (kernel/keys.py).
KEY_SHAPE = re.compile(r"\b(tjr_)[A-Za-z0-9_\-]{8,}")


class RedactKeys(logging.Filter):
    """On the log handlers (settings.LOGGING): a `tjr_…` key in a message becomes
    `tjr_[redacted]`. The registry's own messages never carry a key (requests are
    logged by path); this catches one that a future message might."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = KEY_SHAPE.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
