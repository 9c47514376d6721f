"""Make ``04-providers.jsonl``, the recording that lets ``04-providers-and-cost.ipynb`` run
with no API key, from real provider exchanges.

The exchanges are the recorded requests and responses in ``../shared/fixtures/providers/``
(real calls to OpenAI, Anthropic, Gemini and OpenRouter; see the README there). This script
serves them from a loopback HTTP server: each provider's base URL points at the server, which
answers a request with the recorded response for the model the request names, exactly as
recorded (status, content type, JSON body or raw SSE stream). It then executes the notebook
with its ``%lmbench replay play`` line switched to ``record``, so lmbench's providers parse
those responses through the normal code path and the recording holds exactly the requests the
notebook makes. Calls the notebook sends to the embedded local model are recorded too.

Run it from anywhere:  .venv/bin/python notebooks/replays/make_recording.py [--output PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import nbformat
import yaml
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE.parent / "04-providers-and-cost.ipynb"
RECORDING = HERE / "04-providers.jsonl"
FIXTURES = HERE.parents[2] / "shared" / "fixtures" / "providers"
REPLAY_LINE = re.compile(r"^%lmbench replay play (\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class Recorded:
    """One recorded response: which cassette, which interaction in it."""

    cassette: str
    index: int = 0


#: (provider, model named in the request) -> the recorded response that answers it.
EXCHANGES: dict[tuple[str, str], Recorded] = {
    ("openai", "gpt-4o"): Recorded("openai/cassettes/test_openai_native_output.yaml", 1),
    ("openai", "gpt-4o-mini"): Recorded(
        "openai/cassettes/test_max_completion_tokensgpt-4o-mini.yaml"
    ),
    ("gemini", "gemini-2.0-flash"): Recorded("gemini/cassettes/test_google_native_output.yaml"),
    ("gemini", "gemini-2.5-flash"): Recorded("gemini/cassettes/test_google_model.yaml"),
    ("anthropic", "claude-sonnet-4-5"): Recorded(
        "anthropic/cassettes/test_anthropic_native_output_decimal_strict.yaml"
    ),
    ("anthropic", "claude-3-opus-latest"): Recorded(
        "anthropic/cassettes/test_anthropic_model_instructions.yaml"
    ),
    ("openrouter", "anthropic/claude-sonnet-4.5"): Recorded(
        "openrouter/cassettes/test_openrouter_streaming_reasoning.yaml"
    ),
}

#: provider -> (environment variable of its base URL, the path the server serves it under).
BASE_URLS: dict[str, tuple[str, str]] = {
    "openai": ("OPENAI_BASE_URL", "/openai/v1"),
    "openrouter": ("OPENROUTER_BASE_URL", "/openrouter/api/v1"),
    "anthropic": ("ANTHROPIC_BASE_URL", "/anthropic"),
    "gemini": ("GEMINI_BASE_URL", "/gemini/v1beta"),
}
KEY_VARIABLES = ("OPENAI_API_KEY", "OPENROUTER_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY")
PLACEHOLDER_KEY = "placeholder-key-for-the-loopback-server"
GEMINI_PATH = re.compile(r"/models/([^/:]+):(generateContent|streamGenerateContent)")


def load_response(recorded: Recorded) -> dict[str, Any]:
    cassette = yaml.safe_load((FIXTURES / recorded.cassette).read_text(encoding="utf-8"))
    return cassette["interactions"][recorded.index]["response"]


def requested_model(provider: str, path: str, body: Mapping[str, Any]) -> tuple[str, bool]:
    """The model a request names and whether it asks for a stream."""
    if provider == "gemini":
        match = GEMINI_PATH.search(path)
        if match is None:
            raise LookupError(f"not a Gemini generateContent path: {path}")
        return match.group(1), match.group(2) == "streamGenerateContent"
    return str(body.get("model")), bool(body.get("stream"))


class ExchangeHandler(BaseHTTPRequestHandler):
    """Answers ``POST /<provider>/...`` with the recorded response for the requested model."""

    def do_POST(self) -> None:
        provider = self.path.strip("/").split("/", 1)[0]
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
        try:
            model, stream = requested_model(provider, self.path, body)
            recorded = EXCHANGES.get((provider, model))
            if recorded is None:
                raise LookupError(f"no recorded exchange for {provider} model {model!r}")
            response = load_response(recorded)
        except LookupError as error:
            self._send(404, "application/json", json.dumps({"error": {"message": str(error)}}))
            return
        content_type = response["headers"].get("content-type", ["application/json"])[0]
        if stream != content_type.startswith("text/event-stream"):
            message = (
                f"{provider} {model}: the request's stream={stream} does not match the recording"
            )
            self._send(400, "application/json", json.dumps({"error": {"message": message}}))
            return
        if "parsed_body" in response:
            payload = json.dumps(response["parsed_body"])
        else:
            payload = response["body"]["string"]
        self._send(response["status"]["code"], content_type, payload)

    def _send(self, status: int, content_type: str, payload: str) -> None:
        data = payload.encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        print(f"  served {self.command} {self.path} -> {args[1] if len(args) > 1 else ''}")


@contextmanager
def exchange_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ExchangeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def recording_notebook(output: Path) -> nbformat.NotebookNode:
    """The notebook with its ``replay play`` line switched to ``record`` into ``output``."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    switched = 0
    for cell in notebook.cells:
        if cell.cell_type == "code" and REPLAY_LINE.search(cell.source):
            cell.source = REPLAY_LINE.sub(f"%lmbench replay record {output}", cell.source)
            switched += 1
    if switched != 1:
        raise SystemExit(
            f"{NOTEBOOK.name}: expected one '%lmbench replay play PATH' line, found {switched}"
        )
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record the responses notebook 04 replays.")
    parser.add_argument("--output", type=Path, default=RECORDING, help="the recording to write")
    output = parser.parse_args(argv).output.resolve()
    if not FIXTURES.is_dir():
        print(f"recorded exchanges not found at {FIXTURES} (../shared/fixtures)", file=sys.stderr)
        return 1
    output.unlink(missing_ok=True)
    notebook = recording_notebook(output)
    with exchange_server() as url, tempfile.TemporaryDirectory() as cache_dir:
        for variable, path in BASE_URLS.values():
            os.environ[variable] = url + path
        os.environ.update(dict.fromkeys(KEY_VARIABLES, PLACEHOLDER_KEY))
        os.environ["LMBENCH_CACHE_DIR"] = cache_dir  # every call is made, none served from a cache
        resources = {"metadata": {"path": str(NOTEBOOK.parent)}}
        NotebookClient(notebook, timeout=900, kernel_name="python3", resources=resources).execute()
    lines = output.read_text(encoding="utf-8").splitlines()
    print(f"wrote {len(lines)} recorded responses to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
