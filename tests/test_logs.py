"""The lmbench logger: LMBENCH_LOG sets its level and shows its lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _run(script: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script],
        env={"LMBENCH_CACHE_DIR": str(tmp_path / "cache"), **env},
        capture_output=True,
        text=True,
    )


SCRIPT = (
    "from lmbench.lm import LMRequest, Message, ScriptedLM\n"
    "from lmbench.calls import lm_call\n"
    "with lm_call(ScriptedLM(['x']), LMRequest(messages=(Message('user', 'q'),))) as c:\n"
    "    c.run()\n"
    "    c.set_parse(adapter='ChatAdapter', diagnostics=[{'message': 'fixed a marker'}])\n"
)


def test_lmbench_log_debug_shows_parse_repairs(tmp_path: Path) -> None:
    out = _run(SCRIPT, tmp_path, LMBENCH_LOG="DEBUG")
    assert out.returncode == 0, out.stderr
    assert "DEBUG lmbench: ChatAdapter parse repair: {'message': 'fixed a marker'}" in out.stderr


def test_debug_parse_logs_repairs_at_info(tmp_path: Path) -> None:
    out = _run(SCRIPT, tmp_path, LMBENCH_LOG="INFO", LMBENCH_DEBUG_PARSE="1")
    assert "INFO lmbench: ChatAdapter parse repair" in out.stderr
    quiet = _run(SCRIPT, tmp_path, LMBENCH_LOG="INFO")
    assert "parse repair" not in quiet.stderr


def test_nothing_is_printed_by_default(tmp_path: Path) -> None:
    out = _run(SCRIPT, tmp_path)
    assert out.returncode == 0 and out.stderr == ""


def test_a_bad_level_names_the_variable(tmp_path: Path) -> None:
    out = _run("import lmbench.observe", tmp_path, LMBENCH_LOG="LOUD")
    assert out.returncode != 0
    assert "LMBENCH_LOG='LOUD' is not a log level" in out.stderr
