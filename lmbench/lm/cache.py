"""The response cache: a memory LRU with TTL in front of a disk cache shared by processes.

On by default. ``lmbench.cache.stats()`` counts hits and misses per level in this process,
``lmbench.cache.clear()`` empties both levels. The disk level (``diskcache``, SQLite-backed,
safe for many processes) lives in the ``responses`` folder of ``LMBENCH_CACHE_DIR`` (or of the
user cache folder), read at first use; ``lmbench.cache.reset(directory)`` switches folders (tests use a temporary one).

The disk level stores JSON text of the response as ``lmbench.lm.stored`` writes it (without
``raw``, metadata scrubbed of secrets); the memory level keeps that text decoded once, as a response object, and every hit
returns a fresh copy of it: mutating a returned response never alters the cache.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import EllipsisType
from typing import Any, Literal

from lmbench.env import user_cache_dir
from lmbench.forked import renew_after_fork
from lmbench.lm.stored import LM_RESPONSES, Codec
from lmbench.logs import warn
from lmbench.once import Once
from lmbench.storable import storable_json

__all__ = ["CacheLevel", "CacheStats", "ResponseCache", "cache", "get_cache", "reset_cache"]

CacheLevel = Literal["memory", "disk"]

DEFAULT_MEMORY_SIZE = 10_000
DEFAULT_MEMORY_TTL = 3600.0
DEFAULT_DISK_SIZE_LIMIT = 2**30


class _MemoryLRU:
    """A thread-safe LRU of responses whose entries expire ``ttl`` seconds after they are stored."""

    def __init__(self, maxsize: int, ttl: float | None) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self._data: OrderedDict[str, tuple[Any, float]] = OrderedDict()
        self._lock = threading.Lock()
        renew_after_fork(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # never one another thread held at the fork

    def get(self, key: str) -> Any:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            value, expires = item
            if expires and expires < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def put(self, key: str, value: Any) -> None:
        expires = time.monotonic() + self.ttl if self.ttl else 0.0
        with self._lock:
            self._data[key] = (value, expires)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True)
class CacheStats:
    """Hits and misses per level in this process since the cache was created or reset."""

    memory_hits: int
    memory_misses: int
    disk_hits: int
    disk_misses: int
    writes: int
    memory_entries: int
    disk_entries: int | None
    directory: str | None

    @property
    def hits(self) -> int:
        return self.memory_hits + self.disk_hits

    @property
    def misses(self) -> int:
        """Lookups that found nothing at any level."""
        return self.disk_misses if self.directory is not None else self.memory_misses

    def to_dict(self) -> dict[str, Any]:
        return {
            "memory": {"hits": self.memory_hits, "misses": self.memory_misses},
            "disk": {"hits": self.disk_hits, "misses": self.disk_misses},
            "writes": self.writes,
            "memory_entries": self.memory_entries,
            "disk_entries": self.disk_entries,
            "directory": self.directory,
        }

    def __str__(self) -> str:
        return (
            f"cache: {self.hits} hits ({self.memory_hits} memory, {self.disk_hits} disk), "
            f"{self.misses} misses, {self.writes} writes; {self.memory_entries} in memory, "
            f"{self.disk_entries if self.disk_entries is not None else 'no'} on disk"
            + (f" at {self.directory}" if self.directory else "")
        )


def _encode(response: Any, codec: Codec[Any]) -> str:
    return storable_json(codec.encode(response), default=str)


# What a stored value of the wrong shape raises when decoded: not JSON, JSON that is not a
# response object, or an object whose fields are not a response's.
_DAMAGED = (ValueError, TypeError, KeyError, AttributeError)
_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def _decode(text: str, codec: Codec[Any]) -> Any:
    data = json.loads(text)
    if not isinstance(data, dict):
        kind = _JSON_KINDS.get(type(data), "null")
        raise ValueError(f"a JSON {kind}, not a response object")
    return codec.decode(data)


class ResponseCache:
    """Two levels: memory (this process) then disk (every process using ``directory``).

    ``directory=None`` keeps the cache in memory only.
    """

    def __init__(
        self,
        directory: str | Path | None,
        *,
        memory_size: int = DEFAULT_MEMORY_SIZE,
        memory_ttl: float | None = DEFAULT_MEMORY_TTL,
        disk_size_limit: int = DEFAULT_DISK_SIZE_LIMIT,
    ) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.disk_size_limit = disk_size_limit
        self._memory = _MemoryLRU(memory_size, memory_ttl)
        self._disk: Any = None
        self._disk_failed = False
        self._reported: set[str] = set()  # keys whose damaged value was reported
        self._open_lock = threading.Lock()
        self._counts = {
            "memory_hits": 0,
            "memory_misses": 0,
            "disk_hits": 0,
            "disk_misses": 0,
            "writes": 0,
        }

    # -- disk level, opened at first use ------------------------------------------------
    def _disk_cache(self) -> Any:
        if self._disk is not None or self._disk_failed or self.directory is None:
            return self._disk
        with self._open_lock:
            if self._disk is None and not self._disk_failed:
                try:
                    import diskcache

                    self.directory.mkdir(parents=True, exist_ok=True)
                    self._disk = diskcache.Cache(
                        str(self.directory), size_limit=self.disk_size_limit
                    )
                except Exception as exc:
                    self._disk_failed = True
                    _warn_disk(
                        f"cannot open the disk cache at {self.directory} ({exc}); "
                        "caching in memory only. Set LMBENCH_CACHE_DIR to a writable folder."
                    )
        return self._disk

    # -- lookups ---------------------------------------------------------------------------
    def get(self, key: str, codec: Codec[Any] = LM_RESPONSES) -> tuple[Any, CacheLevel] | None:
        """A fresh copy of the cached response and the level that held it, or None.

        ``codec`` reads and copies the kind of response stored under ``key`` (LM responses
        by default).
        """
        stored = self._memory.get(key)
        if stored is not None:
            self._counts["memory_hits"] += 1
            return codec.copy(stored), "memory"
        self._counts["memory_misses"] += 1
        disk = self._disk_cache()
        if disk is None:
            return None
        try:
            text = disk.get(key)
        except Exception as exc:
            _warn_disk(f"disk cache read failed at {self.directory} ({exc}); treated as a miss")
            text = None
        if text is None:
            self._counts["disk_misses"] += 1
            return None
        try:
            stored = _decode(text, codec)
        except _DAMAGED as exc:
            self._damaged(key, exc)
            self._counts["disk_misses"] += 1
            return None
        self._counts["disk_hits"] += 1
        self._memory.put(key, stored)
        return codec.copy(stored), "disk"

    def _damaged(self, key: str, exc: Exception) -> None:
        """A stored value that cannot be read: dropped (the next answer takes its place),
        reported once per key."""
        with contextlib.suppress(Exception):  # else the next put overwrites it
            self._disk.delete(key)
        if key in self._reported:
            return
        self._reported.add(key)
        _warn_disk(
            f"disk cache entry {key[:16]}... at {self.directory} is damaged "
            f"({type(exc).__name__}: {exc}); treated as a miss, the new answer replaces it"
        )

    def put(self, key: str, response: Any, codec: Codec[Any] = LM_RESPONSES) -> None:
        self.put_many([(key, response)], codec)

    def put_many(self, items: Iterable[tuple[str, Any]], codec: Codec[Any] = LM_RESPONSES) -> None:
        """Store several responses, written to disk in one transaction (embedding batches
        store one vector a text)."""
        texts: list[tuple[str, str]] = []
        for key, response in items:
            text = _encode(response, codec)
            self._memory.put(key, _decode(text, codec))
            texts.append((key, text))
        self._counts["writes"] += len(texts)
        disk = self._disk_cache()
        if disk is None or not texts:
            return
        try:
            if len(texts) == 1:
                disk.set(*texts[0])
                return
            with disk.transact():
                for key, text in texts:
                    disk.set(key, text)
        except Exception as exc:
            _warn_disk(f"disk cache write failed at {self.directory} ({exc}); kept in memory only")

    # -- management ------------------------------------------------------------------------
    def stats(self) -> CacheStats:
        disk = self._disk_cache()
        return CacheStats(
            **self._counts,
            memory_entries=len(self._memory),
            disk_entries=len(disk) if disk is not None else None,
            directory=str(self.directory) if self.directory is not None else None,
        )

    def clear(self) -> None:
        """Empty both levels (the disk level for every process sharing the folder)."""
        self._memory.clear()
        disk = self._disk_cache()
        if disk is not None:
            disk.clear()

    def close(self) -> None:
        if self._disk is not None:
            self._disk.close()
            self._disk = None


def _warn_disk(message: str) -> None:
    warn(message)


def _default_directory() -> Path:
    return user_cache_dir() / "responses"


_cache: Once[ResponseCache] = Once(lambda: ResponseCache(_default_directory()))


def get_cache() -> ResponseCache:
    """The process's response cache, created at first use in ``LMBENCH_CACHE_DIR``/responses."""
    return _cache.get()


def reset_cache(directory: str | Path | EllipsisType | None = ..., **options: Any) -> ResponseCache:
    """Close the current cache and start a new one.

    ``directory`` is the disk folder (``None``: memory only); left out, it is read again from
    ``LMBENCH_CACHE_DIR``. ``options`` are ``ResponseCache``'s (``memory_size``,
    ``memory_ttl``, ``disk_size_limit``).
    """

    def fresh(current: ResponseCache | None) -> ResponseCache:
        if current is not None:
            current.close()
        folder = _default_directory() if directory is ... else directory
        return ResponseCache(folder, **options)

    return _cache.replace(fresh)


class _CacheHandle:
    """``lmbench.cache``: the process's response cache, by what users do with it."""

    def stats(self) -> CacheStats:
        return get_cache().stats()

    def clear(self) -> None:
        get_cache().clear()

    def reset(
        self, directory: str | Path | EllipsisType | None = ..., **options: Any
    ) -> ResponseCache:
        return reset_cache(directory, **options)

    @property
    def directory(self) -> Path | None:
        return get_cache().directory

    def __repr__(self) -> str:
        return f"<lmbench.cache {get_cache().stats()}>"


cache = _CacheHandle()
