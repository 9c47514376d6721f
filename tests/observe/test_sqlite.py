"""SQLite history: schema and migrations, concurrent writers, a locked file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from lmbench.calls import lm_call, module_call
from lmbench.errors import ConfigError
from lmbench.lm import LMRequest, Message, ScriptedLM
from lmbench.observe import SQLiteCollector, load_history
from lmbench.observe import sqlite as sqlite_module
from lmbench.settings import context

WRITER = Path(__file__).with_name("writer.py")
CALLS_PER_THREAD = 25


def _call(text: str) -> None:
    with lm_call(ScriptedLM([text]), LMRequest(messages=(Message("user", "q"),))) as call:
        call.run()


def test_schema_wal_and_indexes(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    collector = SQLiteCollector(path)
    with context(history=collector), module_call("Predict"):
        _call("stored")
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == sqlite_module.SCHEMA_VERSION == 1
    indexes = {row[1] for row in db.execute("PRAGMA index_list(entries)")}
    assert {"entries_timestamp", "entries_model", "entries_module"} <= indexes
    rows = db.execute(
        "SELECT kind, module, model, provider, cache FROM entries ORDER BY timestamp"
    ).fetchall()
    assert rows == [
        ("module", "Predict", None, None, "off"),
        ("lm", "Predict", "test", "scripted", "off"),
    ]
    db.close()
    assert [e.text for e in collector.entries() if e.kind == "lm"] == ["stored"]
    collector.close()


def test_migrations_run_in_order_and_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "h.db"
    SQLiteCollector(path).close()
    SQLiteCollector(path)._db()  # reopening an up-to-date file changes nothing
    step = "ALTER TABLE entries ADD COLUMN note TEXT; CREATE INDEX entries_note ON entries (note)"
    monkeypatch.setattr(sqlite_module, "_MIGRATIONS", (*sqlite_module._MIGRATIONS, step))
    monkeypatch.setattr(sqlite_module, "SCHEMA_VERSION", 2)
    collector = SQLiteCollector(path)
    with context(history=collector):
        _call("after upgrade")
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    assert "note" in {row[1] for row in db.execute("PRAGMA table_info(entries)")}
    db.close()
    collector.close()


def test_a_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    SQLiteCollector(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(RuntimeError, match="schema version 99 is newer"):
        SQLiteCollector(path)._db()


def test_two_processes_of_eight_threads_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    processes = [
        subprocess.Popen(
            [sys.executable, str(WRITER), "sqlite", str(path), tag, str(CALLS_PER_THREAD)]
        )
        for tag in ("p0", "p1")
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0
    entries = load_history(path).entries()
    prompts = [e.messages[-1].text for e in entries]
    expected = {
        f"{tag}-{t}-{i}" for tag in ("p0", "p1") for t in range(8) for i in range(CALLS_PER_THREAD)
    }
    assert len(prompts) == len(expected)
    assert set(prompts) == expected
    assert len(SQLiteCollector(path)) == 2 * len(expected)  # with the module entries


def test_a_locked_file_warns_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    collector = SQLiteCollector(path, timeout=0.05)
    with context(history=collector):
        _call("before the lock")
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        with pytest.warns(
            RuntimeWarning, match=r"h\.db is not writable now .*1 entry kept in memory"
        ):
            _call("while locked")
        assert [e.text for e in collector.entries()] == ["before the lock", "while locked"]
        blocker.execute("COMMIT")
        blocker.close()
        _call("after the lock")
    collector.close()
    assert [e.text for e in load_history(path).entries()] == [
        "before the lock",
        "while locked",
        "after the lock",
    ]


def test_clear_empties_the_table(tmp_path: Path) -> None:
    collector = SQLiteCollector(tmp_path / "h.db")
    with context(history=collector):
        _call("gone")
    assert len(collector) == 1
    collector.clear()
    assert len(collector) == 0 and collector.entries() == []
    collector.close()


def _written(tmp_path: Path, calls: int = 200) -> Path:
    path = tmp_path / "h.db"
    collector = SQLiteCollector(path)
    with context(history=collector):
        for i in range(calls):
            _call(f"answer {i} " + "x" * 400)
    collector.close()
    for side in ("-wal", "-shm"):
        Path(f"{path}{side}").unlink(missing_ok=True)
    return path


@pytest.mark.parametrize("damage", ["truncated", "garbled", "header"])
def test_a_damaged_database_is_one_clear_error_naming_the_file(tmp_path: Path, damage: str) -> None:
    path = _written(tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "garbled":
        data[100:4000] = bytes(range(256)) * 15 + bytes(60)
    else:
        data[:16] = b"garbage garbage!"
    path.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="is damaged") as info:
        load_history(path)
    assert str(path) in str(info.value)
    assert "JSONL" not in str(info.value) or damage == "header"


def test_a_database_cut_inside_its_header_is_not_read_as_jsonl(tmp_path: Path) -> None:
    path = _written(tmp_path, calls=1)
    path.write_bytes(path.read_bytes()[:10])
    with pytest.raises(ConfigError, match=f"history file {path} is damaged"):
        load_history(path)


def test_a_collector_on_a_damaged_file_warns_once_and_calls_go_on(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    collector = SQLiteCollector(path)
    with pytest.warns(RuntimeWarning) as warned, context(history=collector):
        for text in ("one", "two", "three"):
            _call(text)
        entries = collector.entries()
        assert len(collector) == len(entries) == 3  # kept in memory
    damaged = [str(w.message) for w in warned if "is damaged" in str(w.message)]
    assert len(damaged) == 1 and str(path) in damaged[0]
    assert [e.text for e in entries] == ["one", "two", "three"]
