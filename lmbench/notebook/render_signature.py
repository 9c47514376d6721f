"""Signature and Example as HTML and as text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lmbench.notebook.html import box, esc, pre, show_value, table

if TYPE_CHECKING:
    from lmbench.primitives.example import Example
    from lmbench.signatures.fields import FieldSpec
    from lmbench.signatures.signature import Signature

__all__ = ["example_html", "example_text", "signature_html", "signature_text"]


def _constraints(spec: FieldSpec) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in spec.constraints)


def _field_row(spec: FieldSpec) -> list[str]:
    default = f"default {spec.default!r}" if spec.has_default else ""
    notes = "; ".join(part for part in (_constraints(spec), default) if part)
    return [
        esc(spec.kind),
        f"<code>{esc(spec.name)}</code>",
        f"<code>{esc(spec.type_name)}</code>",
        esc(spec.desc),
        esc(notes),
    ]


def _title(signature: Signature) -> str:
    """``Signature QA``, or just ``Signature`` for an unnamed one."""
    return "Signature" if signature.name == "Signature" else f"Signature {signature.name}"


def signature_html(signature: Signature) -> str:
    rows = [_field_row(spec) for spec in signature.fields.values()]
    body = pre(signature.instructions) + table(
        ["", "field", "type", "description", "constraints"], rows
    )
    return box(_title(signature), body, meta=esc(str(signature)))


def signature_text(signature: Signature) -> str:
    lines = [
        f"{_title(signature)}: {signature}",
        f"  instructions: {signature.instructions}",
    ]
    for spec in signature.fields.values():
        extra = f" ({_constraints(spec)})" if spec.constraints else ""
        desc = f" - {spec.desc}" if spec.desc else ""
        lines.append(f"  {spec.kind:<6} {spec.name}: {spec.type_name}{extra}{desc}")
    return "\n".join(lines)


def _role(example: Example, name: str) -> str:
    keys = example.input_keys
    if keys is None:
        return ""
    return "input" if name in keys else "label"


def example_html(example: Example) -> str:
    rows = [
        [esc(_role(example, k)), f"<code>{esc(k)}</code>", show_value(v)]
        for k, v in example.items()
    ]
    return box("Example", table(["", "field", "value"], rows))


def example_text(example: Example) -> str:
    lines = ["Example"]
    for name, value in example.items():
        role = _role(example, name)
        lines.append(f"  {name} = {value!r}" + (f"  ({role})" if role else ""))
    return "\n".join(lines)
