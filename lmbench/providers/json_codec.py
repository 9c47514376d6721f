"""JSON request bodies and response bodies of the remote providers, written and read by
``orjson`` (several times faster than the standard library on every call), with the standard
library as the fallback for what orjson refuses.

Bodies are compact UTF-8. A body orjson cannot write (a lone surrogate in a prompt, an
integer past 64 bits, a non-string key) is written by ``json`` with non-ASCII characters
escaped, so it is still valid JSON and never a ``UnicodeEncodeError``. A response orjson
cannot read (a byte-order mark, UTF-16) is read by httpx's own ``Response.json``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import orjson

__all__ = ["json_body", "json_of"]


def json_body(body: Any) -> bytes:
    """``body`` as the bytes of a JSON request body."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        return json.dumps(body, separators=(",", ":")).encode("ascii")


def json_of(response: httpx.Response) -> Any:
    """The JSON value of a read response; ``ValueError`` when its body is not JSON."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()
