"""From the raw value found for each output field to a ``ParseResult`` (or one clear error).

Adapters find each field's raw value (text after a marker, inside a tag, under a JSON key);
``assemble_outputs`` coerces them in field order, fills in missing optional fields, and on
failure raises ``AdapterParseError`` with the first failing field, its span and everything
parsed already. ``match_keys`` maps the keys of a JSON object to output fields.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, NamedTuple

from lmbench.adapters.base import ParseResult, Repair
from lmbench.adapters.coercion import coerce_value
from lmbench.adapters.plan import OutputPlan, SignaturePlan
from lmbench.adapters.scalars import CoercionError, short
from lmbench.adapters.typeplan import normalize_name
from lmbench.errors import AdapterParseError
from lmbench.logs import get_logger
from lmbench.settings import current

__all__ = ["Found", "assemble_outputs", "has_output_keys", "log_repairs", "match_keys"]

_log = get_logger("lmbench.adapters")


class Found(NamedTuple):
    """The raw value found for a field, and where it sits in the model's text (if known).

    A value read from a JSON object keeps its ``key`` instead: its span is looked up only
    if the value fails.
    """

    value: Any
    span: tuple[int, int] | None = None
    key: str | None = None
    others: tuple[Any, ...] = ()  # later values written for the same field

    def with_other(self, value: Any) -> Found:
        """This field also written a further time, with ``value``."""
        return self._replace(others=(*self.others, value))


def assemble_outputs(
    adapter: str,
    plan: SignaturePlan,
    found: Mapping[str, Found],
    raw: str,
    repairs: list[Repair],
    missing: str,
    *,
    searched: str | None = None,
    empty: bool = False,
) -> ParseResult:
    """Coerce every output field; ``missing`` is the reason given for an absent field
    (``{name}`` is filled in). ``searched`` is the text the fields were found in when it is
    not ``raw`` itself (reasoning blanked out; same length, so spans hold in both). An answer
    with no field at all is refused (it is in some other form) unless ``empty``: the adapter's
    own form of an answer that leaves every field out (``{}``)."""
    values: dict[str, Any] = {}
    failure: tuple[str, str, tuple[int, int] | None] | None = None
    for out in plan.outputs:
        item = found.get(out.name)
        if item is None:
            if not found and not empty and failure is None:
                # No field at all: the answer is in some other form, so defaults and None would
                # stand for values it may well hold.
                failure = (out.name, missing.replace("{name}", out.name), None)
            elif out.spec.has_default:
                values[out.name] = out.spec.default
                repairs.append(
                    Repair("missing_default", out.name, "absent; used the field's default")
                )
            elif out.optional:
                values[out.name] = None
                repairs.append(Repair("missing_optional", out.name, "absent; set to None"))
            elif failure is None:
                failure = (out.name, missing.replace("{name}", out.name), None)
            continue
        try:
            value, fixes = coerce_value(
                item.value, out.type, out.name, out.spec.constraints, out.rules
            )
        except CoercionError as exc:
            if failure is None:
                span = item.span
                if span is None and item.key is not None:
                    span = _value_span(searched or raw, item.key)
                failure = (out.name, exc.reason, span)
            continue
        if item.others:
            clash = _disagreeing(item, out, value)
            if clash is not None:
                if failure is None:
                    failure = (out.name, clash, item.span)
                continue
            fixes = [*fixes, _repeated(out.name, len(item.others) + 1)]
        values[out.name] = value
        if fixes:
            repairs.extend(fixes)
    if failure is not None:
        name, reason, span = failure
        expected = next(o.expected for o in plan.outputs if o.name == name)
        raise AdapterParseError(
            reason,
            adapter=adapter,
            field=name,
            expected=expected,
            raw=raw,
            parsed=values,
            span=span,
        )
    if repairs:
        log_repairs(adapter, repairs)
    return ParseResult(values, repairs)


def _disagreeing(item: Found, out: OutputPlan, value: Any) -> str | None:
    """Why a field written several times cannot be read (its values differ), or None."""
    readings = [value]
    for other in item.others:
        try:
            reading, _ = coerce_value(other, out.type, out.name, out.spec.constraints, out.rules)
        except CoercionError:
            reading = other
        if reading != value:
            readings.append(reading)
    if len(readings) == 1:
        return None
    shown = ", ".join(short(r, 30) if isinstance(r, str) else repr(r)[:30] for r in readings[:4])
    return f"the answer gives {out.name} {len(readings)} different values ({shown}); expected one"


def _repeated(name: str, times: int) -> Repair:
    return Repair("duplicate_field", name, f"written {times} times, the same value each time")


def log_repairs(adapter: str, repairs: list[Repair]) -> None:
    """Log each repair on ``lmbench.adapters``: at INFO with ``debug_parse`` on (the setting or
    ``LMBENCH_DEBUG_PARSE``), at DEBUG otherwise."""

    level = logging.INFO if current().debug_parse else logging.DEBUG
    if not _log.isEnabledFor(level):
        return
    for repair in repairs:
        _log.log(
            level,
            "%s repaired field %s: %s (%s)",
            adapter,
            repair.field,
            repair.rule,
            repair.detail,
        )


def has_output_keys(plan: SignaturePlan, obj: Mapping[str, Any]) -> bool:
    """Whether any key of ``obj`` names an output field (loosely)."""
    names = plan.output_names
    return any(key in names or normalize_name(str(key)) in plan.output_by_norm for key in obj)


def match_keys(
    plan: SignaturePlan, obj: Mapping[str, Any], repairs: list[Repair]
) -> dict[str, Found]:
    """The output fields among a JSON object's keys (matched loosely)."""
    names = plan.output_names
    if not has_output_keys(plan, obj):
        wrapped = _unwrap(plan, obj)
        if wrapped is not None:
            key, obj = wrapped
            repairs.append(Repair("unwrapped_object", None, f"read the fields inside key {key!r}"))
    found: dict[str, Found] = {}
    ignored = []
    for key, value in obj.items():
        name = key if key in names else plan.output_by_norm.get(normalize_name(str(key)))
        if name is None:
            ignored.append(key)
            continue
        if name in found:
            found[name] = found[name].with_other(value)
            continue
        if name != key:
            repairs.append(Repair("key_case", name, f"key {key!r} read as {name!r}"))
        found[name] = Found(value, None, str(key))
    for key, value in getattr(obj, "repeats", ()):
        name = key if key in names else plan.output_by_norm.get(normalize_name(str(key)))
        if name in found:
            found[name] = found[name].with_other(value)
    if ignored:
        repairs.append(
            Repair("ignored_keys", None, f"ignored keys that are not output fields: {ignored}")
        )
    return found


def _unwrap(plan: SignaturePlan, obj: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """``{"output": {"answer": ...}}``: the one nested object holding the output fields."""
    if len(obj) != 1:
        return None
    ((key, inner),) = obj.items()
    if isinstance(inner, dict) and any(
        normalize_name(str(k)) in plan.output_by_norm for k in inner
    ):
        return key, inner
    return None


def _value_span(raw: str, key: str) -> tuple[int, int] | None:
    """Where the value of ``"key":`` is in the raw JSON text (None if it cannot be found)."""
    quoted = json.dumps(key, ensure_ascii=False)
    position = raw.find(quoted)
    if position < 0:
        return None
    start = position + len(quoted)
    while start < len(raw) and raw[start] in " \t\r\n:":
        start += 1
    try:
        _, end = json.JSONDecoder().raw_decode(raw, start)
    except ValueError:
        end = len(raw)
    return start, end
