"""Prediction as HTML and as text: fields, then how they were made (usage, cost, latency,
cache, adapter, repairs, fallbacks), then the exact prompt and raw response, collapsed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lmbench.display import printable
from lmbench.money import format_usd
from lmbench.notebook.html import (
    badge,
    box,
    bullets,
    details,
    esc,
    heading,
    kv_table,
    meta,
    pre,
    show_value,
    style,
    table,
)
from lmbench.notebook.render_agent import agent_html, agent_text
from lmbench.notebook.render_sandbox import code_steps_html, code_steps_text

if TYPE_CHECKING:
    from lmbench.calls import LMCall
    from lmbench.primitives.prediction import Prediction

__all__ = [
    "CallFacts",
    "FullPrediction",
    "call_facts",
    "format_cost",
    "messages_html",
    "messages_text",
    "prediction_html",
    "prediction_text",
]


def format_cost(usd: float | None) -> str:
    """Dollars as the notebook shows them (``lmbench.money``, trailing zeros dropped)."""
    return format_usd(usd, trim=True)


@dataclass(frozen=True)
class CallFacts:
    """What the footer of a prediction shows, gathered from its call tree."""

    models: list[str]
    input_tokens: int
    output_tokens: int
    cost: float | None
    latency_s: float | None
    cache: list[str]
    errors: list[str]


def _cache_state(call: LMCall) -> str:
    return f"hit ({call.cache_hit})" if call.cache_hit else call.cache_state


def call_facts(prediction: Prediction) -> CallFacts:
    calls = prediction.lm_calls
    node = prediction.call
    latency = None
    if node is not None and node.ended is not None:
        latency = node.ended - node.started
    usage = prediction.usage
    return CallFacts(
        models=list(dict.fromkeys(call.lm.name for call in calls)),
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost=prediction.cost,
        latency_s=latency,
        cache=[_cache_state(call) for call in calls],
        errors=[call.error for call in calls if call.error],
    )


def _facts_items(facts: CallFacts, prediction: Prediction) -> list[str]:
    """The footer line: model, tokens, cost, latency, cache, adapter (each kept on one line)."""
    items = [
        esc(", ".join(facts.models) or "no model"),
        esc(f"{facts.input_tokens} in / {facts.output_tokens} out tokens"),
        esc(f"cost {format_cost(facts.cost)}"),
    ]
    if facts.latency_s is not None:
        items.append(esc(f"latency {facts.latency_s:.3f} s"))
    if facts.cache:
        items.append(esc("cache " + ", ".join(facts.cache)))
    if prediction.adapter:
        kind = "warn" if prediction.fell_back else "ok"
        items.append(badge(prediction.adapter, kind))
    return items


def _facts_line(facts: CallFacts, prediction: Prediction) -> str:
    cells = "".join(
        f'<span style="white-space:nowrap;margin-right:14px">{item}</span>'
        for item in _facts_items(facts, prediction)
    )
    return f'<div class="lmb-facts" {style("meta", "margin:6px 0 2px")}>{cells}</div>'


def _timeline_html(prediction: Prediction) -> str:
    """Each adapter attempt of a fallback, in order: the failed ones with why, then the one
    that parsed."""
    if len(prediction.attempts) < 2 and not prediction.fell_back:
        return ""
    steps = []
    for number, attempt in enumerate(prediction.attempts, 1):
        state = badge("did not parse", "warn") if attempt.error else badge("parsed", "ok")
        tokens = meta(f" {attempt.usage.total_tokens} tokens")
        reason = pre(attempt.error) if attempt.error else ""
        steps.append(f"attempt {number}: {esc(attempt.adapter)} {state}{tokens}{reason}")
    return heading("Fallback timeline") + bullets(steps, ordered=True)


def _repairs_html(prediction: Prediction) -> str:
    if not prediction.repairs:
        return ""
    rows = [[esc(r.rule), esc(r.field or ""), esc(r.detail)] for r in prediction.repairs]
    return heading("Repairs applied") + table(["rule", "field", "detail"], rows, nowrap=(0, 1))


def _code_steps(prediction: Prediction) -> tuple[list[Any], str]:
    """The code runs of a ProgramOfThought (``code_runs``) or CodeAct (``trajectory``)."""
    extra = vars(prediction)
    if extra.get("code_runs"):
        return list(extra["code_runs"]), "Program"
    steps = extra.get("trajectory") or []
    if steps and all(hasattr(s, "code") and hasattr(s, "result") for s in steps):
        return list(steps), "Step"
    return [], ""


def _code_html(prediction: Prediction) -> str:
    steps, title = _code_steps(prediction)
    if not steps:
        return ""
    return heading("Code runs") + code_steps_html(steps, title)


def messages_html(messages: Any) -> str:
    parts = [f"<div {style('meta')}>{esc(m.role)}</div>{pre(m.text)}" for m in messages]
    return "".join(parts)


def messages_text(messages: Any) -> str:
    return "\n\n".join(f"--- {m.role} ---\n{m.text}" for m in messages)


def _exchange_html(prediction: Prediction, *, expanded: bool) -> str:
    out = []
    calls = prediction.lm_calls
    for number, call in enumerate(calls, 1):
        label = (
            f" (call {number} of {len(calls)}, {call.adapter or 'adapter'})"
            if len(calls) > 1
            else ""
        )
        out.append(details(f"Prompt{label}", messages_html(call.request.messages), open_=expanded))
        if call.response is not None:
            texts = call.response.texts
            body = "".join(pre(t) for t in texts) if texts else meta("empty")
            out.append(details(f"Raw response{label}", body, open_=expanded))
    return "".join(out)


#: Every cell says ``text-align:left``: JupyterLab right-aligns table cells that do not.
_VALUE = (
    "font-size:15px;white-space:pre-wrap;word-break:break-word;padding:4px 14px 4px 0;"
    "text-align:left"
)


def _value_html(value: Any) -> str:
    """A field value, large: text as it is (wrapped), other values by ``repr``."""
    text = value if isinstance(value, str) else repr(value)
    return f'<td class="lmb-value" style="{_VALUE};border-bottom:1px solid rgba(127,127,127,.2)">{esc(text)}</td>'


def _fields_html(fields: dict[str, Any], prediction: Prediction) -> str:
    """The answer first: one row per field with its name, its value large, its type muted."""
    specs = prediction.signature.output_fields if prediction.signature is not None else {}
    cell = (
        "padding:4px 14px 4px 0;vertical-align:top;white-space:nowrap;text-align:left;"
        "border-bottom:1px solid rgba(127,127,127,.2)"
    )
    rows = []
    for name, value in fields.items():
        spec = specs.get(name)
        kind = esc(spec.type_name) if spec else ""
        rows.append(
            f'<tr><th style="{cell};font-weight:600">{esc(name)}</th>'
            f"{_value_html(value)}"
            f'<td class="lmb-type" style="{cell};opacity:.6;font-size:12px">{kind}</td></tr>'
        )
    return f'<table style="border-collapse:collapse;margin:2px 0"><tbody>{"".join(rows)}</tbody></table>'


def prediction_html(prediction: Prediction, *, expanded: bool = False) -> str:
    """The prediction; ``expanded`` opens the inputs, prompt and raw response sections."""
    body = _fields_html(prediction.to_dict(), prediction)
    if len(prediction.completions) > 1:
        others = "".join(
            heading(f"completion {i}") + _fields_html(c, prediction)
            for i, c in enumerate(prediction.completions[1:], 2)
        )
        body += details(f"{len(prediction.completions) - 1} more completions", others)
    facts = call_facts(prediction)
    body += _facts_line(facts, prediction)
    if not prediction.fell_back and facts.errors:
        # failures the program recovered from (a retry, a refinement): notes, not errors
        body += heading("Recovered failures") + bullets(
            [badge("recovered", "warn") + pre(error) for error in facts.errors]
        )
    body += _repairs_html(prediction) + _timeline_html(prediction) + _code_html(prediction)
    body += agent_html(prediction)
    if prediction.inputs:
        rows = [(name, show_value(value)) for name, value in prediction.inputs.items()]
        body += details("Inputs", kv_table(rows), open_=expanded)
    body += _exchange_html(prediction, expanded=expanded)
    title = (
        f"Prediction · {prediction.signature}" if prediction.signature is not None else "Prediction"
    )
    return box(title, body)


def prediction_text(prediction: Prediction) -> str:
    lines = ["Prediction"]
    lines += [f"  {name} = {value!r}" for name, value in prediction.items()]
    if len(prediction.completions) > 1:
        lines.append(f"  ({len(prediction.completions)} completions)")
    facts = call_facts(prediction)
    summary = (
        f"  [{', '.join(facts.models) or 'no model'}; {facts.input_tokens} in / "
        f"{facts.output_tokens} out tokens; cost {format_cost(facts.cost)}"
    )
    if facts.latency_s is not None:
        summary += f"; {facts.latency_s:.3f} s"
    if facts.cache:
        summary += f"; cache {', '.join(facts.cache)}"
    if prediction.adapter:
        summary += f"; adapter {prediction.adapter}"
    lines.append(summary + "]")
    lines += [f"  repair: {r.rule} {r.field or ''} {r.detail}".rstrip() for r in prediction.repairs]
    if prediction.fell_back:
        steps = " -> ".join(
            f"{a.adapter} ({'failed' if a.error else 'ok'})" for a in prediction.attempts
        )
        lines.append(f"  fallback: {steps}")
    lines += [f"  error: {error}" for error in facts.errors]
    steps, title = _code_steps(prediction)
    if steps:
        lines.append(code_steps_text(steps, title))
    lines += agent_text(prediction)
    return "\n".join(lines)


@dataclass(frozen=True)
class FullPrediction:
    """A prediction shown with every section open (``%lmbench last``)."""

    prediction: Prediction

    def _repr_html_(self) -> str:
        return prediction_html(self.prediction, expanded=True)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        text = prediction_text(self.prediction)
        for call in self.prediction.lm_calls:
            text += "\n" + messages_text(call.request.messages)
            if call.response is not None:
                text += "\n--- response ---\n" + "\n".join(call.response.texts)
        printer.text(printable(text))
