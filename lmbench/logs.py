"""The ``lmbench`` logger: level from ``LMBENCH_LOG``, parse repairs from ``LMBENCH_DEBUG_PARSE``.

The library only adds a ``NullHandler``, as libraries should; setting ``LMBENCH_LOG`` also
attaches a stderr handler, so ``LMBENCH_LOG=DEBUG python app.py`` shows the logs without
any ``logging`` setup in the application.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Hashable, Iterable
from typing import Any

from lmbench.env import env_log_level
from lmbench.private_data import private_data_filter
from lmbench.secrets import redact_text, redacting_filter

__all__ = [
    "configure_logging",
    "get_logger",
    "log_parse_diagnostics",
    "logger",
    "warn",
    "warn_once",
]


def get_logger(name: str = "lmbench") -> logging.Logger:
    """An ``lmbench`` logger whose records carry no secret (``lmbench.secrets``) and no
    private data when redaction is on (``lmbench.private_data``): every module logs through
    one of these."""
    named = logging.getLogger(name)
    for kept_out in (redacting_filter, private_data_filter):
        if kept_out not in named.filters:
            named.addFilter(kept_out)
    return named


logger = get_logger()
logger.addHandler(logging.NullHandler())

_stream_handler: logging.Handler | None = None


def configure_logging() -> None:
    """Apply ``LMBENCH_LOG`` (if set) to the ``lmbench`` logger. Safe to call more than once."""
    global _stream_handler
    if not os.environ.get("LMBENCH_LOG", "").strip():
        return
    logger.setLevel(env_log_level())
    if _stream_handler is None:
        _stream_handler = logging.StreamHandler()
        _stream_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(_stream_handler)


def warn(message: str, *, category: type[Warning] = RuntimeWarning) -> None:
    """Report a problem that lost nothing but needs attention: a log line and a ``warnings``
    warning (neither carries a secret)."""
    message = redact_text(message)
    logger.warning(message)
    warnings.warn(message, category, stacklevel=3)


_warned: set[Hashable] = set()


def warn_once(key: Hashable, message: str) -> None:
    """``warn``, the first time only for ``key`` in this process (later ones are logged at
    DEBUG): for a problem every call of a model would report again."""
    if key in _warned:
        logger.debug(message)
        return
    _warned.add(key)
    logger.warning(message)
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def log_parse_diagnostics(
    adapter: str, diagnostics: Iterable[dict[str, Any]], *, verbose: bool
) -> None:
    """Log each parse repair: at INFO with ``debug_parse`` on, at DEBUG otherwise."""
    level = logging.INFO if verbose else logging.DEBUG
    if not logger.isEnabledFor(level):
        return
    for diagnostic in diagnostics:
        logger.log(level, "%s parse repair: %s", adapter, diagnostic)
