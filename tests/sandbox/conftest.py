"""Sandbox fixtures beyond the shared ``sandbox`` of tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lmbench.sandbox import Sandbox


@pytest.fixture
def fresh_sandbox(sandbox: Sandbox) -> Iterator[Sandbox]:
    """A sandbox of the test's own, for tests that change its state or restart it (requesting
    the shared one first skips the test where the sandbox is not installed)."""
    box = Sandbox(timeout=1.5, memory_mb=128, max_output=2000)
    yield box
    box.close()


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped counts as ended)."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
