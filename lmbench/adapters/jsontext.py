"""JSON inside a model's text: fenced, embedded in prose, Python-flavoured or broken.

``load_json`` tries the cheap way first (``json.loads`` of the whole text) and only then
strips fences, looks for the JSON inside prose, reads Python literals and finally asks
``json-repair``; each step that fires is reported as a repair. ``partial_json`` reads the
incomplete JSON of a stream.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any, Literal

from lmbench.adapters.scalars import CoercionError, Fix, short

__all__ = ["RepeatedKeys", "find_fence", "load_json", "opens_json", "partial_json", "read_scalar"]

Expect = Literal["object", "array"] | None

# A fence's info string may go on after the language: ```json title="out.json"
_FENCE = re.compile(
    r"```[ \t]*(?P<lang>[\w+-]*)(?:[ \t][^\n`]*)?\r?\n(?P<body>.*?)(?:```|\Z)", re.DOTALL
)
_PYTHON_HINTS = re.compile(r"'|\b(?:True|False|None)\b")
_CLOSERS = {"{": "}", "[": "]"}
# ast.literal_eval on very large text is slow; past this, go straight to json-repair.
_LITERAL_EVAL_LIMIT = 100_000


class RepeatedKeys(dict[str, Any]):
    """A JSON object that writes some key more than once: the first value of each key, and
    the later ones in ``repeats`` (which one the model meant is for the reader to decide)."""

    repeats: list[tuple[str, Any]]


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    first = RepeatedKeys()
    first.repeats = []
    for key, value in pairs:
        if key in first:
            first.repeats.append((key, value))
        else:
            first[key] = value
    return first


_DECODER = json.JSONDecoder(object_pairs_hook=_object)
_loads = _DECODER.decode


def find_fence(text: str) -> re.Match[str] | None:
    """The first markdown code fence in ``text`` (an unclosed one runs to the end)."""
    return _FENCE.search(text) if "```" in text else None


def load_json(text: str, expect: Expect = None) -> tuple[Any, list[Fix]]:
    """The JSON object or array in ``text``, and the repairs needed to read it.

    ``expect`` says which of object/array to look for first. Raises ``CoercionError``
    when no JSON can be recovered.
    """
    fixes: list[Fix] = []
    body = text.strip()
    if body[:1] in _CLOSERS:
        try:
            return _loads(body), fixes
        except ValueError:
            pass
    if "```" in body:
        body, fenced = _fences(body, expect, fixes)
        if fenced is not _NOTHING:
            return fenced, fixes
    starts = _starts(body, expect)
    for start in starts[:_TRIES]:
        try:
            value, end = _DECODER.raw_decode(body, start)
        except ValueError:
            continue
        _one_answer(body, value, end)
        fixes.append(("json_in_prose", _prose_detail(body, start, end)))
        return value, fixes
    if not starts:
        straight = body.translate(_STRAIGHT)
        if straight != body:  # {“key”: “value”}: typographic quotes where JSON has plain ones
            value, more = load_json(straight, expect)
            fixes.append(("typographic_quotes", "read curly quotes as plain ones"))
            return value, fixes + more
        raise CoercionError(f"no JSON {expect or 'value'} found in {short(text.strip())}")
    return _repaired(body, starts[0], text, fixes), fixes


_NOTHING: Any = object()
_STRAIGHT = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
# Candidate starts tried with the strict decoder before repairing the first one.
_TRIES = 32


def _fences(body: str, expect: Expect, fixes: list[Fix]) -> tuple[str, Any]:
    """The first fenced block holding valid JSON (as expected), or ``_NOTHING`` and the text to
    search on: the body of a fenced block that looks like broken JSON, or the whole text with
    the fenced blocks of other languages blanked out (code before the JSON is not the JSON)."""
    broken = None
    searched = body
    for fence in _FENCE.finditer(body):
        inner = fence.group("body").strip()
        try:
            value = _loads(inner)
        except ValueError:
            if broken is None and (
                fence.group("lang").lower() == "json" or _starts(inner, expect)[:1] == [0]
            ):
                broken = inner
            else:
                blank = " " * (fence.end() - fence.start())
                searched = searched[: fence.start()] + blank + searched[fence.end() :]
            continue
        if expect is None or isinstance(value, dict if expect == "object" else list):
            for later in _FENCE.finditer(body, fence.end()):
                try:
                    other = _loads(later.group("body").strip())
                except ValueError:
                    continue
                _differs(value, other)
            fixes.append(("code_fence", "removed the ``` fence around the JSON"))
            return body, value
    if broken is not None:
        fixes.append(("code_fence", "removed the ``` fence around the JSON"))
        return broken, _NOTHING
    return searched, _NOTHING


def _one_answer(body: str, value: Any, end: int) -> None:
    """Refuse text that holds, after the JSON ``value`` (ending at ``end``), another JSON value
    of its kind that differs from it ("{...} Actually, {...}"): which one is the answer is
    unknown."""
    if not isinstance(value, (dict, list)):
        return
    opener = "{" if isinstance(value, dict) else "["
    tries = 0
    position = body.find(opener, end)
    while position >= 0 and tries < _TRIES:
        tries += 1
        if _opens_value(body, position):
            try:
                other, after = _DECODER.raw_decode(body, position)
            except ValueError:
                pass
            else:
                _differs(value, other)
                position = after
        position = body.find(opener, position + 1)


def _differs(value: Any, other: Any) -> None:
    if type(other) is type(value) and other != value:
        raise CoercionError(
            f"the answer holds several different JSON values ({short(json.dumps(value), 40)}, "
            f"{short(json.dumps(other), 40)}); expected one"
        )


def _plausible(text: str, start: int) -> bool:
    """Whether the bracket at ``start`` can open JSON: ``{"``, ``{'``, ``{key``, ``[1``,
    ``["``, ``[{``, ``[true``... but not ``[[ ## answer ## ]]``, ``[Note: ...]`` or a ``{``
    nested inside other JSON (after ``"key":``, ``,`` or ``[``)."""
    lead = text[:start].rstrip()
    before = lead[-1:]
    if before and before in ',[{"':
        return False
    if before == ":" and lead[:-1].rstrip()[-1:] in ('"', "'"):
        return False  # the value of a key: '"key": {'
    return _opens_value(text, start)


def opens_json(text: str) -> bool:
    """Whether ``text`` starts (after spaces) with what can only be JSON: ``["``, ``{"``, ``[1``..."""
    body = text.lstrip()
    return body[:1] in _CLOSERS and _opens_value(body, 0)


def _opens_value(text: str, start: int) -> bool:
    match = _AFTER_BRACKET.match(text, start + 1)
    if match is None:
        return False
    nxt = match.group(1)
    if text[start] == "{":
        return nxt in "\"'}" or nxt.isalpha() or nxt == "_"
    if nxt == "[" or nxt == "{":
        return _opens_value(text, match.start(1))
    if nxt in "\"']-." or nxt.isdigit():
        return True
    return _LITERAL_WORD.match(text, match.start(1)) is not None


_AFTER_BRACKET = re.compile(r"\s*(\S)")
_LITERAL_WORD = re.compile(r"(?:true|false|null|True|False|None)\b")


def _starts(text: str, expect: Expect) -> list[int]:
    """Where JSON may start, in order: brackets of the expected kind first (any kind when
    none of it is found), each one that can open JSON."""
    kinds = {"object": "{", "array": "["}.get(expect or "", "{[")
    found = [i for i, ch in enumerate(text) if ch in kinds and _plausible(text, i)]
    if not found and expect is not None:
        return _starts(text, None)
    return found


def _repaired(body: str, start: int, text: str, fixes: list[Fix]) -> Any:
    """The JSON at ``start`` read as a Python literal, as single-quoted JSON, or repaired."""
    closer = body.rfind(_CLOSERS[body[start]])
    candidate = body[start : closer + 1] if closer > start else ""
    literal = _python_literal(candidate) if candidate else None
    if literal is None and candidate:
        literal = _single_quoted(candidate)
    if literal is not None:
        if start > 0 or body[closer + 1 :].strip():
            fixes.append(("json_in_prose", _prose_detail(body, start, closer + 1)))
        fixes.append(("python_literal", f"read {short(candidate)} as a Python literal"))
        return literal
    cut = _cut_off(body, start)
    if cut is not None:
        raise CoercionError(
            f"the JSON in {short(text.strip())} stops {cut}: the answer looks cut off, "
            "and what the value would have been is unknown"
        )
    # json-repair reads up to the end of the JSON and drops any prose after it.
    repaired = _repair(body[start:])
    if repaired is None:
        raise CoercionError(f"the JSON in {short(text.strip())} could not be read or repaired")
    if start > 0:
        fixes.append(("json_in_prose", _prose_detail(body, start, len(body))))
    fixes.append(("json_repair", f"repaired broken JSON {short(body[start:])}"))
    return repaired


def _cut_off(body: str, start: int) -> str | None:
    """Where the JSON opening at ``start`` stops, when the text ends before it is closed in the
    middle of a value (a string, a number or word, after ``:``, or after ``,`` in a list):
    closing it there would make up a value. None when it is closed, or stops at a whole value
    or where a key would go (a key cut off leaves its field missing, which is reported)."""
    stack: list[str] = []
    at_key = False  # the next token of the object on top is a key
    last = ""
    i, n = start, len(body)
    while i < n:
        ch = body[i]
        if ch == '"':
            end = _string_end(body, i)
            inner = body[i + 1 : end - 1]
            escapes = len(inner) - len(inner.rstrip("\\"))
            closed = end - i >= 2 and body[end - 1] == '"' and escapes % 2 == 0
            if end == n and not closed:
                return None if at_key else "inside a string"
            last = "key" if at_key else "value"
            i = end
            continue
        if ch in "{[":
            stack.append(ch)
            at_key = ch == "{"
            last = ch
        elif ch in "}]":
            if stack:
                stack.pop()
            if not stack:
                return None
            at_key = False
            last = "value"
        elif ch == ":":
            at_key = False
            last = ":"
        elif ch == ",":
            at_key = stack[-1] == "{" if stack else False
            last = "," if not at_key else "key"
        elif not ch.isspace():
            last = "key" if at_key else "word"
        i += 1
    if not stack or last in ("value", "key", "{"):
        return None
    reasons = {":": "after a ':'", ",": "after a ',' in a list", "[": "after a '['"}
    return reasons.get(last, "in the middle of a value")


def _prose_detail(body: str, start: int, end: int) -> str:
    before, after = body[:start].strip(), body[end:].strip()
    parts = []
    if before:
        parts.append(f"text before: {short(before, 40)}")
    if after:
        parts.append(f"text after: {short(after, 40)}")
    return "ignored " + "; ".join(parts) if parts else "took the JSON out of the text"


def _python_literal(candidate: str) -> Any:
    """A dict or list written as a Python literal (single quotes, True/None), else None."""
    if len(candidate) > _LITERAL_EVAL_LIMIT or not _PYTHON_HINTS.search(candidate):
        return None
    try:
        value = ast.literal_eval(candidate)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if isinstance(value, tuple):
        value = list(value)
    return value if isinstance(value, (dict, list)) else None


_SINGLE_QUOTED_LIMIT = 100_000


def _single_quoted(candidate: str) -> Any:
    """JSON written with single quotes whose values hold apostrophes (``{'a': 'It's'}``),
    which ``ast.literal_eval`` cannot read: a quote ends a string only where JSON can go on
    (before ``,`` ``:`` ``}`` ``]`` or the end); elsewhere it is an apostrophe."""
    if "'" not in candidate or len(candidate) > _SINGLE_QUOTED_LIMIT:
        return None
    out: list[str] = []
    i, n = 0, len(candidate)
    while i < n:
        ch = candidate[i]
        if ch == '"':
            end = _string_end(candidate, i)
            out.append(candidate[i:end])
            i = end
        elif ch == "'":
            j, chars = i + 1, []
            while j < n:
                c = candidate[j]
                if c == "\\" and j + 1 < n:
                    chars.append(
                        candidate[j + 1] if candidate[j + 1] == "'" else c + candidate[j + 1]
                    )
                    j += 2
                    continue
                if c == "'" and _ends_string(candidate, j + 1):
                    break
                chars.append(c)
                j += 1
            else:
                return None
            try:
                inner = json.loads(f'"{"".join(chars).replace(chr(34), chr(92) + chr(34))}"')
            except ValueError:
                return None
            out.append(json.dumps(inner, ensure_ascii=False))
            i = j + 1
        else:
            word = _PY_WORD.match(candidate, i)
            if word is not None and (i == 0 or not candidate[i - 1].isalnum()):
                out.append(_PY_WORDS[word.group()])
                i = word.end()
            else:
                out.append(ch)
                i += 1
    try:
        value = _loads("".join(out))
    except ValueError:
        return None
    return value if isinstance(value, (dict, list)) else None


_PY_WORD = re.compile(r"(?:True|False|None)\b")
_PY_WORDS = {"True": "true", "False": "false", "None": "null"}
_CONTINUES = frozenset(",:}]")


def _string_end(text: str, start: int) -> int:
    """The index after the double-quoted string opening at ``start``."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i + 1
        i += 1
    return len(text)


def _ends_string(text: str, after: int) -> bool:
    rest = text[after:].lstrip()
    return not rest or rest[0] in _CONTINUES


def _repair(candidate: str) -> Any:
    import json_repair

    try:
        value = json_repair.repair_json(candidate, return_objects=True, skip_json_loads=True)
    except Exception:  # json-repair raises assorted errors on hopeless input
        return None
    return value if isinstance(value, (dict, list)) and not _hollow(value) else None


def _hollow(value: Any) -> bool:
    """Only empty containers (``{}``, ``[[]]``, ``[{}]``): what json-repair makes of text
    that holds no JSON, never a value worth returning."""
    if isinstance(value, dict):
        return all(_hollow(v) for v in value.values()) if value else True
    if isinstance(value, list):
        return all(_hollow(v) for v in value)
    return False


def read_scalar(text: str) -> tuple[Any, list[Fix]] | None:
    """A bare JSON scalar that is the whole text (``42``, ``"Paris"``, ``true``, ``null``), maybe
    inside a ``` fence; None when the text is anything else (prose around a number is not one)."""
    body = text.strip()
    fixes: list[Fix] = []
    fence = _FENCE.fullmatch(body) if body.startswith("```") else None
    if fence is not None:
        body = fence.group("body").strip()
        fixes.append(("code_fence", "removed the ``` fence around the value"))
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return None if isinstance(value, (dict, list)) else (value, fixes)


def partial_json(text: str) -> Any:
    """Whatever an incomplete JSON object in ``text`` holds so far (None if nothing yet)."""
    from pydantic_core import from_json

    start = text.find("{")
    if start < 0:
        return None
    body = text[start:]
    fence_end = body.find("```")
    if fence_end >= 0:
        body = body[:fence_end]
    try:
        return from_json(body, allow_partial="trailing-strings")
    except ValueError:
        return None
