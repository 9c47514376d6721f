"""Reading a ``%%predict`` cell body into input values.

The body is a list of ``field: value`` lines::

    question: What is the capital of {country}?
    context: |
        First passage.
        Second passage.
    passages: $retrieved

``{name}`` (or ``{name.attr}``, ``{Out[2]}``, ``{In[1]}``, ``{rows[0]}``) is replaced by the
text of a notebook value, ``{{`` and
``}}`` are literal braces, and braces around anything else (JSON, code) are left alone.
A value that is exactly ``$name`` passes the Python object itself (a list, an Image...).
``field: |`` starts a block made of the following indented lines, dedented. Blank lines
and lines starting with ``#`` between fields are skipped.

Values written as text are then converted to each field's type: ``3`` becomes ``3`` for an
``int`` field, ``["a", "b"]`` a list for ``list[str]``, with a clear error when they do not fit.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lmbench.modules.inputs import fit_value

__all__ = [
    "CellError",
    "CellValue",
    "check_complete",
    "coerce_inputs",
    "interpolate",
    "parse_cell",
    "resolve_name",
]

_FIELD_LINE = re.compile(r"^(?P<name>[^\s:#][^:]*?)\s*:(?:\s+(?P<value>.*?)|)\s*$")
_PATH = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[-?\d+\])*"
_PLACEHOLDER = re.compile(rf"\{{\{{|\}}\}}|\{{({_PATH})\}}")
_OBJECT = re.compile(rf"^\$({_PATH})$")
_STEP = re.compile(r"\.([A-Za-z_]\w*)|\[(-?\d+)\]")


class CellError(Exception):
    """A mistake in the cell, at ``line`` (1-based, in the body; 0 is the magic line)."""

    def __init__(self, message: str, *, line: int | None = None, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.source = source


@dataclass(frozen=True)
class CellValue:
    """One input from the body: its value, where it was written, and whether it is raw text."""

    name: str
    value: Any
    line: int
    source: str
    is_text: bool


def resolve_name(path: str, namespace: Mapping[str, Any], *, line: int, source: str) -> Any:
    """The notebook value ``path`` names (``x``, ``x.attr``, ``Out[2]``, ``In[1]``)."""
    head = re.match(r"[A-Za-z_]\w*", path).group(0)  # type: ignore[union-attr]
    if head not in namespace:
        raise CellError(
            f"unknown variable {head!r}: define it in a cell above, or escape the braces as {{{{ }}}}",
            line=line,
            source=source,
        )
    value = namespace[head]
    for step in _STEP.finditer(path, len(head)):
        attr, index = step.groups()
        try:
            value = getattr(value, attr) if attr is not None else value[int(index)]
        except AttributeError:
            raise CellError(
                f"{type(value).__name__} object has no attribute {attr!r} (in {path!r})",
                line=line,
                source=source,
            ) from None
        except (LookupError, TypeError):
            what = "no output" if head == "Out" else "no item"
            raise CellError(
                f"{head} has {what} [{index}] (in {path!r})", line=line, source=source
            ) from None
    return value


def interpolate(text: str, namespace: Mapping[str, Any], *, line: int, source: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return _text_of(resolve_name(match.group(1), namespace, line=line, source=source))

    return _PLACEHOLDER.sub(substitute, text)


def _text_of(value: Any) -> str:
    """A value as prompt text: a prediction's single output field alone, else ``str``."""
    from lmbench.primitives.prediction import Prediction

    if isinstance(value, Prediction) and len(value.to_dict()) == 1:
        return str(next(iter(value.to_dict().values())))
    return str(value)


def _block(lines: list[str], start: int) -> tuple[str, int]:
    """The indented block after line ``start`` (index), dedented, and the index after it."""
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][:1] in (" ", "\t")):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # trailing blank lines belong to no field
    return textwrap.dedent("\n".join(lines[start + 1 : end])), end


def parse_cell(body: str, namespace: Mapping[str, Any]) -> list[CellValue]:
    """The inputs written in ``body``; raises ``CellError`` naming the line at fault."""
    lines = body.splitlines()
    values: list[CellValue] = []
    seen: dict[str, int] = {}
    index = 0
    while index < len(lines):
        source = lines[index]
        number = index + 1
        stripped = source.strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        match = _FIELD_LINE.match(source)
        if match is None or source[:1] in (" ", "\t"):
            raise CellError(
                "expected 'field: value' (or 'field: |' followed by indented lines)",
                line=number,
                source=source,
            )
        name = match.group("name").strip()
        if not name.isidentifier():
            raise CellError(f"{name!r} is not a field name", line=number, source=source)
        if name in seen:
            raise CellError(
                f"field {name!r} is given twice (first on line {seen[name]})",
                line=number,
                source=source,
            )
        seen[name] = number
        raw = match.group("value") or ""
        index += 1
        if raw == "|":
            raw, index = _block(lines, index - 1)
        object_ref = _OBJECT.match(raw)
        if object_ref:
            value = resolve_name(object_ref.group(1), namespace, line=number, source=source)
            values.append(CellValue(name, value, number, source, is_text=False))
        else:
            text = interpolate(raw, namespace, line=number, source=source)
            values.append(CellValue(name, text, number, source, is_text=True))
    return values


def _literal(text: str) -> Any:
    """Text as a JSON or Python literal when it is one, else the text itself."""
    for reader in (json.loads, ast.literal_eval):
        try:
            return reader(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return text


def coerce_inputs(values: list[CellValue], signature: Any) -> dict[str, Any]:
    """Check the names against the signature's inputs and convert text to each field's type.

    Completeness is checked apart (``check_complete``): ``--over`` fills inputs from columns.
    """
    fields = signature.input_fields
    out: dict[str, Any] = {}
    for item in values:
        spec = fields.get(item.name)
        if spec is None:
            hint = " (it is an output field)" if item.name in signature.output_fields else ""
            raise CellError(
                f"unknown field {item.name!r}{hint}; the inputs of {signature} are {list(fields)}",
                line=item.line,
                source=item.source,
            )
        if not item.is_text or spec.annotation is str:
            out[item.name] = item.value
            continue
        try:
            out[item.name] = fit_value(spec.annotation, _literal(item.value))
        except ValueError as exc:
            raise CellError(
                f"field {item.name!r} expects {spec.type_name}, got {item.value!r}: {exc}",
                line=item.line,
                source=item.source,
            ) from None
    return out


def check_complete(
    signature: Any, given: set[str], *, frame: str | None = None, form: bool = False
) -> None:
    """Raise ``CellError`` when an input without a default is not in ``given``.

    ``frame`` names the ``--over`` DataFrame, whose columns may also provide inputs; ``form``
    words the fix for the playground's form instead of a cell.
    """
    missing = [n for n, f in signature.input_fields.items() if n not in given and not f.has_default]
    if not missing:
        return
    if form:
        names = ", ".join(repr(name) for name in missing)
        raise CellError(f"fill in the field{'s' if len(missing) > 1 else ''} {names}")
    fix = f"add a line '{missing[0]}: ...' to the cell"
    if frame is not None:
        fix += f", or a column of that name to {frame}"
    raise CellError(f"missing input(s) {missing}: {fix}")
