"""The one value-coercion routine every adapter uses: model text (or a JSON value) -> a typed value.

``coerce(value_or_text, annotation, field)`` returns ``(value, repairs)``. Well-formed values
take a fast path; otherwise tolerant readers run before pydantic validation, and each rule
that fires is returned as a ``Repair``. A value that cannot be recovered raises
``AdapterParseError``; nothing is ever guessed silently.

Repair rules (``Repair.rule``):

==================== ==============================================================
strip_markup         markdown emphasis, backticks, quotes or a final full stop removed
code_fence           a ``` fence removed around JSON
json_in_prose        JSON taken out of surrounding text
python_literal       a Python literal (single quotes, True/False/None) read as JSON
json_repair          broken JSON (trailing commas, missing quotes...) fixed by json-repair
number_in_prose      the one number of a phrase ("High (95%)" -> 95)
thousands_separator  "1,234" -> 1234
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
value_to_string      a number, list or object given for a text field, kept as text
==================== ==============================================================
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from lmbench.adapters.base import Repair
from lmbench.adapters.constraints import check_constraints, describe_constraints
from lmbench.adapters.jsontext import Expect, load_json
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
from lmbench.errors import AdapterParseError
from lmbench.signatures.fields import FieldSpec, type_name

__all__ = [
    "CoercionError",
    "TypePlan",
    "coerce",
    "coerce_value",
    "expected_text",
    "normalize_name",
    "plan_for",
]

# Kinds of annotation, each with its own reader.
STR, NUMBER, BOOL, CHOICE, OPTIONAL, UNION = "str", "number", "bool", "choice", "optional", "union"
SEQUENCE, MAPPING, MODEL, DATE, DATETIME, TIME = (
    "sequence",
    "mapping",
    "model",
    "date",
    "datetime",
    "time",
)
ANNOTATED, ANY, OTHER = "annotated", "any", "other"

_NULL_WORDS = frozenset(
    {"", "n/a", "na", "nil", "-", "--", "unknown", "not applicable", "not available", "not given"}
)
_SEPARATORS = re.compile(r"[\s_\-]+")


def normalize_name(text: str) -> str:
    """Field names and choice labels compared without case, spaces, ``_`` or ``-``."""
    return _SEPARATORS.sub("", text.casefold())


class TypePlan:
    """What coercion needs to know about one annotation, worked out once and cached."""

    __slots__ = (
        "_choice_pattern",
        "_validator",
        "annotation",
        "choices",
        "container",
        "inner",
        "kind",
        "members",
    )

    def __init__(
        self,
        annotation: Any,
        kind: str,
        *,
        inner: TypePlan | None = None,
        members: tuple[TypePlan, ...] = (),
        choices: tuple[tuple[Any, tuple[str, ...]], ...] = (),
        container: type = list,
    ) -> None:
        self.annotation = annotation
        self.kind = kind
        self.inner = inner  # item type of a sequence, value type of a mapping, the X of Optional[X]
        self.members = members  # union members
        self.choices = choices  # (value, labels) of a Literal/Enum; labels[0] is the value's text
        self.container = container
        self._validator: TypeAdapter[Any] | None = None
        self._choice_pattern: re.Pattern[str] | None = None

    @property
    def validator(self) -> TypeAdapter[Any]:
        if self._validator is None:
            self._validator = TypeAdapter(self.annotation)
        return self._validator

    @property
    def choice_pattern(self) -> re.Pattern[str]:
        """Finds any allowed label as a whole word, in any case, with flexible separators."""
        if self._choice_pattern is None:
            labels = sorted(
                {label for _, ls in self.choices for label in ls}, key=len, reverse=True
            )
            alternatives = "|".join(
                r"[\s_\-]+".join(re.escape(part) for part in _SEPARATORS.split(label) if part)
                for label in labels
                if label.strip()
            )
            self._choice_pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        return self._choice_pattern

    def __repr__(self) -> str:
        return f"TypePlan({type_name(self.annotation)}, {self.kind})"


def plan_for(annotation: Any) -> TypePlan:
    """The (cached) plan for an annotation."""
    try:
        return _cached_plan(annotation)
    except TypeError:  # unhashable annotation (e.g. Annotated with a dict): no caching
        return _build_plan(annotation)


@functools.lru_cache(maxsize=1024)
def _cached_plan(annotation: Any) -> TypePlan:
    return _build_plan(annotation)


_SIMPLE_KINDS: dict[Any, str] = {
    str: STR,
    bool: BOOL,
    int: NUMBER,
    float: NUMBER,
    Decimal: NUMBER,
    dt.datetime: DATETIME,
    dt.date: DATE,
    dt.time: TIME,
    Any: ANY,
    object: ANY,
}
_SEQUENCES: dict[Any, type] = {list: list, set: set, frozenset: frozenset, tuple: tuple}


def _build_plan(annotation: Any) -> TypePlan:
    simple = _SIMPLE_KINDS.get(annotation) if _hashable(annotation) else None
    if simple is not None:
        return TypePlan(annotation, simple)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return TypePlan(annotation, ANNOTATED, inner=plan_for(args[0]))
    if origin is typing.Literal:
        return TypePlan(annotation, CHOICE, choices=tuple((v, (str(v),)) for v in args))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return TypePlan(annotation, CHOICE, choices=tuple(_enum_labels(m) for m in annotation))
    if origin in (typing.Union, types.UnionType):
        others = tuple(a for a in args if a is not type(None))
        if len(others) < len(args):
            inner = others[0] if len(others) == 1 else typing.Union[others]  # noqa: UP007
            return TypePlan(annotation, OPTIONAL, inner=plan_for(inner))
        return TypePlan(annotation, UNION, members=tuple(plan_for(a) for a in args))
    if annotation in _SEQUENCES or origin in _SEQUENCES:
        container = _SEQUENCES[origin or annotation]
        if container is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            return TypePlan(annotation, OTHER)  # fixed-length tuple: pydantic reads it
        return TypePlan(
            annotation, SEQUENCE, inner=plan_for(args[0] if args else Any), container=container
        )
    if annotation is dict or origin in (dict, Mapping):
        return TypePlan(annotation, MAPPING, inner=plan_for(args[1] if len(args) == 2 else Any))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return TypePlan(annotation, MODEL)
    return TypePlan(annotation, OTHER)


def _hashable(annotation: Any) -> bool:
    try:
        hash(annotation)
    except TypeError:
        return False
    return True


def _enum_labels(member: enum.Enum) -> tuple[Any, tuple[str, ...]]:
    return member, (str(member.value), member.name)


# -- public entry points ------------------------------------------------------------------------


def expected_text(annotation: Any, constraints: tuple[tuple[str, Any], ...] = ()) -> str:
    """The expected type as shown in errors: ``int (>= 0, <= 10)``."""
    described = describe_constraints(constraints)
    return f"{type_name(annotation)} ({described})" if described else type_name(annotation)


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
    try:
        return coerce_value(value_or_text, plan_for(annotation), name, constraints)
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
) -> tuple[Any, list[Repair]]:
    """``coerce`` with a ready plan; raises ``CoercionError`` (adapters add their context)."""
    if not constraints:
        kind, value_type = plan.kind, type(value)
        if (kind is STR and value_type is str) or (kind is ANY):
            return value, []
        if kind is NUMBER and value_type is plan.annotation:
            return value, []
    repairs: list[Repair] = []
    result = _coerce(value, plan, "", _Recorder(field, repairs))
    if constraints:
        result = check_constraints(result, plan.annotation, constraints)
    return result, repairs


class _Recorder:
    """Collects repairs for one field, with the path inside the value in the detail."""

    __slots__ = ("field", "repairs")

    def __init__(self, field: str | None, repairs: list[Repair]) -> None:
        self.field = field
        self.repairs = repairs

    def add(self, rule: str, path: str, detail: str) -> None:
        self.repairs.append(Repair(rule, self.field, f"{path}: {detail}" if path else detail))

    def extend(self, fixes: list[Fix], path: str) -> None:
        for rule, detail in fixes:
            self.add(rule, path, detail)

    def child(self) -> _Recorder:
        return _Recorder(self.field, [])


# -- the readers, one per kind ------------------------------------------------------------------

Reader = Callable[[Any, TypePlan, str, _Recorder], Any]


def _coerce(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    return _READERS[plan.kind](value, plan, path, rec)


def _to_str(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    if isinstance(value, str):
        return value
    if value is None:
        raise CoercionError("got null, expected text")
    text = _json_text(value)
    rec.add("value_to_string", path, f"{type(value).__name__} {short(text)} kept as text")
    return text


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
        return Decimal(str(value)) if target is Decimal else target(value)
    if not isinstance(value, str):
        raise CoercionError(f"got {type(value).__name__} {short(repr(value))}, expected a number")
    try:
        return target(value)
    except (ValueError, ArithmeticError):
        number, fixes = read_number(value, target)
    rec.extend(fixes, path)
    return number


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
    for choice, labels in plan.choices:
        if (value == choice and type(value) is type(choice)) or (
            isinstance(value, str) and value == labels[0]
        ):
            return choice
    if not isinstance(value, str):
        value = str(value.value if isinstance(value, enum.Enum) else value)
    cleaned = strip_markup(value)
    key = normalize_name(cleaned)
    for choice, labels in plan.choices:
        if cleaned == labels[0]:
            if value.strip() != cleaned:
                rec.add("strip_markup", path, f"{short(value.strip())} -> {short(cleaned)}")
            return choice
        for position, label in enumerate(labels):
            if normalize_name(label) == key:
                rule = "enum_name" if position == 1 else "value_case"
                rec.add(rule, path, f"{short(value.strip())} -> {short(labels[0])}")
                return choice
    found = {}
    for match in plan.choice_pattern.finditer(cleaned):
        if _negated(cleaned, match.start()):
            continue
        key = normalize_name(match.group())
        for choice, labels in plan.choices:
            if any(normalize_name(label) == key for label in labels):
                found[labels[0]] = choice
    allowed = ", ".join(labels[0] for _, labels in plan.choices)
    if len(found) == 1:
        ((label, choice),) = found.items()
        rec.add("choice_in_prose", path, f"found {label!r} in {short(cleaned)}")
        return choice
    if found:
        raise CoercionError(
            f"{short(value)} names several allowed values ({', '.join(found)}); expected one of: {allowed}"
        )
    raise CoercionError(f"{short(value)} is not one of: {allowed}")


_NEGATION = re.compile(r"\b(?:not|never|isn't|is not|no)\s+$", re.IGNORECASE)


def _negated(text: str, start: int) -> bool:
    return bool(_NEGATION.search(text[max(0, start - 12) : start]))


def _to_optional(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and strip_markup(value).casefold() in ("none", "null"):
        return None
    assert plan.inner is not None
    inner_rec = rec.child()
    try:
        result = _coerce(value, plan.inner, path, inner_rec)
    except CoercionError:
        if isinstance(value, str) and strip_markup(value).casefold() in _NULL_WORDS:
            rec.add("null_word", path, f"{short(value.strip())} -> None")
            return None
        raise
    rec.repairs.extend(inner_rec.repairs)
    return result


def _to_union(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    reasons = []
    for member in plan.members:
        member_rec = rec.child()
        try:
            result = _coerce(value, member, path, member_rec)
        except CoercionError as exc:
            reasons.append(f"{type_name(member.annotation)}: {exc.reason}")
            continue
        rec.repairs.extend(member_rec.repairs)
        return result
    raise CoercionError("matches none of the types; " + "; ".join(reasons))


_BULLET = re.compile(
    r"^\s*(?:(?P<bullet>[-*\u2022+])|(?P<number>\d{1,3}[.)]|\(\d{1,3}\)))\s+(?P<item>.*?)\s*$"
)


def _to_sequence(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    if isinstance(value, str):
        items = _items_from_text(value, plan, path, rec)
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
    elif value is None:
        raise CoercionError("got null, expected a list")
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


def _items_from_text(text: str, plan: TypePlan, path: str, rec: _Recorder) -> list[Any]:
    body = text.strip()
    if not body:
        return []
    if "[" in body or "```" in body:
        try:
            value, fixes = load_json(body, "array")
        except CoercionError:
            pass
        else:
            if isinstance(value, list):
                rec.extend(fixes, path)
                return value
    lines = [line for line in body.splitlines() if line.strip()]
    matches = [_BULLET.match(line) for line in lines]
    if any(matches):
        return _bullet_items(lines, matches, path, rec)
    if len(lines) > 1:
        rec.add("line_list", path, f"read {len(lines)} lines as items")
        return [line.strip() for line in lines]
    separator = "," if "," in body else ";" if ";" in body else None
    if (
        separator is not None
        and plan.inner is not None
        and plan.inner.kind in (STR, NUMBER, BOOL, CHOICE, DATE, ANY)
    ):
        items = [_unquote(part) for part in body.split(separator) if part.strip()]
        rec.add("comma_list", path, f"split {short(body)} into {len(items)} items")
        return items
    rec.add("single_item_list", path, f"read {short(body)} as a one-item list")
    return [body]


def _bullet_items(
    lines: list[str], matches: list[re.Match[str] | None], path: str, rec: _Recorder
) -> list[str]:
    items: list[str] = []
    dropped: list[str] = []
    numbered = False
    for line, match in zip(lines, matches, strict=True):
        if match is not None:
            items.append(match.group("item"))
            numbered = numbered or match.group("number") is not None
        elif items:  # a continuation of the item above
            items[-1] = f"{items[-1]} {line.strip()}"
        else:
            dropped.append(line.strip())
    detail = f"read {len(items)} items"
    if dropped:
        detail += f", ignored the lead-in {short(' '.join(dropped), 40)}"
    rec.add("numbered_list" if numbered else "bullet_list", path, detail)
    return items


def _unquote(text: str) -> str:
    part = text.strip()
    for quote in ('"', "'"):
        if len(part) >= 2 and part[0] == quote and part[-1] == quote:
            return part[1:-1]
    return part


def _load(value: str, expect: Expect, path: str, rec: _Recorder) -> Any:
    loaded, fixes = load_json(value, expect)
    rec.extend(fixes, path)
    return loaded


def _to_mapping(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    if isinstance(value, str):
        value = _load(value, "object", path, rec)
    try:
        return plan.validator.validate_python(value)
    except ValidationError as exc:
        if not isinstance(value, dict) or plan.inner is None:
            raise CoercionError(_summary(exc)) from None
        inner = plan.inner
        fixed = {key: _coerce(item, inner, f"{path}[{key!r}]", rec) for key, item in value.items()}
    return _validate(plan, fixed)


def _to_model(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
    model = plan.annotation
    if isinstance(value, model):
        return value
    if isinstance(value, str):
        value = _load(value, "object", path, rec)
    try:
        return plan.validator.validate_python(value)
    except ValidationError as exc:
        if not isinstance(value, dict):
            raise CoercionError(
                f"expected a JSON object for {model.__name__}: {_summary(exc)}"
            ) from None
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


def _timed_reader(target: type, reader: Callable[[str], tuple[Any, list[Fix]]]) -> Reader:
    def read(value: Any, plan: TypePlan, path: str, rec: _Recorder) -> Any:
        if type(value) is target:
            return value
        if target is dt.date and isinstance(value, dt.datetime):
            rec.add("datetime_to_date", path, f"kept the date of {value.isoformat()}")
            return value.date()
        if not isinstance(value, str):
            return _validate(plan, value)  # e.g. a Unix timestamp for a datetime
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
