"""The call tree (module calls with their nested module and LM calls) as HTML and text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lmbench.notebook.html import badge, box, details, esc, pre
from lmbench.notebook.render_prediction import format_cost, messages_html

if TYPE_CHECKING:
    from lmbench.calls import LMCall, ModelCall, ModuleCall

__all__ = ["trace_html", "trace_text"]


def _seconds(node: ModuleCall) -> str:
    duration = node.duration_s
    return "running" if duration is None else f"{duration:.3f} s"


def _lm_label(call: LMCall) -> str:
    usage = call.response.usage if call.response is not None else None
    tokens = f"{usage.input_tokens}/{usage.output_tokens} tokens" if usage else "no response"
    cache = f", cache {call.cache_state}"
    fallback = f", fell back from {call.fallback_from}" if call.fallback_from else ""
    return f"LM {call.lm.name} via {call.adapter or '?'}: {tokens}{cache}{fallback}"


def _lm_html(call: LMCall) -> str:
    state = badge("error", "err") if call.error else badge("ok", "ok")
    inner = messages_html(call.request.messages)
    if call.response is not None:
        inner += "<b>response</b>" + "".join(pre(t) for t in call.response.texts)
    if call.error:
        inner += pre(call.error)
    return f"<li>{state} {details(_lm_label(call), inner)}</li>"


def _model_label(call: ModelCall) -> str:
    """Another kind of model call (an embedding batch): kind, client, tokens, cache."""
    kind = call.kind
    tokens = f"{call.usage.input_tokens} tokens" if call.response is not None else "no response"
    return (
        f"{kind.entry_kind} {kind.client_label(call.client)}: {kind.preview(call.request)}; "
        f"{tokens}, cache {call.cache_state}"
    )


def _model_html(call: ModelCall) -> str:
    state = badge("error", "err") if call.error else badge("ok", "ok")
    error = pre(call.error) if call.error else ""
    return f"<li>{state} {esc(_model_label(call))}{error}</li>"


def _child_html(child: ModuleCall | ModelCall) -> str:
    from lmbench.calls import LMCall, ModuleCall

    if isinstance(child, LMCall):
        return _lm_html(child)
    if isinstance(child, ModuleCall):
        return _node_html(child)
    return _model_html(child)


def _node_html(node: ModuleCall) -> str:
    state = badge("error", "err") if node.error else badge("ok", "ok")
    label = f"{node.module}" + (f" ({node.signature})" if node.signature else "")
    children = "".join(_child_html(child) for child in node.children)
    error = pre(node.error) if node.error else ""
    return (
        f"<li>{state} <b>{esc(label)}</b> <span class='lmb-meta'>{esc(_seconds(node))}</span>"
        f"{error}<ul>{children}</ul></li>"
    )


def trace_html(root: ModuleCall) -> str:
    usage = root.usage
    cost = root.cost
    meta = esc(
        f"{usage.input_tokens} in / {usage.output_tokens} out tokens, cost {format_cost(cost)}"
    )
    return box("Trace", f"<ul>{_node_html(root)}</ul>", meta=meta)


def trace_text(root: ModuleCall) -> str:
    from lmbench.calls import LMCall, ModuleCall

    lines: list[str] = []

    def walk(node: ModuleCall, depth: int) -> None:
        pad = "  " * depth
        flag = " ERROR" if node.error else ""
        sig = f" ({node.signature})" if node.signature else ""
        lines.append(f"{pad}{node.module}{sig} {_seconds(node)}{flag}")
        for child in node.children:
            if isinstance(child, LMCall):
                lines.append(f"{pad}  {_lm_label(child)}{' ERROR' if child.error else ''}")
            elif isinstance(child, ModuleCall):
                walk(child, depth + 1)
            else:
                lines.append(f"{pad}  {_model_label(child)}{' ERROR' if child.error else ''}")

    walk(root, 0)
    return "Trace\n" + "\n".join(lines)
