"""The call tree as data: modules, their model calls (adapter, parse repairs, fallbacks, retry
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
    from lmbench.calls import ModelCall, ModuleCall

__all__ = ["call_tree", "export_trace", "model_node", "tree_to_json"]


def _root_start(node: ModuleCall | ModelCall[Any, Any, Any]) -> float:
    parent = node.parent
    while parent is not None and parent.parent is not None:
        parent = parent.parent
    return parent.started if parent is not None else node.started


def model_node(call: ModelCall[Any, Any, Any], origin: float | None = None) -> dict[str, Any]:
    """One model call (an LM call, an embedding call...) as a node of the tree."""
    origin = _root_start(call) if origin is None else origin
    response = call.response
    return {
        "kind": call.kind.entry_kind,
        "call_id": call.call_id,
        "lm": call.kind.client_label(call.client),
        "response_model": getattr(response, "model", None),
        "adapter": getattr(call, "adapter", None),
        "fallback_from": getattr(call, "fallback_from", None),
        "cache": call.cache_state,
        "stream": call.streamed,
        "started_at": call.timestamp,
        "offset_s": call.started - origin,
        "duration_s": call.duration_s,
        "latency_s": call.latency_s,
        "ttft_s": call.ttft_s,
        "usage": call.usage.to_dict() if response is not None else None,
        "cost_usd": call.price.usd if call.price is not None else None,
        "saved_usd": call.saved_usd,
        "finish_reason": getattr(response, "finish_reason", None),
        "attempts": [a.to_dict() for a in getattr(response, "attempts", ())],
        "diagnostics": list(getattr(call, "diagnostics", ())),
        "error": call.error,
    }


def call_tree(node: ModuleCall, origin: float | None = None) -> dict[str, Any]:
    """``node`` and everything below it as nested dicts."""
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
            call_tree(child, origin) if hasattr(child, "children") else model_node(child, origin)
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
