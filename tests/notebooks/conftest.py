"""Helpers for the notebook-level tests: a JupyterLab server on loopback and the browser to drive it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
TEST_OUTPUT = REPO / "test-output"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# JupyterLab user settings for a test run: every cell stays in the DOM (no windowing, so the
# checks see outputs scrolled out of view), nothing is fetched from the internet, and saving
# keeps the widgets' state (so a reopened notebook still draws them).
LAB_SETTINGS: dict[str, dict[str, object]] = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with code {process.returncode}:\n{log.read_text()}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/status", timeout=2).status_code == 200:
                return
        time.sleep(0.25)
    raise RuntimeError(
        f"JupyterLab did not answer on {url} within {timeout:.0f} s:\n{log.read_text()}"
    )


@contextlib.contextmanager
def running_lab(root: Path, work: Path) -> Iterator[str]:
    """A token-less JupyterLab serving ``root`` on a free loopback port; yields its base URL."""
    settings_dir = work / "lab-settings"
    for relative, values in LAB_SETTINGS.items():
        path = settings_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
        "JUPYTERLAB_WORKSPACES_DIR": str(work / "lab-workspaces"),
        "JUPYTER_RUNTIME_DIR": str(work / "jupyter-runtime"),
        "LMBENCH_CACHE_DIR": str(work / "lmbench-cache"),
        # kernels import this checkout's lmbench, whatever folder the lab serves
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
        "LMBENCH_CONFIG_DIR": str(work / "lmbench-config"),
    }
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.port_retries=0", "--allow-root", "--IdentityProvider.token=", "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={root}",
        # window.jupyterapp lets a test switch themes; an in-memory notary db means every
        # notebook opened from disk is untrusted, as a reopened notebook is for a user
        "--LabApp.expose_app_in_browser=True", "--NotebookNotary.db_file=:memory:",
    ]  # fmt: skip
    log = work / "jupyterlab.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        _wait_until_serving(url, process, log, timeout=60)
        yield url
    finally:
        # On SIGTERM the server shuts its kernels down before it exits.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def lab(tmp_path: Path) -> Callable[[Path], contextlib.AbstractContextManager[str]]:
    """``with lab(root) as url:`` runs JupyterLab on ``root`` for the length of the block."""
    return lambda root: running_lab(root, tmp_path)


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A Playwright page in headless Debian Chromium (Playwright cannot download its own browser here)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright for Python is not installed"
    )
    found = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    if not found:
        pytest.skip(
            "no Chromium at /usr/bin/chromium or on PATH: install it with `apt-get install -y chromium`"
        )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(found), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Path:
    """test-output/<test name>/, emptied first, for the screenshots a browser test saves."""
    folder = TEST_OUTPUT / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
