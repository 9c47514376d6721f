from __future__ import annotations

import logging
from pathlib import Path

import pytest

from lmbench.env import env_bool, env_float, env_int, env_log_level, user_cache_dir
from lmbench.errors import ConfigError


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("ON", True), ("0", False), ("off", False)]
)
def test_env_bool(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("LMBENCH_X", raw)
    assert env_bool("LMBENCH_X") is expected


def test_env_bool_rejects_other_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMBENCH_SAVE_RAW", "maybe")
    with pytest.raises(ConfigError, match="LMBENCH_SAVE_RAW='maybe' is not a boolean"):
        env_bool("LMBENCH_SAVE_RAW")


def test_env_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMBENCH_TIMEOUT", "12.5")
    assert env_float("LMBENCH_TIMEOUT", 600) == 12.5
    monkeypatch.setenv("LMBENCH_TIMEOUT", "-1")
    with pytest.raises(ConfigError, match="must be a number >= 0"):
        env_float("LMBENCH_TIMEOUT", 600)
    monkeypatch.setenv("LMBENCH_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="LMBENCH_TIMEOUT='soon' is not a number"):
        env_float("LMBENCH_TIMEOUT", 600)
    monkeypatch.delenv("LMBENCH_MAX_RETRIES", raising=False)
    assert env_int("LMBENCH_MAX_RETRIES", 2) == 2
    monkeypatch.setenv("LMBENCH_MAX_RETRIES", "-3")
    with pytest.raises(ConfigError, match=">= 0"):
        env_int("LMBENCH_MAX_RETRIES", 2)


def test_log_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMBENCH_LOG", "debug")
    assert env_log_level() == logging.DEBUG
    monkeypatch.setenv("LMBENCH_LOG", "loud")
    with pytest.raises(ConfigError, match="LMBENCH_LOG='LOUD' is not a log level"):
        env_log_level()


def test_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LMBENCH_CACHE_DIR", str(tmp_path))
    assert user_cache_dir() == tmp_path
    monkeypatch.delenv("LMBENCH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir() == tmp_path / "xdg" / "lmbench"
