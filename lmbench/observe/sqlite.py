"""``SQLiteCollector``: history in an SQLite file shared by threads and processes.

WAL mode (readers never wait for writers), a busy timeout for concurrent writers, a schema
versioned with ``PRAGMA user_version`` and upgraded by ``_MIGRATIONS`` in order, and indexes
on time, model and module. Queryable columns sit beside the full entry as JSON (``data``).
When the file stays locked past the timeout, entries wait in memory with a warning and are
written with the next one, so nothing is lost. A damaged file (truncated, garbled, not a
database) is reported once as damaged, naming it: the collector keeps entries in memory and
calls go on; ``read_sqlite`` raises one ``ConfigError`` saying so.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from lmbench.errors import ConfigError
from lmbench.forked import renew_after_fork
from lmbench.logs import warn
from lmbench.observe.collectors import Collector
from lmbench.observe.entry import HistoryEntry, entry_to_json

__all__ = ["SQLiteCollector", "read_sqlite"]

# Each step upgrades the schema by one version; never edit a released step, add one.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE entries (
        call_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        timestamp REAL NOT NULL,
        session_id TEXT,
        root_id TEXT,
        parent_id TEXT,
        module TEXT,
        signature TEXT,
        provider TEXT,
        model TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cost_usd REAL,
        latency_s REAL,
        cache TEXT,
        error TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX entries_timestamp ON entries (timestamp);
    CREATE INDEX entries_model ON entries (model);
    CREATE INDEX entries_module ON entries (module);
    """,
)

SCHEMA_VERSION = len(_MIGRATIONS)

_INSERT = (
    "INSERT OR REPLACE INTO entries (call_id, kind, timestamp, session_id, root_id, parent_id, "
    "module, signature, provider, model, input_tokens, output_tokens, cost_usd, latency_s, cache, "
    "error, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _row(entry: HistoryEntry) -> tuple[object, ...]:
    return (
        entry.call_id,
        entry.kind,
        entry.timestamp,
        entry.session_id,
        entry.root_id,
        entry.parent_id,
        entry.module,
        entry.signature,
        entry.provider,
        entry.model,
        entry.usage.input_tokens,
        entry.usage.output_tokens,
        entry.cost_usd,
        entry.latency_s,
        entry.cache,
        entry.error,
        entry_to_json(entry),
    )


def _migrate(connection: sqlite3.Connection) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"history database schema version {version} is newer than this lmbench "
                f"understands ({SCHEMA_VERSION}); upgrade lmbench to write to it"
            )
        for step in _MIGRATIONS[version:]:
            for statement in filter(str.strip, step.split(";")):
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def damaged_error(path: Path | str, exc: sqlite3.DatabaseError) -> ConfigError:
    """The error for a history database SQLite cannot read (``exc`` says why)."""
    return ConfigError(
        f"history database {path} is damaged ({exc}): it is truncated, garbled or not an "
        "SQLite file. Move it aside (lmbench starts a new one) or restore it from a backup"
    )


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    """A damaged file, as opposed to one that is busy now (locked: try again later)."""
    return not isinstance(exc, sqlite3.OperationalError)


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    connection = sqlite3.connect(
        path, timeout=timeout, isolation_level=None, check_same_thread=False
    )
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    _migrate(connection)
    return connection


class SQLiteCollector(Collector):
    """History in the SQLite file at ``path``; ``timeout`` is how long a write waits for a lock."""

    def __init__(self, path: str | Path, *, timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._pending: list[HistoryEntry] = []
        self._connection: sqlite3.Connection | None = None
        self._damage_reported = False
        renew_after_fork(self)

    def _after_fork(self) -> None:
        """A forked child gets a lock and (at its first write) a connection of its own; the
        parent's unsaved entries stay the parent's to write."""
        self._lock = threading.Lock()
        self._connection = None
        self._pending = []

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:  # a forked child starts without one (``_after_fork``)
            self._connection = _connect(self.path, self.timeout)
        return self._connection

    def add(self, entry: HistoryEntry) -> None:
        with self._lock:
            self._pending.append(entry)
            try:
                db = self._db()
                db.executemany(_INSERT, [_row(e) for e in self._pending])
            except sqlite3.DatabaseError as exc:
                count = len(self._pending)
                self._warn_error(
                    exc,
                    damaged="entries are kept in memory only",
                    otherwise=f"is not writable now ({exc}); {count} "
                    f"entr{'y' if count == 1 else 'ies'} kept in memory and written with the "
                    "next entry",
                )
                return
            self._pending.clear()

    def _warn_error(self, exc: sqlite3.DatabaseError, *, damaged: str, otherwise: str) -> None:
        """Warn about a failed read or write: ``damaged`` is what a damaged file means for it
        (said once), ``otherwise`` what a passing error (a lock, a full disk) means."""
        if _is_damage(exc):
            self._report_damage(exc, damaged)
        else:
            warn(f"history database {self.path} {otherwise}")

    def _report_damage(self, exc: sqlite3.DatabaseError, consequence: str) -> None:
        """Warn once per collector that the file is damaged (every call would hit it again)."""
        if not self._damage_reported:
            self._damage_reported = True
            warn(f"{damaged_error(self.path, exc)}; {consequence}")

    def entries(self) -> list[HistoryEntry]:
        with self._lock:
            try:
                rows = (
                    self._db()
                    .execute("SELECT data FROM entries ORDER BY timestamp, rowid")
                    .fetchall()
                )
            except sqlite3.DatabaseError as exc:
                self._warn_error(
                    exc,
                    damaged="showing this process's unsaved entries only",
                    otherwise=f"cannot be read now ({exc}); showing unsaved entries only",
                )
                rows = []
            pending = list(self._pending)
        return [HistoryEntry.from_dict(json.loads(data)) for (data,) in rows] + pending

    def __len__(self) -> int:
        with self._lock:
            try:
                count = self._db().execute("SELECT count(*) FROM entries").fetchone()[0]
            except sqlite3.DatabaseError as exc:
                self._warn_error(
                    exc,
                    damaged="counting this process's unsaved entries only",
                    otherwise=f"cannot be read now ({exc}); counting unsaved entries only",
                )
                count = 0
            return int(count) + len(self._pending)

    def clear(self) -> None:
        with self._lock:
            try:
                self._db().execute("DELETE FROM entries")
            except sqlite3.DatabaseError as exc:
                if _is_damage(exc):
                    raise damaged_error(self.path, exc) from None
                raise
            self._pending.clear()

    def close(self) -> None:
        with self._lock:
            if self._pending:
                try:
                    self._db().executemany(_INSERT, [_row(e) for e in self._pending])
                    self._pending.clear()
                except sqlite3.DatabaseError as exc:
                    warn(
                        f"history database {self.path} still locked or damaged at close "
                        f"({exc}); {len(self._pending)} entries were not saved"
                    )
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __repr__(self) -> str:
        return f"<SQLiteCollector {self.path}>"


def read_sqlite(path: str | Path) -> list[HistoryEntry]:
    """Every entry in an SQLite history file, oldest first (opened read-only)."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    connection = sqlite3.connect(uri, uri=True)
    try:
        rows = connection.execute("SELECT data FROM entries ORDER BY timestamp, rowid").fetchall()
    except sqlite3.DatabaseError as exc:
        if _is_damage(exc):
            raise damaged_error(path, exc) from None
        raise
    finally:
        connection.close()
    return [HistoryEntry.from_dict(json.loads(data)) for (data,) in rows]
