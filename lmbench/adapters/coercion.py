"""The one value-coercion routine every adapter uses: model text (or a JSON value) -> a typed value.

``coerce(value_or_text, annotation, field)`` returns ``(value, repairs)``. Well-formed values
take a fast path; otherwise tolerant readers run before pydantic validation, and each rule
that fires is returned as a ``Repair``. A value that cannot be recovered raises
``AdapterParseError``; nothing is ever guessed silently. Refused as having no one reading:
several different numbers, a percentage or ratio for a float ("25%", "8/10"), a number glued
to a word ("item-3"), scaled by a word ("5k", "1.5 million"), bounded or signed in words
("< 5", "at least 3", "5+", "minus 5"), raised to a power ("10²"), NaN, hex and version
strings, yes and no together, a yes/no word inside a longer phrase ("false positive"), a key
or field written twice with different values, JSON cut off in the middle of a value, a date
that reads two ways ("03/04/2024", "03-04-2024"), a date bound ("before 2024-04-05"), a bare
number for a date or a time (a timestamp in which unit?), "1,234" for a list of numbers. Values
inside objects and lists are read by these same readers, never by pydantic's lax mode (which
reads ``true`` as 1).

Repair rules (``Repair.rule``):

==================== ==============================================================
strip_markup         markdown emphasis, backticks, quotes or a final full stop removed
code_fence           a ``` fence removed around JSON
json_in_prose        JSON taken out of surrounding text
python_literal       a Python literal (single quotes, True/False/None) read as JSON
json_repair          broken JSON (trailing commas, missing quotes...) fixed by json-repair
typographic_quotes   JSON written with curly quotes (“key”) read with plain ones
number_in_prose      the one number of a phrase ("High (95%)" -> 95 for an int)
thousands_separator  "1,234" -> 1234
unicode_minus        a minus sign other than ASCII's ("\u22125" -> -5)
digits_written       digits other than ASCII's ("\uff11\uff12" -> 12) or grouped by "_" ("1_000")
whole_float          3.0 for an int -> 3
bool_word            yes/no, y/n, on/off, correct/wrong -> a bool
bool_in_prose        a phrase opening with yes/no ("Yes, because ...") -> a bool
bool_from_number     1/0 given for a bool
value_case           a Literal/Enum value differing in case, spaces or underscores
enum_name            an Enum member given by name instead of value
choice_in_prose      exactly one allowed Literal/Enum value found in a phrase
null_word            "N/A", "-", "unknown"... for an Optional that is not text -> None
bullet_list          "- a" / "* a" lines -> a list
numbered_list        "1. a" / "2) b" lines -> a list
line_list            one item per line -> a list
comma_list           "a, b, c" -> a list
single_item_list     one value for a list field -> a one-item list
date_format          a date in a common written format ("March 5, 2024")
date_in_prose        the one date of a phrase
datetime_to_date     a date and time given for a date: the date kept
datetime_format      a written date and time ("March 5, 2024 2:30 PM")
date_only            a date without a time for a datetime: midnight
time_format          a 12-hour or short time ("3:30 PM")
key_case             a JSON key differing in case/spaces from the field name
duplicate_key        a JSON key written twice with the same value
list_joined          a list of words or numbers given for a text field: one item a line
value_to_string      a number, nested list or object given for a text field, kept as JSON
qualitative_number   a word for a number ("high" -> 0.9), for fields with ``qualitative``
enum_alias           an alias for an allowed value, for fields with ``aliases``
==================== ==============================================================

``qualitative`` and ``aliases`` are opt-in, per field (``OutputField(qualitative=True)``,
``OutputField(aliases={"pos": "positive"})``): ``FieldRules`` carries them to the readers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from lmbench.adapters.choices import is_label, read_choice
from lmbench.adapters.constraints import check_constraints
from lmbench.adapters.jsontext import Expect, load_json
from lmbench.adapters.listtext import read_items
from lmbench.adapters.results import Repair
from lmbench.adapters.scalars import (
    CoercionError,
    Fix,
    read_bool,
    read_date,
    read_datetime,
    read_number,
    read_time,
    short,
    strip_markup,
)
from lmbench.adapters.typeplan import (
    ANNOTATED,
    ANY,
    BOOL,
    CHOICE,
    DATE,
    DATETIME,
    MAPPING,
    MODEL,
    NUMBER,
    OPTIONAL,
    OTHER,
    SEQUENCE,
    STR,
    TIME,
    UNION,
    TypePlan,
    expected_text,
    normalize_name,
    plan_for,
)
from lmbench.errors import AdapterParseError
from lmbench.signatures.fields import FieldSpec, type_name

__all__ = ["CoercionError", "FieldRules", "coerce", "coerce_value"]

_NULL_WORDS = frozenset(
    {"", "n/a", "na", "nil", "-", "--", "unknown", "not applicable", "not available", "not given"}
)


class FieldRules:
    """A field's opt-in readings: words for numbers (``qualitative``) and aliases of its
    allowed values (``aliases``), keyed by their normalised text."""

    __slots__ = ("aliases", "qualitative", "words")

    def __init__(self, spec: FieldSpec) -> None:
        self.qualitative = {normalize_name(word): number for word, number in spec.qualitative}
        self.words = [word for word, _ in spec.qualitative]
        self.aliases = {normalize_name(str(alias)): value for alias, value in spec.aliases}

    @staticmethod
    def of(spec: FieldSpec) -> FieldRules | None:
        """The rules of ``spec``, or None when it has none (the common case)."""
        return FieldRules(spec) if spec.qualitative or spec.aliases else None


# -- public entry points ------------------------------------------------------------------------


def coerce(
    value_or_text: Any,
    annotation: Any,
    field: FieldSpec | str | None = None,
    *,
    adapter: str = "coerce",
) -> tuple[Any, list[Repair]]:
    """``value_or_text`` as ``annotation``, and the repairs that took.

    ``field`` (a ``FieldSpec`` or a name) names the field in repairs and errors; a
    ``FieldSpec`` also brings its constraints (``ge``, ``max_length``...), which are checked.
    Raises ``AdapterParseError`` (with ``adapter``, ``field``, ``expected`` and ``raw``) when
    the value cannot be recovered.
    """
    spec = field if isinstance(field, FieldSpec) else None
    name = spec.name if spec is not None else field if isinstance(field, str) else None
    constraints = spec.constraints if spec is not None else ()
    rules = FieldRules.of(spec) if spec is not None else None
    try:
        return coerce_value(value_or_text, plan_for(annotation), name, constraints, rules)
    except CoercionError as exc:
        raise AdapterParseError(
            exc.reason,
            adapter=adapter,
            field=name,
            expected=expected_text(annotation, constraints),
            raw=value_or_text if isinstance(value_or_text, str) else repr(value_or_text),
        ) from None


def coerce_value(
    value: Any,
    plan: TypePlan,
    field: str | None = None,
    constraints: tuple[tuple[str, Any], ...] = (),
    rules: FieldRules | None = None,
) -> tuple[Any, list[Repair]]:
    """``coerce`` with a ready plan; raises ``CoercionError`` (adapters add their context)."""
    if not constraints:
        kind, value_type = plan.kind, type(value)
        if (kind is STR and value_type is str) or (kind is ANY):
            return value, []
        if (
            kind is NUMBER
            and value_type is plan.annotation
            and (value_type is int or (value_type is float and value == value))
        ):
            return value, []
    repairs: list[Repair] = []
    result = _coerce(value, plan, "", _Recorder(field, repairs, rules))
    if constraints:
        result = check_constraints(result, plan.annotation, constraints)
    return result, repairs


class _Recorder:
    """Collects repairs for one field, with the path inside the value in the detail."""

    __slots__ = ("field", "repairs", "rules")

    def __init__(self, field: str | None, repairs: list[Repair], rules: FieldRules | None) -> None:
        self.field = field
        self.repairs = repairs
        self.rules = rules

    def add(self, rule: str, path: str, detail: str) -> None:
        self.repairs.append(Repair(rule, self.field, f"{path}: {detail}" if path else detail))

    def extend(self, fixes: list[Fix], path: str) -> None:
        for rule, detail in fixes:
            self.add(rule, path, detail)

    def child(self) -> _Recorder:
        return _Recorder(self.field, [], self.rules)


# -- the readers, one per kind ------------------------------------------------------------------

Reader = Callable[[Any, TypePlan, str, _Recorder], Any]


def _coerce(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    return _READERS[plan.kind](value, plan, path, rec)


def _to_str(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    if isinstance(value, str):
        return value
    if value is None:
        raise CoercionError("got null, expected text")
    if isinstance(value, list) and value and all(type(v) in _WORDS for v in value):
        text = "\n".join(v if type(v) is str else _json_text(v) for v in value)
        rec.add("list_joined", path, f"joined {len(value)} items, one a line")
        return text
    text = _json_text(value)
    rec.add("value_to_string", path, f"{type(value).__name__} {short(text)} kept as text")
    return text


_WORDS = frozenset({str, int, float})


def _json_text(value: Any) -> str:
    from pydantic_core import to_jsonable_python

    return json.dumps(to_jsonable_python(value, fallback=str), ensure_ascii=False)


def _to_number(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    target = plan.annotation
    if isinstance(value, bool):
        raise CoercionError(f"got the boolean {value}, expected a number")
    if isinstance(value, (int, float, Decimal)):
        if target is int and not isinstance(value, int):
            if not float(value).is_integer():
                raise CoercionError(f"{value} is not a whole number")
            rec.add("whole_float", path, f"{value} -> {int(value)}")
            return int(value)
        if type(value) is not int and _is_nan(value):
            raise CoercionError("got NaN (not a number), expected a number")
        return Decimal(str(value)) if target is Decimal else target(value)
    if not isinstance(value, str):
        raise CoercionError(f"got {type(value).__name__} {short(repr(value))}, expected a number")
    try:
        number = target(value)
    except (ValueError, ArithmeticError):
        pass
    else:
        if target is not int:  # an int is never NaN nor infinite
            if number != number if target is float else number.is_nan():
                raise CoercionError(f"{short(value)} is not a number (NaN), expected a number")
            if number in _INFINITE and "inf" not in value.casefold():
                raise CoercionError(f"{short(value)} is too large to be a number of this type")
        if not value.isascii() or "_" in value:  # "１２", "1_000": Python reads them, JSON does not
            rec.add("digits_written", path, f"read {short(value)} as {number}")
        return number
    try:
        number, fixes = read_number(value, target)
    except CoercionError:
        if rec.rules is None or not rec.rules.qualitative:
            raise
        return _qualitative(value, target, rec.rules, path, rec)
    rec.extend(fixes, path)
    return number


_INFINITE = (float("inf"), float("-inf"))


def _is_nan(number: Any) -> bool:
    return number.is_nan() if isinstance(number, Decimal) else number != number


def _qualitative(value: str, target: type, rules: FieldRules, path: str, rec: _Recorder) -> Any:
    """A word for a number ("high"), read by the field's ``qualitative`` scale."""
    written = strip_markup(value)
    number = rules.qualitative.get(normalize_name(written))
    if number is None:
        raise CoercionError(
            f"{short(value)} is neither a number nor one of the words {rules.words}"
        )
    if target is int and not float(number).is_integer():
        raise CoercionError(f"{short(written)} maps to {number}, which is not a whole number")
    result = Decimal(str(number)) if target is Decimal else target(number)
    rec.add("qualitative_number", path, f"{short(written)} -> {result}")
    return result


def _to_bool(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        rec.add("bool_from_number", path, f"{value} -> {bool(value)}")
        return bool(value)
    if not isinstance(value, str):
        raise CoercionError(f"got {short(repr(value))}, expected true or false")
    result, fixes = read_bool(value)
    rec.extend(fixes, path)
    return result


def _to_choice(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    for choice, labels in plan.choices:  # written exactly as allowed: the common case
        if (value == choice and type(value) is type(choice)) or (
            isinstance(value, str) and value == labels[0]
        ):
            return choice
    choice, fixes = read_choice(value, plan, rec.rules.aliases if rec.rules is not None else None)
    rec.extend(fixes, path)
    return choice


def _to_optional(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    if value is None:
        return None
    assert plan.inner is not None
    word = strip_markup(value).casefold() if isinstance(value, str) else None
    if word in ("none", "null") and not is_label(plan.inner, word):
        return None
    inner_rec = rec.child()
    try:
        result = _coerce(value, plan.inner, path, inner_rec)
    except CoercionError:
        if word in _NULL_WORDS:
            rec.add("null_word", path, f"{short(value.strip())} -> None")
            return None
        raise
    rec.repairs.extend(inner_rec.repairs)
    return result


def _to_union(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    """The first member that reads the value as written; else the first that reads it with
    repairs ("3.0" for ``int | float`` is 3.0, not 3 by ``whole_float``)."""
    reasons = []
    repaired: tuple[Any, list[Repair]] | None = None
    for member in plan.members:
        member_rec = rec.child()
        try:
            result = _coerce(value, member, path, member_rec)
        except CoercionError as exc:
            reasons.append(f"{type_name(member.annotation)}: {exc.reason}")
            continue
        if not member_rec.repairs:
            return result
        if repaired is None:
            repaired = (result, member_rec.repairs)
    if repaired is not None:
        rec.repairs.extend(repaired[1])
        return repaired[0]
    raise CoercionError("matches none of the types; " + "; ".join(reasons))


def _to_sequence(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    if isinstance(value, str):
        items, fixes = read_items(value, plan.inner.kind if plan.inner is not None else ANY)
        if fixes and fixes[-1][0] == "single_item_list" and path.endswith("]"):
            raise CoercionError(f"{path}: got {short(value)}, expected a list")
        rec.extend(fixes, path)
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
    elif value is None:
        raise CoercionError("got null, expected a list")
    elif path.endswith("]"):
        # An item of a list (or a value of a mapping) that should itself be a list: a flat
        # [1, 2, 3] for list[list[int]] is not [[1], [2], [3]].
        raise CoercionError(f"{path}: got {short(repr(value))}, expected a list")
    else:
        rec.add("single_item_list", path, f"wrapped {short(repr(value))} in a list")
        items = [value]
    assert plan.inner is not None
    inner = plan.inner
    if inner.kind is STR and all(type(item) is str for item in items):
        result = items
    else:
        result = [_coerce(item, inner, f"{path}[{i}]", rec) for i, item in enumerate(items)]
    return result if plan.container is list else plan.container(result)


def _load(value: str, expect: Expect, path: str, rec: _Recorder) -> Any:
    loaded, fixes = load_json(value, expect)
    rec.extend(fixes, path)
    return loaded


def _one_value_per_key(value: Any, path: str, rec: _Recorder) -> None:
    """Refuse a JSON object, here or nested, that gives a key several different values (which
    one was meant is unknown); a key repeated with the same value is a recorded repair."""
    if isinstance(value, dict):
        for key, later in getattr(value, "repeats", ()):
            if later != value[key]:
                raise CoercionError(
                    f"key {key!r} is written several times with different values "
                    f"({short(repr(value[key]), 30)}, {short(repr(later), 30)}); expected one"
                )
            rec.add("duplicate_key", path, f"key {key!r} written twice with the same value")
        for item in value.values():
            _one_value_per_key(item, path, rec)
    elif isinstance(value, list):
        for item in value:
            _one_value_per_key(item, path, rec)


def _to_mapping(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    if isinstance(value, str):
        value = _load(value, "object", path, rec)
    _one_value_per_key(value, path, rec)
    inner = plan.inner
    if isinstance(value, dict) and inner is not None and inner.kind is not ANY:
        # Values read by the readers above, not pydantic's lax mode (which reads true as 1).
        value = {key: _coerce(item, inner, f"{path}[{key!r}]", rec) for key, item in value.items()}
    return _validate(plan, value)


def _to_model(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    model = plan.annotation
    if isinstance(value, model):
        return value
    if isinstance(value, str):
        value = _load(value, "object", path, rec)
    _one_value_per_key(value, path, rec)
    if not isinstance(value, dict):
        raise CoercionError(
            f"got {type(value).__name__} {short(repr(value))}, expected a JSON object for "
            f"{model.__name__}"
        )
    # Each field read by the readers above, not pydantic's lax mode (which reads true as 1).
    fields = model.model_fields
    by_name = {normalize_name(name): name for name in fields}
    fixed: dict[str, Any] = {}
    for key, item in value.items():
        name = key if key in fields else by_name.get(normalize_name(str(key)))
        if name is None:
            fixed[key] = item
            continue
        where = f"{path}.{name}" if path else name
        if name != key:
            rec.add("key_case", path, f"key {key!r} read as {name!r}")
        fixed[name] = _coerce(item, plan_for(fields[name].annotation), where, rec)
    return _validate(plan, fixed)


def _validate(plan: TypePlan, value: Any) -> Any:
    try:
        return plan.validator.validate_python(value)
    except ValidationError as exc:
        raise CoercionError(_summary(exc)) from None


def _summary(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    more = exc.error_count() - 3
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


_ISO_FORM = {
    dt.date: "a date (YYYY-MM-DD)",
    dt.datetime: "a date and time (ISO 8601)",
    dt.time: "a time (HH:MM:SS)",
}


def _timed_reader(target: type, reader: Callable[[str], tuple[Any, list[Fix]]]) -> Reader:
    def read(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
        if type(value) is target:
            return value
        if target is dt.date and isinstance(value, dt.datetime):
            rec.add("datetime_to_date", path, f"kept the date of {value.isoformat()}")
            return value.date()
        if isinstance(value, (int, float)):
            # A timestamp in seconds or milliseconds (pydantic guesses by size), or a year, or
            # a count: not a date one can tell.
            raise CoercionError(f"got the number {value!r}, expected {_ISO_FORM[target]}")
        if not isinstance(value, str):
            return _validate(plan, value)
        result, fixes = reader(value)
        rec.extend(fixes, path)
        return result

    return read


def _to_annotated(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    assert plan.inner is not None
    return _validate(plan, _coerce(value, plan.inner, path, rec))


def _to_any(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    return value


def _to_other(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    if isinstance(value, str):
        try:
            return plan.validator.validate_python(value.strip())
        except ValidationError as exc:
            if not any(ch in value for ch in "[{"):
                raise CoercionError(f"{short(value)}: {_summary(exc)}") from None
        value = _load(value, None, path, rec)
    return _validate(plan, value)


_READERS: dict[str, Reader] = {
    STR: _to_str,
    NUMBER: _to_number,
    BOOL: _to_bool,
    CHOICE: _to_choice,
    OPTIONAL: _to_optional,
    UNION: _to_union,
    SEQUENCE: _to_sequence,
    MAPPING: _to_mapping,
    MODEL: _to_model,
    DATE: _timed_reader(dt.date, read_date),
    DATETIME: _timed_reader(dt.datetime, read_datetime),
    TIME: _timed_reader(dt.time, read_time),
    ANNOTATED: _to_annotated,
    ANY: _to_any,
    OTHER: _to_other,
}
