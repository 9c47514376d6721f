"""What keeping keys out costs: the per-call check of a response body, redacting a text,
scrubbing stream pieces, and redacting a history entry's data, with 1, 4 and 16 known keys.

The check on every call (``holds_secret`` over the body as received) is one C-speed
substring scan per known key; the set of keys is made again only when it changes. Target:
the check stays under 5 us for a 1 KB body with the handful of keys a process has.
Run: ``.venv/bin/python benchmarks/bench_redaction.py``
"""

from __future__ import annotations

import json

from bench_observe import per_call_us

from lmbench.secrets import Secret, StreamScrubber, holds_secret, redact, redact_text

BODY = json.dumps(
    {
        "id": "chatcmpl-bench",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "The capital of France is Paris. " * 30,
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 12},
    }
).encode()
TEXT = BODY.decode()
PIECES = [TEXT[i : i + 6] for i in range(0, 600, 6)]  # 100 stream pieces of 6 characters
ENTRY = {
    "request": {"messages": [{"role": "user", "content": "What is the capital of France?"}] * 3},
    "metadata": {"response_id": "chatcmpl-bench", "requested_model": "gpt-4o-mini"},
    "raw": {"request": {"headers": {"authorization": "Bearer x", "accept": "*/*"}}},
}


def scrub_stream() -> str:
    scrubber = StreamScrubber()
    return "".join(scrubber.feed(piece) for piece in PIECES) + scrubber.flush()


def main() -> None:
    keys = [Secret(f"Zbench{i:02d}Key7Hq2Lm9Xc4Vb6Nn1Kp") for i in range(16)]
    print(
        f"{'known keys':>10} {'body check':>11} {'redact 1KB':>11} {'entry data':>11} {'stream/piece':>13}"
    )
    for count in (1, 4, 16):
        from lmbench.secrets import _known

        with _known.lock:  # only the first ``count`` keys are known
            _known.registered = {k.reveal() for k in keys[:count]}
            _known.version += 1
        check = per_call_us(lambda: holds_secret(BODY), 20_000)
        text = per_call_us(lambda: redact_text(TEXT), 20_000)
        entry = per_call_us(lambda: redact(ENTRY), 20_000)
        stream = per_call_us(scrub_stream, 500) / len(PIECES)
        print(f"{count:>10} {check:>9.2f}us {text:>9.2f}us {entry:>9.2f}us {stream:>11.2f}us")


if __name__ == "__main__":
    main()
