"""Where the sandbox's parts are, and how to install them.

The sandbox runs Pyodide (Python compiled to WebAssembly) under Deno. Deno comes from the
``deno`` package on PyPI (``pip install 'lmbench[sandbox]'``) or from ``PATH``; Pyodide, at the
version pinned here, is installed from npm into a folder lmbench manages::

    python -m lmbench.sandbox install      # idempotent; ./run setup does it

The folder is ``LMBENCH_PYODIDE_DIR`` when set, else the user cache folder
(``~/.cache/lmbench/pyodide-<version>`` on Linux). The install also writes a memory snapshot of
a started interpreter (``snapshot.bin``), which lets a sandbox start in about half a second
instead of three. Nothing is downloaded when a sandbox starts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lmbench.env import env_str, platform_cache_dir
from lmbench.errors import SandboxUnavailable

__all__ = [
    "PYODIDE_VERSION",
    "check_pyodide",
    "find_deno",
    "install",
    "pyodide_dir",
    "snapshot_path",
]

PYODIDE_VERSION = "0.28.3"
# The files a Pyodide start reads (the npm package also holds sources maps and typings).
PYODIDE_FILES = (
    "package.json",
    "pyodide.mjs",
    "pyodide.asm.js",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
SNAPSHOT = "snapshot.bin"
INSTALL_HINT = "python -m lmbench.sandbox install"


def pyodide_dir() -> Path:
    """``LMBENCH_PYODIDE_DIR``, else the user cache folder + ``lmbench/pyodide-<version>``."""
    configured = env_str("LMBENCH_PYODIDE_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    return (platform_cache_dir() / f"pyodide-{PYODIDE_VERSION}").resolve()


def snapshot_path(directory: Path | None = None) -> Path:
    return (directory or pyodide_dir()) / SNAPSHOT


def find_deno() -> str:
    """The Deno binary: the ``deno`` Python package's, else ``deno`` on PATH."""
    try:
        from deno import find_deno_bin

        found = os.fsdecode(find_deno_bin())
        if os.path.isfile(found):
            return found
    except (ImportError, FileNotFoundError):
        pass
    on_path = shutil.which("deno")
    if on_path:
        return on_path
    raise SandboxUnavailable(
        "the code sandbox needs Deno, which was not found (neither the `deno` Python package "
        "nor `deno` on PATH). Install it with: pip install 'lmbench[sandbox]'"
    )


def check_pyodide(directory: Path | None = None) -> Path:
    """The Pyodide folder, or ``SandboxUnavailable`` saying how to install it."""
    folder = directory or pyodide_dir()
    missing = [name for name in PYODIDE_FILES if not (folder / name).is_file()]
    if missing:
        raise SandboxUnavailable(
            f"the code sandbox needs Pyodide {PYODIDE_VERSION} in {folder}, which lacks "
            f"{', '.join(missing)}. Install it with: {INSTALL_HINT} (needs npm), or point "
            "LMBENCH_PYODIDE_DIR at a folder holding the npm package `pyodide`"
        )
    return folder


def install(directory: Path | None = None, *, quiet: bool = False) -> Path:
    """Install Pyodide (with npm) and its start snapshot into ``directory``; a no-op when done."""
    folder = directory or pyodide_dir()
    say = (lambda _text: None) if quiet else (lambda text: print(text, file=sys.stderr))
    if not all((folder / name).is_file() for name in PYODIDE_FILES):
        npm = shutil.which("npm")
        if npm is None:
            raise SandboxUnavailable(
                f"installing Pyodide {PYODIDE_VERSION} needs npm (from Node.js), which is not on "
                "PATH; install Node.js, or set LMBENCH_PYODIDE_DIR to a folder holding the npm "
                "package `pyodide`"
            )
        say(f"==> installing Pyodide {PYODIDE_VERSION} into {folder}")
        folder.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
            subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    scratch,
                    "--no-audit",
                    "--no-fund",
                    "--silent",
                    "--ignore-scripts",
                    f"pyodide@{PYODIDE_VERSION}",
                ],
                check=True,
            )
            staged = Path(scratch) / "staged"
            staged.mkdir()
            for name in PYODIDE_FILES:
                shutil.copy2(Path(scratch) / "node_modules" / "pyodide" / name, staged / name)
            if folder.exists():
                shutil.rmtree(folder)
            staged.rename(folder)
    if not snapshot_path(folder).is_file():
        say("==> writing the Pyodide start snapshot")
        make_snapshot(folder)
    return folder


def make_snapshot(folder: Path) -> None:
    """Start Pyodide once and save its memory, so later starts skip the interpreter's set-up."""
    script = Path(__file__).with_name("snapshot.mjs")
    target = snapshot_path(folder)
    partial = target.with_suffix(".partial")
    subprocess.run(
        [
            find_deno(),
            "run",
            "--quiet",
            "--no-prompt",
            "--no-remote",
            "--no-npm",
            "--no-config",
            "--no-lock",
            "--unstable-detect-cjs",
            f"--allow-read={folder}",
            f"--allow-write={partial}",
            "--deny-env",
            "--deny-net",
            "--deny-run",
            str(script),
            str(folder),
            str(partial),
        ],
        check=True,
        env=worker_environment(),
        stdin=subprocess.DEVNULL,
    )
    partial.replace(target)


def deno_dir() -> Path:
    """Deno's own cache (compiled code), kept apart from the user's Deno cache; created here
    (in the temporary folder when the user cache folder cannot be written)."""
    folder = platform_cache_dir() / "deno"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir()) / f"lmbench-deno-{getattr(os, 'getuid', lambda: 0)()}"
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def worker_environment() -> dict[str, str]:
    """The only environment a Deno process gets: none of the host's variables (or secrets)."""
    return {"DENO_DIR": str(deno_dir()), "DENO_NO_UPDATE_CHECK": "1", "NO_COLOR": "1"}


def main(argv: list[str]) -> int:
    """``python -m lmbench.sandbox install [--quiet]`` (``--quiet``: no line when all is there)."""
    if not argv or argv[0] != "install":
        print("usage: python -m lmbench.sandbox install [--quiet]", file=sys.stderr)
        return 2
    try:
        folder = install()  # says what it does only when there is something to do
    except (SandboxUnavailable, subprocess.CalledProcessError, OSError) as exc:
        print(f"lmbench: the code sandbox was not installed: {exc}", file=sys.stderr)
        return 1
    if "--quiet" not in argv:
        print(f"Pyodide {PYODIDE_VERSION} is ready in {folder}", file=sys.stderr)
    return 0
