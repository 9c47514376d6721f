"""What a multi-step module did, under its prediction: ReAct's steps and notices (stagnation,
truncation, why the loop stopped), the attempts of BestOfN/Refine with their rewards, and
what each step of a Program returned."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lmbench.notebook.html import badge, details, esc, pre, table

if TYPE_CHECKING:
    from lmbench.primitives.prediction import Prediction

__all__ = ["agent_html", "agent_text"]


def _extra(prediction: Prediction, name: str) -> Any:
    """An attribute a module set on the prediction (not an output field), or None."""
    return vars(prediction).get(name)


def _arguments(args: Any) -> str:
    return json.dumps(args, ensure_ascii=False, default=str)


def _react_steps(prediction: Prediction) -> list[Any]:
    """ReAct's steps (CodeAct's trajectory, code runs, is shown with the sandbox's renderer)."""
    trajectory = _extra(prediction, "trajectory") or []
    return list(trajectory) if all(hasattr(s, "tool_name") for s in trajectory) else []


def _steps_html(prediction: Prediction) -> str:
    trajectory = _react_steps(prediction)
    if not trajectory:
        return ""
    rows = []
    for number, step in enumerate(trajectory, 1):
        flags = ""
        if step.error:
            flags += " " + badge("error", "err")
        if step.repeat_of is not None:
            flags += " " + badge(f"repeats step {step.repeat_of}", "warn")
        call = f"<code>{esc(step.tool_name)}({esc(_arguments(step.tool_args))})</code>{flags}"
        rows.append([esc(number), pre(step.thought), call, pre(step.observation)])
    stop = _extra(prediction, "stop_reason")
    hidden = _extra(prediction, "hidden_steps") or 0
    meta = []
    if stop is not None:
        meta.append(badge(f"stopped: {stop}", "ok" if stop == "finish" else "warn"))
    if _extra(prediction, "native_tools"):
        meta.append(badge("native tool calls"))
    if hidden:
        meta.append(badge(f"{hidden} oldest steps hidden from the model", "warn"))
    notices = _extra(prediction, "notices") or []
    notes = "".join(f"<div>{badge(n.kind, 'warn')} {esc(n.message)}</div>" for n in notices)
    body = " ".join(meta) + notes + table(["#", "thought", "tool call", "observation"], rows)
    return details(f"Trajectory ({len(trajectory)} steps)", body)


def _rollouts_html(prediction: Prediction) -> str:
    rollouts = _extra(prediction, "rollouts")
    if not rollouts:
        return ""
    rows = []
    for rollout in rollouts:
        outcome = (
            badge(f"{type(rollout.error).__name__}: {rollout.error}", "err")
            if rollout.error is not None
            else esc(f"{rollout.reward:g}")
        )
        hint = rollout.inputs.get("hint", "") if isinstance(rollout.inputs, dict) else ""
        rows.append([esc(rollout.index + 1), outcome, pre(hint) if hint else ""])
    return details(
        f"Attempts ({len(rollouts)})", table(["attempt", "reward", "advice given"], rows)
    )


def _program_html(prediction: Prediction) -> str:
    results = _extra(prediction, "steps")
    if not results:
        return ""
    rows = []
    for number, result in enumerate(results, 1):
        fields = dict(result) if isinstance(result, Mapping) else {}
        shown = "".join(f"<div><b>{esc(k)}</b>: {esc(v)}</div>" for k, v in fields.items())
        node = getattr(result, "call", None)
        module = node.module if node is not None else type(result).__name__
        rows.append([esc(number), esc(module), shown])
    return details(f"Program steps ({len(results)})", table(["step", "module", "outputs"], rows))


def agent_html(prediction: Prediction) -> str:
    return _steps_html(prediction) + _rollouts_html(prediction) + _program_html(prediction)


def agent_text(prediction: Prediction) -> list[str]:
    lines = []
    for number, step in enumerate(_react_steps(prediction), 1):
        mark = " (error)" if step.error else ""
        if step.repeat_of is not None:
            mark += f" (repeats step {step.repeat_of})"
        lines.append(
            f"  step {number}: {step.tool_name}({_arguments(step.tool_args)}){mark} -> "
            f"{step.observation[:80]}"
        )
    if _extra(prediction, "stop_reason") is not None:
        lines.append(f"  stopped: {prediction.stop_reason}")
    lines += [f"  {n.kind}: {n.message}" for n in _extra(prediction, "notices") or []]
    for rollout in _extra(prediction, "rollouts") or []:
        outcome = f"error {rollout.error}" if rollout.error is not None else rollout.reward
        lines.append(f"  attempt {rollout.index + 1}: {outcome}")
    return lines
