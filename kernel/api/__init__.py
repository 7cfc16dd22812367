"""Plumbing shared by every app's REST API (v1): keys, paging, formats, errors, throttles."""
