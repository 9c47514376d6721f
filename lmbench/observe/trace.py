"""The call tree as data: modules, their LM calls (adapter, parse repairs, fallbacks, retry
attempts, cache hits) and timings, for ``Prediction.trace`` and JSON export.

Times: ``started_at`` is wall-clock epoch seconds, ``offset_s`` the start relative to the
root of the tree, ``duration_s`` the length (None while still running).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lmbench.observe.entry import json_default

if TYPE_CHECKING:
    from lmbench.observe.calls import LMCall, ModuleCall

__all__ = ["call_tree", "export_trace", "lm_node", "tree_to_json"]


def _root_start(node: ModuleCall | LMCall) -> float:
    parent = node.parent
    while parent is not None and parent.parent is not None:
        parent = parent.parent
    return parent.started if parent is not None else node.started


def _usage(call: LMCall) -> dict[str, int] | None:
    return call.response.usage.to_dict() if call.response is not None else None


def lm_node(call: LMCall, origin: float | None = None) -> dict[str, Any]:
    origin = _root_start(call) if origin is None else origin
    response = call.response
    return {
        "kind": "lm",
        "call_id": call.call_id,
        "lm": call.lm.name,
        "response_model": response.model if response is not None else None,
        "adapter": call.adapter,
        "fallback_from": call.fallback_from,
        "cache": call.cache_state,
        "stream": call.streamed,
        "started_at": call.timestamp,
        "offset_s": call.started - origin,
        "duration_s": call.duration_s,
        "latency_s": call.latency_s,
        "ttft_s": call.ttft_s,
        "usage": _usage(call),
        "cost_usd": call.price.usd if call.price is not None else None,
        "saved_usd": call.saved_usd,
        "finish_reason": response.finish_reason if response is not None else None,
        "attempts": [a.to_dict() for a in response.attempts] if response is not None else [],
        "diagnostics": list(call.diagnostics),
        "error": call.error,
    }


def call_tree(node: ModuleCall, origin: float | None = None) -> dict[str, Any]:
    """``node`` and everything below it as nested dicts."""
    from lmbench.observe.calls import LMCall

    origin = _root_start(node) if origin is None else origin
    cost = node.cost
    return {
        "kind": "module",
        "call_id": node.call_id,
        "module": node.module,
        "signature": node.signature,
        "started_at": node.timestamp,
        "offset_s": node.started - origin,
        "duration_s": node.duration_s,
        "usage": node.usage.to_dict(),
        "cost_usd": cost,
        "cost_known": node.cost_known,
        "error": node.error,
        "children": [
            lm_node(child, origin) if isinstance(child, LMCall) else call_tree(child, origin)
            for child in node.children
        ],
    }


def tree_to_json(node: ModuleCall, *, indent: int | None = 2) -> str:
    return json.dumps(call_tree(node), indent=indent, ensure_ascii=False, default=json_default)


def export_trace(node: ModuleCall, path: str | Path) -> Path:
    """Write the call tree of ``node`` as JSON to ``path``; returns the path."""
    target = Path(path)
    target.write_text(tree_to_json(node), encoding="utf-8")
    return target
