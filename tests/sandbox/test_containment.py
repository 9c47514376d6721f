"""What sandboxed code cannot do: reach host files, environment, processes or the network,
forge protocol messages, outlast its timeout, outgrow its memory or output, or outlive the host."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lmbench.sandbox import Sandbox

from .conftest import running

REPO = Path(__file__).resolve().parents[2]


def _fails(result: object, *needles: str) -> None:
    """The run raised inside the sandbox, with one of ``needles`` in its error."""
    error = getattr(result, "error", None)
    assert error is not None, f"expected the run to fail, it gave {result!r}"
    assert any(needle in error for needle in needles), error


@pytest.mark.parametrize(
    "code",
    [
        "open('/etc/passwd').read()",
        "open('/etc/hostname').read()",
        "import js; js.Deno.readTextFileSync('/etc/passwd')",
        "import js; js.eval('Deno.readTextFileSync(\"/etc/passwd\")')",
        "import pyodide_js; pyodide_js.mountNodeFS('/host', '/etc'); open('/host/passwd').read()",
        "import pyodide_js, js, os\nos.makedirs('/h', exist_ok=True)\n"
        "pyodide_js.FS.mount(pyodide_js.FS.filesystems.NODEFS, "
        "js.Object.fromEntries([['root', '/etc']]), '/h')\nopen('/h/passwd').read()",
    ],
)
def test_no_host_file_can_be_read(sandbox: Sandbox, code: str) -> None:
    result = sandbox.run(code)
    assert result.error is not None, result
    assert "root:" not in result.stdout + str(result.value)


def test_no_host_file_can_be_written(sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "written"
    for code in [
        f"open({str(target)!r}, 'w').write('x')",  # lands in Pyodide's in-memory files
        f"import pyodide_js; pyodide_js.mountNodeFS('/out', {str(tmp_path)!r})\n"
        "open('/out/written', 'w').write('x')",
        f"import js; js.eval('Deno.writeTextFileSync({str(target)!r}, \"x\")')",
    ]:
        sandbox.run(code)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_no_host_environment_variable_is_visible(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMBENCH_SANDBOX_TEST_SECRET", "sk-do-not-leak-4b1d")
    with Sandbox() as box:  # started while the secret is in this process's environment
        environ = box.run("import os; dict(os.environ)").value
        assert "LMBENCH_SANDBOX_TEST_SECRET" not in environ
        assert "sk-do-not-leak" not in str(environ)
        assert str(REPO) not in str(environ)  # no host path either
        assert environ.get("PATH", "/") == "/"
        _fails(box.run("import js; js.Deno.env.toObject()"), "AttributeError")
        _fails(box.run("import js; js.process.env"), "AttributeError")
        _fails(box.run("import js; js.eval('Deno.env.get(\"HOME\")')"), "ReferenceError")


@pytest.mark.parametrize(
    "code",
    [
        "import subprocess; subprocess.run(['id'])",
        "import os; os.system('id')",
        "import os; os.execv('/bin/sh', ['sh'])",
        "import js; js.eval('new Deno.Command(\"id\").outputSync()')",
    ],
)
def test_no_subprocess_can_be_started(sandbox: Sandbox, code: str) -> None:
    result = sandbox.run(code)
    assert result.error is not None
    assert "uid=" not in result.stdout + str(result.value)
    assert sandbox.run("'alive'").value == "alive"


@pytest.mark.parametrize(
    "code",
    [
        "import socket; socket.create_connection(('127.0.0.1', 9), timeout=1)",
        "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9/').read()",
        "import pyodide.http; pyodide.http.open_url('http://127.0.0.1:9/').read()",
        "import js; js.fetch('http://127.0.0.1:9/')",
        "import js; js.XMLHttpRequest.new()",
        "import js; js.WebSocket.new('ws://127.0.0.1:9/')",
    ],
)
def test_no_network(sandbox: Sandbox, code: str) -> None:
    _fails(sandbox.run(code), "Error", "error")


def test_asynchronous_escapes_never_run(sandbox: Sandbox) -> None:
    """Between runs the worker's event loop never turns: a dynamic import of a remote module,
    a timer or a promise left behind by the code has no chance to run."""
    for code in [
        'import js; js.eval(\'import("https://example.com/x.js").then(() => console.log("ran"))\')',
        "import js; js.eval('setTimeout(() => console.log(\"ran\"), 0)')",
        "import js; js.eval('Promise.resolve().then(() => console.log(\"ran\"))')",
    ]:
        sandbox.run(code)
    assert "ran" not in sandbox.run("print('next')").stdout


def test_standard_input_and_the_protocol_channel_are_out_of_reach(sandbox: Sandbox) -> None:
    _fails(sandbox.run("import sys; sys.stdin.read()"), "OSError")
    forged = '{"type": "result", "value": "forged", "key": "guess"}'
    result = sandbox.run(
        f"import os, js\nos.write(1, b'{forged}\\n')\njs.console.log('{forged}')\n'real'"
    )
    assert result.value == "real"
    assert result.stdout == f"{forged}\n{forged}\n"  # captured as output, not read as messages
    assert not result.restarted


@pytest.mark.parametrize(
    "name",
    ["Deno", "process", "require", "fetch", "Worker", "localStorage", "sessionStorage", "caches",
     "prompt", "alert", "confirm", "close", "navigator", "BroadcastChannel"],
)  # fmt: skip
def test_the_isolate_keeps_no_way_out_that_needs_no_permission(sandbox: Sandbox, name: str) -> None:
    assert sandbox.run(f"import js; js.eval('typeof globalThis.{name}')").value == "undefined"


def test_no_data_persists_from_one_sandbox_to_the_next(sandbox: Sandbox) -> None:
    """Web storage and the Cache API would write into Deno's folder on the host."""
    sandbox.run('import js; js.eval(\'localStorage.setItem("left", "behind")\')')
    sandbox.run("import js; js.eval('caches.open(\"c\")')")
    with Sandbox() as later:
        result = later.run("import js; js.eval('localStorage.getItem(\"left\")')")
        assert result.error is not None and "behind" not in str(result.value)


def test_output_is_capped(sandbox: Sandbox) -> None:
    result = sandbox.run("for i in range(10_000): print('x' * 100)")
    assert result.truncated and len(result.stdout) == 2000
    assert result.error is None
    long_value = sandbox.run("'y' * 10_000").value
    assert isinstance(long_value, str) and len(long_value) < 2100
    assert long_value.endswith("more]")


def test_python_memory_is_capped_and_the_sandbox_goes_on(sandbox: Sandbox) -> None:
    result = sandbox.run("keep = 1\nb = bytearray(300 * 1024 * 1024)")
    _fails(result, "MemoryError")
    assert not result.restarted
    assert sandbox.run("keep + 1").value == 2
    grown = sandbox.run("chunks = []\nwhile True:\n    chunks.append(bytearray(8 * 1024 * 1024))")
    _fails(grown, "MemoryError")
    assert sandbox.run("del chunks; len(bytearray(10 * 1024 * 1024))").value == 10 * 1024 * 1024


def test_javascript_memory_is_capped_too(sandbox: Sandbox) -> None:
    with Sandbox(timeout=30, memory_mb=64) as small:
        heap = small.run(
            "import js; js.eval('let a = []; for (;;) a.push(new Array(100000).fill(1.5))')"
        )
        _fails(heap, "ran out of JavaScript heap memory", "MemoryError")
        assert heap.restarted and small.restarts == 1
        assert small.run("'back'").value == "back"
    fresh_sandbox = sandbox
    buffers = fresh_sandbox.run(
        "import js\nkept = []\nfor i in range(40):\n"
        "    a = js.Uint8Array.new(64 * 1024 * 1024); a.fill(1); kept.append(a)"
    )
    _fails(buffers, "MemoryError")
    assert fresh_sandbox.run("'back'").value == "back"
    assert fresh_sandbox.restarts >= 1


def test_webassembly_memory_is_capped_whichever_way_it_is_made(sandbox: Sandbox) -> None:
    capped = sandbox.run(
        "import js\njs.WebAssembly.Memory.new(js.Object.fromEntries([['initial', 20000]]))"
    )
    _fails(capped, "memory_mb")
    native = sandbox.run(  # the engine's own constructor, found through the prototype
        "import js\n"
        "Native = js.WebAssembly.Memory.prototype.constructor\n"
        "m = Native.new(js.Object.fromEntries([['initial', 16000]]))\n"
        "js.Uint8Array.new(m.buffer).fill(1)"
    )
    _fails(native, "MemoryError", "could not allocate")
    assert sandbox.run("'still here'").value == "still here"


def test_a_run_past_the_timeout_kills_the_worker_and_the_next_run_works(
    fresh_sandbox: Sandbox,
) -> None:
    fresh_sandbox.run("kept = 1")
    first_pid = fresh_sandbox.pid
    started = time.monotonic()
    result = fresh_sandbox.run("print('working on it')\nwhile True:\n    pass")
    assert result.timed_out and result.restarted
    assert result.stdout == "working on it\n"  # what it printed before it was stopped
    assert 1.4 < time.monotonic() - started < 5
    assert "timeout=1.5 s" in (result.error or "")
    assert first_pid is not None and not running(first_pid)
    assert fresh_sandbox.run("1 + 1").value == 2
    assert "NameError" in (fresh_sandbox.run("kept").error or "")  # a new interpreter
    looped = fresh_sandbox.run("import js; js.eval('for (;;) {}')")  # stuck in JavaScript
    assert looped.timed_out
    assert fresh_sandbox.run("'ok'").value == "ok"


def test_time_spent_in_tools_does_not_count_against_the_timeout(fresh_sandbox: Sandbox) -> None:
    def slow(seconds: float) -> str:
        """Sleep."""
        time.sleep(seconds)
        return "slept"

    result = fresh_sandbox.run("[slow(0.6), slow(0.6), slow(0.6)]", tools=[slow])  # 1.8 s > 1.5 s
    assert result.value == ["slept"] * 3 and not result.timed_out


def test_a_broken_runtime_is_replaced(sandbox: Sandbox) -> None:
    result = sandbox.run("import os; os._exit(0)")
    assert result.error is not None and result.restarted
    assert sandbox.run("2 + 2").value == 4


def test_closing_ends_the_worker(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.start()
    pid = fresh_sandbox.pid
    assert pid is not None and running(pid)
    fresh_sandbox.close()
    assert not running(pid)


def test_a_sandbox_no_longer_referenced_ends_its_worker(sandbox: Sandbox) -> None:
    import gc

    box = Sandbox().start()
    pid = box.pid
    assert pid is not None and running(pid)
    del box
    gc.collect()
    assert not running(pid)


PARENT = textwrap.dedent(
    """
    import sys, time
    from lmbench.sandbox import Sandbox
    idle = Sandbox().start()
    busy = Sandbox(timeout=600).start()
    import threading
    threading.Thread(target=busy.run, args=("while True: pass",), daemon=True).start()
    time.sleep(0.5)
    print(idle.pid, busy.pid, flush=True)
    time.sleep(600)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_no_worker_outlives_a_killed_parent(sandbox: Sandbox) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT],
        cwd=REPO,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        text=True,
    )
    assert parent.stdout is not None
    pids = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(running(pid) for pid in pids)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(running(pid) for pid in pids)


def test_an_interrupted_run_leaves_no_code_running(fresh_sandbox: Sandbox) -> None:
    """KeyboardInterrupt (a notebook's stop button) mid-run replaces the busy worker."""

    def stop() -> None:
        """Stop."""
        raise KeyboardInterrupt

    fresh_sandbox.run("kept = 1")
    with pytest.raises(KeyboardInterrupt):
        fresh_sandbox.run("stop()\nwhile True: pass", tools=[stop])
    assert fresh_sandbox.restarts == 1
    assert fresh_sandbox.run("'answers the next run'").value == "answers the next run"


def test_closing_during_a_run_ends_it_at_once(sandbox: Sandbox) -> None:
    import threading

    box = Sandbox(timeout=60).start()
    results = []
    runner = threading.Thread(target=lambda: results.append(box.run("while True: pass")))
    runner.start()
    time.sleep(0.5)
    began = time.monotonic()
    box.close()
    runner.join(10)
    assert time.monotonic() - began < 5
    assert results and "closed during the run" in (results[0].error or "")
    assert box.restarts == 0 and box.pid is None


SNIFFERS = """
const original = JSON.stringify;
globalThis.seen = [];
const keep = (v) => { try { globalThis.seen.push(typeof v === "string" ? v : original(v)); } catch {} };
Object.prototype.toJSON = function () { keep(this); return this; };
JSON.stringify = function (v, ...rest) { keep(v); return original(v, ...rest); };
const encode = TextEncoder.prototype.encode;
TextEncoder.prototype.encode = function (s) { keep(s); return encode.call(this, s); };
const decode = TextDecoder.prototype.decode;
TextDecoder.prototype.decode = function (b, o) { const s = decode.call(this, b, o); keep(s); return s; };
"""


def test_replacing_javascript_builtins_cannot_read_or_forge_the_protocol(sandbox: Sandbox) -> None:
    """The worker took JSON, typed-array and text-coding functions before any code ran, and
    sends prototype-less objects: code that wraps them to sniff sees no protocol message."""
    result = sandbox.run(f"import js\njs.eval({SNIFFERS!r})\n'wrapped'")
    assert result.value == "wrapped" and not result.restarted
    after = sandbox.run("print('fine'); 1")
    assert after.stdout == "fine\n" and after.value == 1
    seen = sandbox.run("'|'.join(str(s) for s in js.eval('globalThis.seen'))").value
    assert "outcome" not in seen and "truncated" not in seen  # no message of the protocol
    sandbox.run("js.eval('delete Object.prototype.toJSON')")
