"""The one cache-key function: sha256 over the canonical JSON of a normalised request.

The key covers the LM's name, the messages and every parameter (schema, tools, extra body
fields) plus the rollout id, and nothing else: never an API key (secret-named values in
``extra`` are redacted before hashing, and the LM object itself is not read beyond its name).
Canonical JSON (sorted keys, no whitespace, UTF-8) makes keys equal across processes and
Python versions. It is written by ``orjson``: a key is made on every cached call, and the
standard library's encoder spends most of a cache hit escaping the prompt text.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import fields
from typing import Any

import orjson

from lmbench.lm.base import LM
from lmbench.lm.types import LMRequest
from lmbench.secrets import redact

__all__ = ["KEY_VERSION", "cache_key", "canonical_request", "key_of"]

#: Bumped when the shape of the keyed data changes, so old entries are never misread.
KEY_VERSION = 2

_PARAM_NAMES = tuple(f.name for f in fields(LMRequest) if f.name not in ("messages", "tools"))
_SORTED = orjson.OPT_SORT_KEYS


def _canonical_value(value: Any) -> Any:
    """Turn the few non-JSON values a request may hold into stable JSON values."""
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return model_dump(mode="json")
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(hashlib.sha256(value).digest()).decode()}
    raise TypeError(
        f"cannot build a cache key from a value of type {type(value).__name__} in the request; "
        "use JSON-able values (str, numbers, lists, dicts) in LMRequest.extra, or pass cache=False"
    )


def _canonical_bytes(lm_name: str, request: LMRequest, rollout_id: Any) -> bytes:
    params = {name: getattr(request, name) for name in _PARAM_NAMES}
    params["tools"] = [tool.to_dict() for tool in request.tools]
    temperature = params["temperature"]
    if isinstance(temperature, float) and temperature.is_integer():
        params["temperature"] = int(temperature)
    if params["extra"]:
        params["extra"] = redact(params["extra"])
    payload = {
        "v": KEY_VERSION,
        "lm": lm_name,
        "messages": [message.to_dict() for message in request.messages],
        "params": params,
        "rollout_id": rollout_id,
    }
    return _canonical_json(payload)


def _canonical_json(payload: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(payload, option=_SORTED, default=_canonical_value)
    except orjson.JSONEncodeError as exc:
        # orjson wraps what ``_canonical_value`` raised; a value it cannot write at all
        # (an integer past 64 bits, a non-string key) is reported the same way.
        cause = exc.__cause__
        if isinstance(cause, TypeError):
            raise TypeError(str(cause)) from None
        if "surrogates" in str(exc):  # lone surrogates in the text: keyed escaped, never lost
            text = json.dumps(
                payload, sort_keys=True, separators=(",", ":"), default=_canonical_value
            )
            return text.encode()
        raise TypeError(
            f"cannot build a cache key from the request ({exc}); use JSON-able values in "
            "LMRequest.extra, or pass cache=False"
        ) from None


def canonical_request(lm_name: str, request: LMRequest, rollout_id: Any = None) -> str:
    """The canonical JSON text that ``cache_key`` hashes (useful to see why two keys differ)."""
    return _canonical_bytes(lm_name, request, rollout_id).decode()


def key_of(payload: dict[str, Any]) -> str:
    """A 64-hex-digit key for any JSON-able ``payload``, by the same canonical JSON.

    Other kinds of model call key their requests with it; their payload names the kind (e.g.
    ``{"kind": "embedding", ...}``) so that no two kinds share a key.
    """
    return hashlib.sha256(_canonical_json(payload)).hexdigest()


def cache_key(lm: LM | str, request: LMRequest, *, rollout_id: Any = None) -> str:
    """A 64-hex-digit key for ``request`` sent to ``lm`` (an LM or its ``provider/model`` name)."""
    name = lm if isinstance(lm, str) else lm.name
    return hashlib.sha256(_canonical_bytes(name, request, rollout_id)).hexdigest()
