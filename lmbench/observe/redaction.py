"""Secrets out of everything observability writes (history entries, traces, cache keys).

The redaction set lives in one place, ``lmbench.providers.secrets``; this module is where
the observability layer (and the replay recorder) reach it.
"""

from __future__ import annotations

from lmbench.providers.secrets import REDACTED, redact

__all__ = ["REDACTED", "redact"]
