"""Where the sandbox finds Deno and Pyodide, and the one clear error when either is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lmbench.errors import ConfigError, SandboxUnavailable
from lmbench.sandbox import Sandbox
from lmbench.sandbox.install import PYODIDE_VERSION, find_deno, pyodide_dir


def test_pyodide_is_found_where_lmbench_pyodide_dir_points(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LMBENCH_PYODIDE_DIR", str(tmp_path))
    assert pyodide_dir() == tmp_path.resolve()
    monkeypatch.delenv("LMBENCH_PYODIDE_DIR")
    monkeypatch.setenv("LMBENCH_CACHE_DIR", str(tmp_path / "responses"))
    # the response cache folder does not move Pyodide
    assert pyodide_dir().name == f"pyodide-{PYODIDE_VERSION}"
    assert "responses" not in str(pyodide_dir())


def test_missing_pyodide_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LMBENCH_PYODIDE_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(SandboxUnavailable) as caught:
        Sandbox()
    message = str(caught.value)
    assert f"Pyodide {PYODIDE_VERSION}" in message and "nowhere" in message
    assert "python -m lmbench.sandbox install" in message and "pyodide.asm.wasm" in message
    assert isinstance(caught.value, ConfigError)


def test_missing_deno_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "deno", None)  # the package is not installed
    monkeypatch.setenv("PATH", "")
    with pytest.raises(SandboxUnavailable, match=r"needs Deno.*pip install 'lmbench\[sandbox\]'"):
        find_deno()
    with pytest.raises(SandboxUnavailable, match="needs Deno"):
        Sandbox()


def test_a_worker_that_fails_to_start_says_why_and_the_next_run_tries_again(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from lmbench.errors import SandboxError
    from lmbench.sandbox import process

    broken = tmp_path / "broken.mjs"
    broken.write_text('console.error("no Pyodide today"); Deno.exit(7);\n')
    monkeypatch.setattr(process, "WORKER_SCRIPT", broken)
    box = Sandbox()
    try:
        with pytest.raises(SandboxError, match=r"could not start.*exit status 7.*no Pyodide today"):
            box.run("1")
        monkeypatch.undo()
        assert box.run("1 + 1").value == 2
    finally:
        box.close()
