"""``JSONLCollector``: one JSON object a line, appended by any number of threads and processes.

Each entry is written with a single ``write()`` on a file opened with ``O_APPEND``, so lines
from concurrent writers never interleave or tear. Rotation by size takes a lock file
(``<path>.lock``) so exactly one writer renames ``path`` to ``path.1`` (``.1`` to ``.2``...);
writers that still hold the old file keep appending to it under its new name, and notice the
rotation at their next write (the inode behind the path changed), so no line is lost.
Reading skips a corrupted line with a warning naming the file and line, and keeps the rest.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from lmbench.errors import ConfigError
from lmbench.forked import renew_after_fork
from lmbench.logs import warn
from lmbench.observe._filelock import locked
from lmbench.observe.collectors import Collector
from lmbench.observe.entry import HistoryEntry, entry_to_json

__all__ = ["JSONLCollector", "read_jsonl"]

_ENTRY_START = '{"kind":'


class JSONLCollector(Collector):
    """Append-only JSONL history at ``path``, rotated past ``max_bytes`` (keeping ``backups`` files)."""

    def __init__(
        self, path: str | Path, *, max_bytes: int | None = 64 * 2**20, backups: int = 3
    ) -> None:
        if backups < 1:
            raise ConfigError(f"JSONLCollector backups={backups} must be at least 1")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._inode: int | None = None
        renew_after_fork(self)

    def _after_fork(self) -> None:
        """A forked child gets a lock of its own (the appending descriptor is fine to share)."""
        self._lock = threading.Lock()

    def _open(self) -> int:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._inode = os.fstat(self._fd).st_ino
        return self._fd

    def _current_fd(self) -> int:
        """Our descriptor, reopened if another writer rotated or cleared the file."""
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            inode = None
        if self._fd is None or inode != self._inode:
            return self._open()
        return self._fd

    def _rotate_if_full(self, fd: int, incoming: int) -> int:
        if self.max_bytes is None or os.fstat(fd).st_size + incoming <= self.max_bytes:
            return fd
        with locked(self._lock_path):
            fd = self._current_fd()
            if os.fstat(fd).st_size + incoming <= self.max_bytes:
                return fd  # another writer rotated first
            for number in range(self.backups - 1, 0, -1):
                older = self._backup(number)
                if older.exists():
                    os.replace(older, self._backup(number + 1))
            os.replace(self.path, self._backup(1))
            return self._open()

    @property
    def _lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def _backup(self, number: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{number}")

    def add(self, entry: HistoryEntry) -> None:
        line = (entry_to_json(entry) + "\n").encode("utf-8")
        with self._lock:
            fd = self._rotate_if_full(self._current_fd(), len(line))
            written = os.write(fd, line)
            while written < len(line):  # only on a full disk or a signal; keep the rest
                written += os.write(fd, line[written:])

    def files(self) -> list[Path]:
        """The history files, oldest first."""
        backups = [self._backup(n) for n in range(self.backups, 0, -1)]
        return [p for p in [*backups, self.path] if p.exists()]

    def entries(self) -> list[HistoryEntry]:
        out: list[HistoryEntry] = []
        for path in self.files():
            out.extend(read_jsonl(path))
        return out

    def clear(self) -> None:
        with self._lock, locked(self._lock_path):
            for path in self.files():
                if path != self.path:
                    path.unlink(missing_ok=True)
            os.close(os.open(self.path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644))

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __repr__(self) -> str:
        return f"<JSONLCollector {self.path}>"


# What a line of the wrong shape raises: not JSON, JSON that is not an object, or an object
# whose fields are not what an entry holds.
_DAMAGED = (ValueError, KeyError, TypeError, AttributeError)
_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
_JSON_KINDS[type(None)] = "null"


def _decode_line(line: str) -> HistoryEntry:
    data = json.loads(line)
    if not isinstance(data, dict):
        kind = _JSON_KINDS.get(type(data), type(data).__name__)
        raise ValueError(f"a JSON {kind}, not an entry object")
    return HistoryEntry.from_dict(data)


def _recover(line: str) -> HistoryEntry | None:
    """A torn line followed by a whole entry (a writer died mid-line): keep the whole one."""
    start = line.rfind(_ENTRY_START)
    if start <= 0:
        return None
    try:
        return _decode_line(line[start:])
    except _DAMAGED:
        return None


def _iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def read_jsonl(path: str | Path) -> list[HistoryEntry]:
    """Every entry in one JSONL history file; bad lines are skipped with a warning."""
    path = Path(path)
    out: list[HistoryEntry] = []
    for number, line in _iter_lines(path):
        try:
            out.append(_decode_line(line))
        except _DAMAGED as exc:
            recovered = _recover(line)
            if recovered is not None:
                out.append(recovered)
            warn(
                f"history file {path} line {number} is corrupted ({type(exc).__name__}: {exc}); "
                + ("kept the whole entry found after the torn part" if recovered else "skipped it")
                + ", every other line was read"
            )
    return out
