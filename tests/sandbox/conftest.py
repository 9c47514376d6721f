"""Sandbox fixtures: the real Deno + Pyodide, skipped only where they are not installed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

SECRET_NAME = "LMBENCH_SANDBOX_TEST_SECRET"
SECRET_VALUE = "sk-do-not-leak-4b1d"


def _require_sandbox() -> None:
    from lmbench.errors import SandboxUnavailable
    from lmbench.sandbox.install import check_pyodide, find_deno

    try:
        find_deno()
        check_pyodide()
    except SandboxUnavailable as exc:
        pytest.skip(f"the code sandbox is not installed here ({exc})")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[object]:
    """One sandbox for the tests of a module whose state does not matter (about 0.5-2 s to start).

    A secret is in the host's environment when it starts: it must not be visible inside.
    """
    _require_sandbox()
    from lmbench.sandbox import Sandbox

    os.environ[SECRET_NAME] = SECRET_VALUE
    try:
        box = Sandbox(timeout=5, memory_mb=128, max_output=2000)
        box.start()
    finally:
        del os.environ[SECRET_NAME]
    yield box
    box.close()


@pytest.fixture
def fresh_sandbox() -> Iterator[object]:
    """A sandbox of the test's own, for tests that change its state or restart it."""
    _require_sandbox()
    from lmbench.sandbox import Sandbox

    box = Sandbox(timeout=3, memory_mb=128, max_output=2000)
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
