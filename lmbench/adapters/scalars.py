"""Readers that turn a model's text into one scalar value: numbers, booleans, dates and times.

Each reader returns the value and the repairs it applied as ``(rule, detail)`` pairs, or
raises ``CoercionError`` whose ``reason`` says what was wrong with the text. They are the
text-level half of ``lmbench.adapters.coercion``; nothing else should call them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TypeVar

__all__ = [
    "CoercionError",
    "Fix",
    "read_bool",
    "read_date",
    "read_datetime",
    "read_number",
    "read_time",
    "short",
    "strip_markup",
]

Fix = tuple[str, str]  # (rule, detail)
T = TypeVar("T")


class CoercionError(ValueError):
    """A value could not be read as the expected type; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def short(text: str, limit: int = 60) -> str:
    """``repr`` of a value, cut to ``limit`` characters, for repair details and reasons."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"


# Pairs that models wrap around a short value: markdown emphasis, code, quotes.
_WRAPPERS = (("**", "**"), ("__", "__"), ("*", "*"), ("`", "`"), ('"', '"'), ("'", "'"))
_WRAPPERS += (("\u201c", "\u201d"), ("\u00ab", "\u00bb"))


def strip_markup(text: str) -> str:
    """Remove markdown emphasis, backticks, quotes and a final full stop around a short value."""
    value = text.strip()
    while True:
        before = value
        for opening, closing in _WRAPPERS:
            if (
                len(value) > len(opening) + len(closing)
                and value.startswith(opening)
                and value.endswith(closing)
            ):
                value = value[len(opening) : -len(closing)].strip()
        if value.endswith((".", "!")) and not value.endswith(".."):
            value = value[:-1].rstrip()
        if value == before:
            return value


def _unmarked(text: str) -> tuple[str, list[Fix]]:
    """``text`` through ``strip_markup``, and the fix that reports it (if it changed anything)."""
    cleaned = strip_markup(text)
    original = text.strip()
    if cleaned == original:
        return cleaned, []
    return cleaned, [("strip_markup", f"{short(original)} -> {short(cleaned)}")]


def _or_none(parse: Callable[[str], T], text: str) -> T | None:
    """``parse(text)``, or None where ``parse`` raises ``ValueError``."""
    try:
        return parse(text)
    except ValueError:
        return None


# -- numbers -------------------------------------------------------------------------------------

# A number standing on its own. Not one: digits glued to a word by a hyphen ("item-3": minus
# three, or three?), or going on as something else (hex "0x1f", a version "1.5.2", "12½").
_NUMBER = re.compile(
    r"(?<![\w.])(?<![^\W\d_]-)[-+]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?"
    r"(?![\d\u00bc-\u00be\u2150-\u215e\u00b2\u00b3\u00b9\u2070-\u2079])(?![xX][0-9a-fA-F])(?!\.\d)"
)
# Minus signs that are not ASCII's ("−5"), before a digit.
_MINUS = re.compile(r"[\u2212\u2012\u2013\ufe63\uff0d](?=\d)")
# "8/10", "8 out of 10": the first number is the answer, the second its scale.
_SCALE = re.compile(r"\s*(?:/|out of|of)\s*", re.IGNORECASE)
_WHOLE = re.compile(r"[-+]?\d+")
# Words before or after a number that make it a bound ("< 5", "at least 5", "5+", "5 or more")
# or give its sign ("minus 5", "5 below zero"): the number alone is not the value.
_BOUND_BEFORE = re.compile(
    r"(?:[<>\u2264\u2265\u2272\u2273]=?|\b(?:less|more|fewer|greater|lower|higher|other)\s+than"
    r"|\b(?:at\s+(?:least|most)|up\s+to|over|under|below|above|minus|negative|upwards\s+of"
    r"|no\s+(?:more|less|fewer)\s+than))[ \t]*[$\u20ac\u00a3]?[ \t]*\Z",
    re.IGNORECASE,
)
_BOUND_REACH = 24  # characters before a number that can hold such a word
_BOUND_AFTER = re.compile(
    r"[ \t]*(?:\+(?![\d.])|or\s+(?:more|less|fewer|above|below|higher|lower)\b"
    r"|and\s+(?:up|above|over)\b|(?:\w+\s+)?below\s+zero\b)",
    re.IGNORECASE,
)
# A word after a number that scales it ("5k", "1.5 million", "3bn"): the number alone is not
# the value, and what the word multiplies by is the reader's guess.
_MAGNITUDE = re.compile(
    r"[ \t]*(?:[kKmMbB](?:n|ln)?|[kK]{2}|thousand|million|billion|trillion|lakh|crore|dozen"
    r"|hundred)s?(?![^\W\d_])",
    re.IGNORECASE,
)


def read_number(text: str, target: type) -> tuple[int | float | Decimal, list[Fix]]:
    """The one number in ``text`` as ``target`` (int, float or Decimal)."""
    cleaned, fixes = _unmarked(text)
    if _MINUS.search(cleaned):
        fixes.append(("unicode_minus", f"read {short(cleaned)} with an ASCII minus sign"))
        cleaned = _MINUS.sub("-", cleaned)
    matches = list(_NUMBER.finditer(cleaned))
    if not matches:
        raise CoercionError(f"{short(text)} contains no number")
    chosen = matches[0]
    if len(matches) > 1:
        between = cleaned[matches[0].end() : matches[1].start()]
        same = len({m.group().replace(",", "") for m in matches}) == 1
        scale = len(matches) == 2 and _SCALE.fullmatch(between) is not None
        if not (same or scale):
            found = ", ".join(m.group() for m in matches[:5])
            raise CoercionError(f"{short(text)} holds several numbers ({found}); expected one")
        if scale and target is not int:  # an int cannot be the ratio
            raise CoercionError(
                f"{short(text)} may mean {matches[0].group()} or the ratio of the two numbers; "
                "expected a plain number"
            )
    token = chosen.group()
    if chosen.span() != (0, len(cleaned)):
        if cleaned.lstrip()[:1] in ("{", "["):
            raise CoercionError(f"{short(text)} is structured data, not a number")
        before = max(0, chosen.start() - _BOUND_REACH)
        bound = _BOUND_BEFORE.search(cleaned, before, chosen.start()) or _BOUND_AFTER.match(
            cleaned, chosen.end()
        )
        if bound is not None:
            raise CoercionError(
                f"{short(text)} gives a bound or a sign in words ({bound.group().strip()!r}), "
                f"not the number {token}; expected the number itself"
            )
        scaled = _MAGNITUDE.match(cleaned, chosen.end())
        if scaled is not None:
            raise CoercionError(
                f"{short(text)} scales {token} by {scaled.group().strip()!r}; expected the number "
                "written out"
            )
    if cleaned[chosen.end() :].lstrip().startswith("%") and target is not int:
        raise CoercionError(
            f"{short(text)} is a percentage, which may mean {token} or its hundredth; "
            "expected a plain number"
        )
    if "," in token:
        fixes.append(("thousands_separator", f"{token!r} -> {token.replace(',', '')!r}"))
        token = token.replace(",", "")
    if chosen.span() != (0, len(cleaned)):
        fixes.append(("number_in_prose", f"read {token} from {short(cleaned)}"))
    return _convert_number(token, target, fixes), fixes


# Digits a number written with an exponent may have, read as an int.
_LONGEST_EXPONENT = 100


def _convert_number(token: str, target: type, fixes: list[Fix]) -> int | float | Decimal:
    if target is int:
        if _WHOLE.fullmatch(token):
            return int(token)
        exact = Decimal(token)  # not float: "12345678901234567.0" is not 12345678901234568
        if exact.adjusted() > _LONGEST_EXPONENT:  # "1e999999999" would fill the memory
            raise CoercionError(f"{token} is too large a number to read")
        if exact != exact.to_integral_value():
            raise CoercionError(f"{token} is not a whole number")
        fixes.append(("whole_float", f"{token} -> {int(exact)}"))
        return int(exact)
    if target is Decimal:
        try:
            return Decimal(token)
        except InvalidOperation:
            raise CoercionError(f"{token!r} is not a decimal number") from None
    return float(token)


# -- booleans ------------------------------------------------------------------------------------

_TRUE = frozenset({"yes", "y", "t", "1", "on", "correct", "right"})
_FALSE = frozenset({"no", "n", "f", "0", "off", "incorrect", "wrong"})
# A phrase opening with a yes/no word set off by punctuation or a line break ("Yes, because",
# "No. It..."); not a word of a longer phrase ("false positive", "correct answer is b"), a
# letter or digit ("N/A", "1.0") or half of "yes/no".
_FIRST_WORD = re.compile(r"([a-z]{2,})(?:[ \t]*(?:[,;:.!?\n]|[-\u2013\u2014][ \t]))")
_ANY_WORD = re.compile(r"[a-z]{2,}")  # words that say yes or no in prose (not "1", "t")


def read_bool(text: str) -> tuple[bool, list[Fix]]:
    """``true``/``false`` in any case, or yes/no-like words, alone or opening a phrase."""
    cleaned, fixes = _unmarked(text)
    lowered = cleaned.casefold()
    if lowered in ("true", "false"):
        return lowered == "true", fixes
    if lowered in _TRUE or lowered in _FALSE:
        fixes.append(("bool_word", f"{short(cleaned)} -> {lowered in _TRUE}"))
        return lowered in _TRUE, fixes
    first = _FIRST_WORD.match(lowered)
    word = first.group(1) if first else ""
    if word in ("true", "false") or word in _TRUE or word in _FALSE:
        value = word == "true" or word in _TRUE
        against = _FALSE | {"false"} if value else _TRUE | {"true"}
        said = next((w for w in _ANY_WORD.findall(lowered) if w in against), None)
        if said is not None:
            raise CoercionError(f"{short(text)} says both {word!r} and {said!r}")
        fixes.append(("bool_in_prose", f"read {value} from {short(cleaned)}"))
        return value, fixes
    raise CoercionError(f"{short(text)} is not true/false (or yes/no)")


# -- dates and times -----------------------------------------------------------------------------

_DATE_FORMATS = (
    "%Y-%m-%d",  # "2024-4-5": ISO without the zeros
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%B %d, %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%b %d %Y",
    "%d %B %Y",
    "%d %B, %Y",
    "%d %b %Y",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
)
# Written both month first (US) and day first: "04/05/2024" and "04-05-2024" read two ways.
_EITHER_ORDER = frozenset({"%m/%d/%Y", "%d-%m-%Y"})
_TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M:%S %p", "%I %p", "%I:%M%p", "%I%p")
_ORDINAL = re.compile(r"(?<=\d)(?:st|nd|rd|th)\b", re.IGNORECASE)
_WEEKDAY = re.compile(
    r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", re.IGNORECASE
)  # "Tuesday, March 5, 2024"
# Words before a date that make it a bound: "before March 5, 2024", "no later than ...".
_DATE_BOUND = re.compile(
    r"\b(?:before|after|since|until|till|by|prior\s+to|no\s+(?:later|earlier)\s+than|between)"
    r"[ \t]*(?:the[ \t]+)?\Z",
    re.IGNORECASE,
)
_ISO_DATE_ONLY = re.compile(r"\d{4}-?\d{2}-?\d{2}")
_DATE_IN_TEXT = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}"
    r"|[A-Z][a-z]{2,8}\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)? [A-Z][a-z]{2,8}\.?,? \d{4}"
    r"|\d{1,2}/\d{1,2}/\d{4}"
)


def _parse_date_formats(text: str) -> tuple[dt.date, str] | None:
    simplified = _WEEKDAY.sub("", _ORDINAL.sub("", text)).replace(".,", ",")
    for fmt in _DATE_FORMATS:
        try:
            parsed = dt.datetime.strptime(simplified, fmt).date()
        except ValueError:
            continue
        if fmt in _EITHER_ORDER and parsed.day != parsed.month and parsed.day <= 12:
            other = parsed.replace(month=parsed.day, day=parsed.month)
            raise CoercionError(
                f"{short(text)} may be {parsed:%B} {parsed.day} or {other.day} {other:%B} "
                "(month or day first); expected YYYY-MM-DD"
            )
        return parsed, f"read {short(text)} as {fmt}"
    return None


def read_date(text: str) -> tuple[dt.date, list[Fix]]:
    """An ISO date, a date in a common written format, or one date inside a phrase."""
    cleaned, fixes = _unmarked(text)
    day = _or_none(dt.date.fromisoformat, cleaned)
    if day is not None:
        return day, fixes
    moment = _or_none(dt.datetime.fromisoformat, cleaned)
    if moment is not None:
        fixes.append(("datetime_to_date", f"kept the date of {short(cleaned)}"))
        return moment.date(), fixes
    found = _parse_date_formats(cleaned)
    if found is not None:
        fixes.append(("date_format", found[1]))
        return found[0], fixes
    matches = list(_DATE_IN_TEXT.finditer(cleaned))
    dates = {day for day in (_try_date(m.group()) for m in matches) if day is not None}
    bound = next((b for m in matches if (b := _DATE_BOUND.search(cleaned, 0, m.start()))), None)
    if len(dates) == 1 and bound is not None:
        raise CoercionError(
            f"{short(text)} gives a bound ({bound.group().strip()!r}), not the date itself"
        )
    if len(dates) == 1:
        (only,) = dates
        fixes.append(("date_in_prose", f"read {only.isoformat()} from {short(cleaned)}"))
        return only, fixes
    if dates:
        shown = ", ".join(sorted(d.isoformat() for d in dates))
        raise CoercionError(f"{short(text)} holds several dates ({shown}); expected one")
    raise CoercionError(f"{short(text)} is not a date; expected YYYY-MM-DD")


def read_time(text: str) -> tuple[dt.time, list[Fix]]:
    """An ISO time (HH:MM[:SS]) or a 12-hour time such as ``3:30 PM``."""
    cleaned, fixes = _unmarked(text)
    # Python reads "10" and "1030" as times too; without a colon they may be anything.
    clock = _or_none(dt.time.fromisoformat, cleaned) if ":" in cleaned else None
    if clock is not None:
        return clock, fixes
    normalized = cleaned.upper().replace(".", "")
    for fmt in _TIME_FORMATS:
        try:
            parsed = dt.datetime.strptime(normalized, fmt).time()
        except ValueError:
            continue
        fixes.append(("time_format", f"read {short(cleaned)} as {fmt}"))
        return parsed, fixes
    raise CoercionError(f"{short(text)} is not a time; expected HH:MM:SS")


def read_datetime(text: str) -> tuple[dt.datetime, list[Fix]]:
    """An ISO 8601 date and time, a written date with a time, or a date alone (at midnight)."""
    cleaned, fixes = _unmarked(text)
    moment = _or_none(dt.datetime.fromisoformat, cleaned)
    if moment is not None:
        if _ISO_DATE_ONLY.fullmatch(cleaned):
            fixes.append(("date_only", f"no time in {short(cleaned)}; read as midnight"))
        return moment, fixes
    words = cleaned.replace(" at ", " ").split()
    for cut in range(len(words) - 1, 0, -1):  # "March 5, 2024 2:30 PM": date words, time words
        day = _try_date(" ".join(words[:cut]))
        clock = _try_time(" ".join(words[cut:])) if day is not None else None
        if day is not None and clock is not None:
            fixes.append(("datetime_format", f"read {short(cleaned)} as a date and a time"))
            return dt.datetime.combine(day, clock), fixes
    try:
        day, date_fixes = read_date(cleaned)
    except CoercionError:
        raise CoercionError(
            f"{short(text)} is not a date and time; expected ISO 8601 like 2024-01-31T09:30:00"
        ) from None
    fixes.extend(date_fixes)
    fixes.append(("date_only", f"no time in {short(cleaned)}; read as midnight"))
    return dt.datetime.combine(day, dt.time()), fixes


def _try_date(text: str) -> dt.date | None:
    day = _or_none(dt.date.fromisoformat, text)
    if day is not None:
        return day
    found = _parse_date_formats(text)
    return found[0] if found else None


def _try_time(text: str) -> dt.time | None:
    try:
        return read_time(text)[0]
    except CoercionError:
        return None
