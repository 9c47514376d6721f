"""notebooks/replays/make_recording.py reproduces the committed recording notebook 04 replays."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "notebooks" / "replays" / "make_recording.py"
COMMITTED = REPO / "notebooks" / "replays" / "04-providers.jsonl"
FIXTURES = REPO.parent / "shared" / "fixtures" / "providers"

pytestmark = [pytest.mark.slow, pytest.mark.local_model]


def _responses(path: Path) -> dict[str, tuple[str, list[str], dict[str, int]]]:
    """key -> (model, reply texts, usage): later lines win, as when the file is played."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        response = item["response"]
        out[item["key"]] = (item["model"], response["texts"], response["usage"])
    return out


def test_the_script_reproduces_the_committed_recording(tmp_path: Path) -> None:
    if not FIXTURES.is_dir():
        pytest.skip(f"recorded provider exchanges not found at {FIXTURES} (../shared/fixtures)")
    output = tmp_path / "04-providers.jsonl"

    subprocess.run([sys.executable, str(SCRIPT), "--output", str(output)], check=True, timeout=900)

    made, committed = _responses(output), _responses(COMMITTED)
    assert made.keys() == committed.keys(), "the notebook's requests changed: run the script again"
    assert made == committed
    models = {model for model, _texts, _usage in made.values()}
    assert {"openai/gpt-4o", "anthropic/claude-sonnet-4-5", "gemini/gemini-2.0-flash"} <= models
    assert "openrouter/anthropic/claude-sonnet-4.5" in models
    assert not any("placeholder-key" in line for line in output.read_text().splitlines())
