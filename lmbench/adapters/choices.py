"""Reading a Literal or Enum value from a model's text: exact, in other case or spacing, by
an Enum member's name, by a field's aliases, or as the one allowed value named in a phrase.

A value named in a phrase counts only as a whole word: not negated ("not negative"), not part
of a compound ("non-negative", "positive-ish") or a number ("1" in "1.5" or "3/5"); a
one-letter value only where it stands alone ("Answer: B.", "(a)"), never as a word of the
sentence ("a good one"). A phrase naming several allowed values is refused.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from lmbench.adapters.scalars import CoercionError, Fix, short, strip_markup
from lmbench.adapters.typeplan import CHOICE, TypePlan, normalize_name

__all__ = ["is_label", "read_choice"]


def read_choice(
    value: Any, plan: TypePlan, aliases: dict[str, Any] | None = None
) -> tuple[Any, list[Fix]]:
    """The allowed value that ``value`` (not written exactly as one) names, and the repairs
    that took; ``aliases`` are the field's own names for its values (keyed by normalised
    text)."""
    fixes: list[Fix] = []
    if not isinstance(value, str):
        value = str(value.value if isinstance(value, enum.Enum) else value)
    cleaned = strip_markup(value)
    key = normalize_name(cleaned)
    for choice, labels in plan.choices:
        if cleaned == labels[0]:
            if value.strip() != cleaned:
                fixes.append(("strip_markup", f"{short(value.strip())} -> {short(cleaned)}"))
            return choice, fixes
        for position, label in enumerate(labels):
            if normalize_name(label) == key:
                rule = "enum_name" if position == 1 else "value_case"
                fixes.append((rule, f"{short(value.strip())} -> {short(labels[0])}"))
                return choice, fixes
    if aliases is not None and key in aliases:
        target = aliases[key]
        for choice, labels in plan.choices:
            if target == choice or str(target) in labels:
                fixes.append(("enum_alias", f"{short(value.strip())} -> {short(labels[0])}"))
                return choice, fixes
    found = {}
    loose = False  # a one-letter value read inside a sentence ("a good one"): maybe a word
    for match in plan.choice_pattern.finditer(cleaned):
        if _negated(plan, cleaned, match.start()):
            continue
        loose = loose or not _stands_alone(cleaned, match)
        key = normalize_name(match.group())
        for choice, labels in plan.choices:
            if any(normalize_name(label) == key for label in labels):
                found[labels[0]] = choice
    allowed = ", ".join(labels[0] for _, labels in plan.choices)
    if len(found) == 1 and loose:
        raise CoercionError(
            f"{short(value)} mentions {next(iter(found))!r} only as a word of a sentence; "
            f"expected one of: {allowed}"
        )
    if len(found) == 1:
        ((label, choice),) = found.items()
        fixes.append(("choice_in_prose", f"found {label!r} in {short(cleaned)}"))
        return choice, fixes
    if found:
        raise CoercionError(
            f"{short(value)} names several allowed values ({', '.join(found)}); expected one of: {allowed}"
        )
    raise CoercionError(f"{short(value)} is not one of: {allowed}")


# A mention that does not name the value: negated ("not negative"), or the end of a compound
# word ("non-negative", "un-positive").
_NEGATION = re.compile(
    r"(?:\b(?:not|never|no|non|nor|neither|hardly|without|isn't|wasn't|aren't|is not)\s+|\w-)$",
    re.IGNORECASE,
)


def _negated(plan: TypePlan, text: str, start: int) -> bool:
    """Whether the mention at ``start`` is negated; a negating word that is itself an allowed
    value ("no" of yes/no/maybe in "no yes") is that value, not a negation."""
    negation = _NEGATION.search(text[max(0, start - 14) : start])
    if negation is None:
        return False
    word = normalize_name(negation.group().rstrip("-").strip())
    return not any(normalize_name(label) == word for _, labels in plan.choices for label in labels)


# After a one-letter value written in prose: it stands alone ("Answer: B.", "(a)"), rather than
# being a word of the sentence ("a good one").
_ALONE_AFTER = frozenset(".,;:)]!?*\"'\n")


def _stands_alone(text: str, match: re.Match[str]) -> bool:
    if len(match.group()) != 1 or not match.group().isalpha():
        return True
    after = text[match.end() : match.end() + 1]
    before = text[match.start() - 1 : match.start()] if match.start() else ""
    return not after or after in _ALONE_AFTER or before in ("(", "[")


def is_label(plan: TypePlan, word: str) -> bool:
    """Whether ``word`` is one of the allowed values of a Literal/Enum (``Literal["none", ...]``:
    "none" is that value, not a missing one)."""
    key = normalize_name(word)
    return plan.kind is CHOICE and any(
        normalize_name(label) == key for _, labels in plan.choices for label in labels
    )
