"""Process-wide settings and per-block overrides.

``configure(...)`` changes the settings of the whole process; ``with context(...):`` changes
them for one block, through a ``ContextVar`` so each thread and asyncio task sees its own.
Anything not set falls back to the environment (see ``lmbench.env``) and then the defaults.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, fields, replace
from typing import Any

from lmbench.env import env_bool, env_float, env_int, env_str
from lmbench.errors import ConfigError
from lmbench.lm.base import LM
from lmbench.lm.registry import DEFAULT_MODEL, resolve_lm
from lmbench.private_data import PatternSpec, compile_patterns, read_patterns_from
from lmbench.providers.retry_budget import RetryBudget, parse_retry_budget
from lmbench.secrets import redact as redact_secrets
from lmbench.secrets import redact_text

__all__ = ["Settings", "configure", "context", "current", "get_lm"]


@dataclass(frozen=True)
class Settings:
    """The settings in force. Read them with ``lmbench.settings.current()``."""

    lm: LM | str | None = None
    adapter: Any = None  # an Adapter; None means the default FallbackAdapter(Chat -> JSON)
    cache: bool = True
    rollout_id: Any = None
    run_id: str | None = None  # set by evaluate/batch: history entries carry it
    temperature: float | None = None
    max_tokens: int | None = None
    max_retries: int = 2
    timeout: float = 600.0
    callbacks: tuple[Any, ...] = ()
    history: Any = None  # a collector; None means the process's default memory collector
    retry_budget: RetryBudget | None = field(default_factory=RetryBudget)
    save_raw: bool = False
    redact: tuple[PatternSpec, ...] = ()  # private data out of history files, logs, raw captures
    debug_parse: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def __repr__(self) -> str:
        """Every setting, with no secret (a key in ``extra``, or in a callback's repr)."""
        shown = ", ".join(
            f"{f.name}={redact_secrets(getattr(self, f.name))!r}" for f in fields(self)
        )
        return redact_text(f"Settings({shown})")


def _redact_from_environment() -> tuple[str, ...]:
    text = env_str("LMBENCH_REDACT") or ""
    spec = tuple(part.strip() for part in text.split(",") if part.strip())
    compile_patterns(spec, source="LMBENCH_REDACT")
    return spec


def _from_environment() -> Settings:
    return Settings(
        lm=env_str("LMBENCH_MODEL"),
        cache=env_bool("LMBENCH_CACHE", True),
        max_retries=env_int("LMBENCH_MAX_RETRIES", 2),
        timeout=env_float("LMBENCH_TIMEOUT", 600.0),
        retry_budget=parse_retry_budget(env_str("LMBENCH_RETRY_BUDGET") or "10:1"),
        save_raw=env_bool("LMBENCH_SAVE_RAW"),
        redact=_redact_from_environment(),
        debug_parse=env_bool("LMBENCH_DEBUG_PARSE"),
    )


_FIELD_NAMES = frozenset(f.name for f in fields(Settings))
_global: Settings | None = None
_global_lock = threading.Lock()
_override: ContextVar[Settings | None] = ContextVar("lmbench_settings", default=None)
_lm_cache: dict[str, LM] = {}


def _check(changes: dict[str, Any]) -> None:
    unknown = set(changes) - _FIELD_NAMES
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {sorted(unknown)}; known settings: {sorted(_FIELD_NAMES)}"
        )
    if "lm" in changes and changes["lm"] is not None and not isinstance(changes["lm"], (str, LM)):
        raise ConfigError(
            f"lm={redact_secrets(changes['lm'])!r} is neither a model name like 'openai/gpt-4o-mini' "
            "nor an LM object"
        )
    if "redact" in changes:
        redact = changes["redact"]
        if isinstance(redact, str):
            raise ConfigError(
                f"redact={redact!r} must be a list of patterns, e.g. redact=['email', 'phone', "
                r"r'ACCT-\d{6}']"
            )
        changes["redact"] = tuple(redact or ())
        compile_patterns(changes["redact"])
    budget = changes.get("retry_budget")
    if budget is not None and not isinstance(budget, RetryBudget):
        raise ConfigError(
            f"retry_budget={budget!r} is not a RetryBudget: pass RetryBudget(max_tokens=10, "
            "token_ratio=1) or None to retry without a budget"
        )


def current() -> Settings:
    """The settings in force here: the innermost ``context``, else the global ones."""
    override = _override.get()
    if override is not None:
        return override
    global _global
    if _global is None:
        with _global_lock:
            if _global is None:
                _global = _from_environment()
    return _global


read_patterns_from(lambda: current().redact)


def configure(**changes: Any) -> Settings:
    """Change the process-wide settings, e.g. ``configure(lm="openai/gpt-4o-mini")``."""
    _check(changes)
    global _global
    with _global_lock:
        base = _global if _global is not None else _from_environment()
        _global = base.replace(**changes)
    return _global


@contextlib.contextmanager
def context(**changes: Any) -> Iterator[Settings]:
    """Override settings inside a ``with`` block (this thread / task only)."""
    _check(changes)
    settings = current().replace(**changes)
    token = _override.set(settings)
    try:
        yield settings
    finally:
        _override.reset(token)


def get_lm(lm: LM | str | None = None) -> LM:
    """The LM to use: the argument, else the configured one, else ``LMBENCH_MODEL`` or the default.

    Named models are resolved once per process and shared.
    """
    chosen = lm if lm is not None else current().lm
    if chosen is None:
        chosen = env_str("LMBENCH_MODEL") or DEFAULT_MODEL
    if not isinstance(chosen, str):
        return chosen
    cached = _lm_cache.get(chosen)
    if cached is None:
        cached = _lm_cache.setdefault(chosen, resolve_lm(chosen))
    return cached
