"""Environment variables, read and checked in one place.

=========================  ==========================================  =====================
variable                   meaning                                     default
=========================  ==========================================  =====================
LMBENCH_MODEL              default model name ("provider/model")       local/gemma-3-270m
LMBENCH_EMBEDDER           default embedding model name                local/all-minilm-l6-v2
LMBENCH_TIMEOUT            read timeout of remote calls, seconds       600
LMBENCH_MAX_RETRIES        retries of a failed remote call             2
LMBENCH_CACHE_DIR          folder of the disk cache                    user cache dir
LMBENCH_CACHE              "on"/"off": the cache as a whole            on
LMBENCH_HISTORY            history backend: memory, jsonl:///p, sqlite:///p   memory
LMBENCH_LOG                level of the "lmbench" logger               WARNING
LMBENCH_DEBUG_PARSE        log every parse repair                      off
LMBENCH_SAVE_RAW           keep raw provider responses in history      off
=========================  ==========================================  =====================

A bad value raises ``ConfigError`` naming the variable, the value and what is accepted.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from lmbench.errors import ConfigError

__all__ = [
    "env_bool",
    "env_float",
    "env_int",
    "env_log_level",
    "env_str",
    "platform_cache_dir",
    "user_cache_dir",
]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(
        f"{name}={value!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off"
    )


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(
            f"{name}={value!r} is not a number: set it to seconds, e.g. {name}=30"
        ) from None
    if number < minimum or number != number:
        raise ConfigError(f"{name}={value!r} must be a number >= {minimum}")
    return number


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number, e.g. {name}=3") from None
    if number < minimum:
        raise ConfigError(f"{name}={value!r} must be a whole number >= {minimum}")
    return number


def env_log_level(name: str = "LMBENCH_LOG", default: str = "WARNING") -> int:
    value = (os.environ.get(name) or default).strip().upper()
    level = logging.getLevelName(value)
    if not isinstance(level, int):
        raise ConfigError(
            f"{name}={value!r} is not a log level: use DEBUG, INFO, WARNING, ERROR or CRITICAL"
        )
    return level


def user_cache_dir() -> Path:
    """``LMBENCH_CACHE_DIR``, else the platform's user cache folder + ``lmbench``."""
    configured = env_str("LMBENCH_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    return platform_cache_dir()


def platform_cache_dir() -> Path:
    """The platform's user cache folder + ``lmbench`` (``~/.cache/lmbench`` on Linux)."""
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif os.uname().sysname == "Darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "lmbench"
