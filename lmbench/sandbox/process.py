"""One Deno worker process: how it is started, fenced in, read from, and ended.

The Deno flags grant nothing but reading Pyodide's folder (and its snapshot): no writes, no
network, no environment, no subprocesses, no FFI, no system information, no remote or npm
modules, no prompts. The process gets an environment of its own (none of the host's variables,
so no API key is ever inside it). V8's heap is capped with ``--max-old-space-size``; Python's
heap, the WebAssembly memory, is capped by the worker.

It never outlives the host: it exits when its stdin closes, and on Linux the kernel kills it
when the host process dies (``PR_SET_PDEATHSIG``), even in the middle of a run. That signal is
tied to the thread that forked the child, so every worker is forked from one long-lived thread.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from lmbench.errors import SandboxError
from lmbench.sandbox.install import (
    check_pyodide,
    deno_dir,
    find_deno,
    snapshot_path,
    worker_environment,
)

__all__ = ["WorkerProcess"]

WORKER_SCRIPT = Path(__file__).with_name("worker.mjs")
INSIDE_SOURCE = Path(__file__).with_name("inside.py")
_EOF = object()
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def deno_command(deno: str, pyodide: Path, memory_mb: int) -> list[str]:
    snapshot = snapshot_path(pyodide)
    readable = f"{pyodide}"
    return [
        deno, "run", "--quiet", "--no-prompt", "--no-remote", "--no-npm", "--no-config",
        "--no-lock", "--unstable-detect-cjs", f"--allow-read={readable}",
        "--deny-write", "--deny-net", "--deny-env", "--deny-run", "--deny-ffi", "--deny-sys",
        f"--v8-flags=--max-old-space-size={memory_mb}",
        str(WORKER_SCRIPT), str(pyodide), str(snapshot) if snapshot.is_file() else "",
    ]  # fmt: skip


def _bootstrap() -> str:
    """Python the worker runs once: ``inside.py`` as the module ``_lmbench_runner``."""
    source = INSIDE_SOURCE.read_text(encoding="utf-8")
    return (
        "import sys, types\n"
        "_module = types.ModuleType('_lmbench_runner')\n"
        f"exec(compile({source!r}, '_lmbench_runner', 'exec'), _module.__dict__)\n"
        "sys.modules['_lmbench_runner'] = _module\n"
        "del _module, sys, types\n"
    )


class WorkerProcess:
    """A started worker. ``send`` a message, ``receive`` the next one (checked) or a timeout."""

    def __init__(self, *, memory_mb: int, max_output: int) -> None:
        deno = find_deno()
        pyodide = check_pyodide()
        self.key = secrets.token_hex(16)
        self.memory_mb = memory_mb
        # the longest line a worker may write: three capped texts, JSON-escaped, and some room
        self.max_line = 18 * max_output + 65536
        self.process = _spawn(deno_command(deno, pyodide, memory_mb))
        self._messages: queue.Queue[Any] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        assert self.process.stdout is not None and self.process.stderr is not None
        threading.Thread(target=self._read_stdout, args=(self.process.stdout,), daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(self.process.stderr,), daemon=True).start()
        self.send(
            {
                "key": self.key,
                "memory_mb": memory_mb,
                "max_output": max_output,
                "bootstrap": _bootstrap(),
            }
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def resident_mb(self) -> float | None:
        """The process's resident memory in MB (None where /proc cannot tell)."""
        try:
            with open(f"/proc/{self.process.pid}/statm", "rb") as statm:
                pages = int(statm.read().split()[1])
        except (OSError, ValueError, IndexError):
            return None
        return pages * _PAGE_SIZE / 1048576

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        data = json.dumps(message, ensure_ascii=True).encode() + b"\n"
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the worker is gone; receive() reports it

    def receive(self, timeout: float | None) -> dict[str, Any] | None:
        """The next message, None when ``timeout`` passes; ``SandboxError`` when the worker is
        gone or wrote something that is not a message of this protocol."""
        try:
            item = self._messages.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is _EOF:
            raise SandboxError(self._died())
        if isinstance(item, SandboxError):
            raise item
        return item

    def _read_stdout(self, stream: IO[bytes]) -> None:
        try:
            while True:
                line = stream.readline(self.max_line + 1)
                if not line:
                    break
                message = self._check(line)
                self._messages.put(message)
                if isinstance(message, SandboxError):
                    self.kill()
                    break
        except (OSError, ValueError):
            pass
        self._messages.put(_EOF)

    def _check(self, line: bytes) -> dict[str, Any] | SandboxError:
        problem = None
        if len(line) > self.max_line or not line.endswith(b"\n"):
            problem = f"a line longer than {self.max_line} bytes"
        else:
            try:
                message = json.loads(line)
            except (ValueError, RecursionError):
                message = None
            if not isinstance(message, dict) or not secrets.compare_digest(
                str(message.pop("key", "")), self.key
            ):
                problem = f"text that is not a protocol message: {self._excerpt(line)}"
            elif not isinstance(message.get("type"), str):
                problem = f"a message with no type: {self._excerpt(line)}"
            else:
                return message
        return SandboxError(f"the sandbox worker wrote {problem}; it was stopped")

    def _excerpt(self, line: bytes) -> str:
        """The start of a line that broke the protocol, for the error; the key is left out
        (the worker's own message may be in it, where code wrote into the middle of a line)."""
        return repr(line.replace(self.key.encode(), b"<key>")[:200])

    def _read_stderr(self, stream: IO[bytes]) -> None:
        try:
            for line in iter(lambda: stream.readline(4096), b""):
                self._stderr.append(line.decode("utf-8", "replace").rstrip())
        except (OSError, ValueError):
            pass

    def _died(self) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        tail = "\n".join(self._stderr).strip()
        if "out of memory" in tail.lower() or "heap limit" in tail.lower():
            return (
                f"the sandbox worker ran out of JavaScript heap memory (memory_mb={self.memory_mb}"
                "; give Sandbox(memory_mb=...) more if the work needs it) and stopped"
            )
        detail = f": {tail[-1500:]}" if tail else ""
        return f"the sandbox worker stopped (exit status {code}){detail}"

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr)

    def kill(self) -> None:
        """End the process now (SIGKILL), close its stdin and reap it."""
        with contextlib.suppress(OSError):
            if self.process.poll() is None:
                self.process.kill()
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


# -- spawning ---------------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1


def _die_with_parent_hook() -> Callable[[], None]:
    """What the child runs between fork and exec: ask for SIGKILL when the parent dies."""
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return hook


class _Spawner:
    """A long-lived thread that forks every worker, so PR_SET_PDEATHSIG fires only when the
    host process itself dies (not when a short-lived thread that created a sandbox ends)."""

    def __init__(self) -> None:
        self.pid = os.getpid()  # a forked child has the object but not the thread
        self._jobs: queue.Queue[tuple[Callable[[], Any], queue.Queue[Any]]] = queue.Queue()
        threading.Thread(target=self._serve, name="lmbench-sandbox-spawner", daemon=True).start()

    def _serve(self) -> None:
        while True:
            job, reply = self._jobs.get()
            try:
                reply.put((True, job()))
            except BaseException as exc:
                reply.put((False, exc))

    def run(self, job: Callable[[], Any]) -> Any:
        reply: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._jobs.put((job, reply))
        ok, value = reply.get()
        if not ok:
            raise value
        return value


_spawner: _Spawner | None = None
_spawner_lock = threading.Lock()
if hasattr(os, "register_at_fork"):  # a lock held by another thread at fork stays held
    os.register_at_fork(after_in_child=lambda: globals().update(_spawner_lock=threading.Lock()))


def _spawn(command: list[str]) -> subprocess.Popen[bytes]:
    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=worker_environment(),
            cwd=str(deno_dir()),
            close_fds=True,
            preexec_fn=_die_with_parent_hook() if sys.platform.startswith("linux") else None,
        )

    if not sys.platform.startswith("linux"):
        return start()
    global _spawner
    with _spawner_lock:
        if _spawner is None or _spawner.pid != os.getpid():
            _spawner = _Spawner()
    return _spawner.run(start)
