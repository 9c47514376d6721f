"""Reasoning blocks before the answer (``<think>...</think>``): never read as the answer.

Reasoning models open their reply with their working (``<think>``, ``<thinking>``,
``<reasoning>``...), which may hold a draft of the answer in the very format asked for. Every
adapter runs ``mask_reasoning`` before looking for fields: the blocks that open the reply are
blanked out (replaced by spaces, so positions in the text, and the spans of errors, stay
true), and each is reported as the repair ``reasoning_block``. Recognised:

- one or more blocks at the start of the reply, each closed by its own closing tag;
- a closing tag with no opening one before it (chat templates often put ``<think>`` in the
  prompt): all that comes before it is reasoning;
- a block opened at the start and never closed (the reply ran out while thinking): all of it
  is reasoning, so no field can be read from it.

A tag named like one of the signature's fields (ChainOfThought's ``reasoning`` output, written
``<reasoning>`` in XML) is that field, not a preamble, and is left alone. Tags that appear
later in the reply (a value quoting ``<think>``) are left alone too.
"""

from __future__ import annotations

import re

from lmbench.adapters.plan import SignaturePlan
from lmbench.adapters.results import Repair
from lmbench.adapters.typeplan import normalize_name

__all__ = ["REASONING_TAGS", "mask_reasoning", "missing_reason"]

REASONING_TAGS = (
    "think",
    "thinking",
    "thought",
    "thoughts",
    "reasoning",
    "reflection",
    "scratchpad",
)
_NAMES = "|".join(REASONING_TAGS)
# ``match`` at a position: whitespace, then an opening tag.
_OPEN = re.compile(rf"\s*<[ \t]*({_NAMES})[ \t]*>", re.IGNORECASE)
_CLOSE = re.compile(rf"<[ \t]*/[ \t]*({_NAMES})[ \t]*>", re.IGNORECASE)
_OPENING = {tag: re.compile(rf"<[ \t]*{tag}[ \t]*>", re.IGNORECASE) for tag in REASONING_TAGS}
_CLOSING = {
    tag: re.compile(rf"<[ \t]*/[ \t]*{tag}[ \t]*>", re.IGNORECASE) for tag in REASONING_TAGS
}


def _fields(plan: SignaturePlan) -> frozenset[str]:
    """Reasoning tag names that are fields of this signature (kept as fields)."""

    def build() -> frozenset[str]:
        names = set(plan.output_by_norm) | set(plan.input_by_norm)
        return frozenset(tag for tag in REASONING_TAGS if normalize_name(tag) in names)

    return plan.memo("reasoning-fields", build)


def _blocks(plan: SignaturePlan, text: str) -> list[tuple[int, int, str, bool]]:
    """The reasoning blocks opening ``text``: (start, end, tag, closed)."""
    if "<" not in text:
        return []
    fields = _fields(plan)
    blocks: list[tuple[int, int, str, bool]] = []
    position = 0
    while (opening := _OPEN.match(text, position)) is not None:
        tag = opening.group(1).lower()
        if tag in fields:
            break
        start = text.index("<", opening.start())
        closing = _CLOSING[tag].search(text, opening.end())
        if closing is None:
            blocks.append((start, len(text), tag, False))
            return blocks
        blocks.append((start, closing.end(), tag, True))
        position = closing.end()
    if not blocks and "</" in text:
        orphan = _CLOSE.search(text)
        if orphan is not None:
            tag = orphan.group(1).lower()
            opened = _OPENING[tag].search(text, 0, orphan.start())
            if opened is None and tag not in fields:
                blocks.append((0, orphan.end(), tag, True))
    return blocks


def mask_reasoning(plan: SignaturePlan, text: str) -> tuple[str, list[Repair]]:
    """``text`` with its opening reasoning blocks blanked out, and a repair for each."""
    blocks = _blocks(plan, text)
    if not blocks:
        return text, []
    repairs = []
    pieces = []
    last = 0
    for start, end, tag, closed in blocks:
        pieces.append(text[last:start])
        pieces.append(" " * (end - start))
        last = end
        if closed:
            detail = f"ignored the <{tag}> block before the answer ({end - start} characters)"
        else:
            detail = f"<{tag}> is never closed: all {end - start} characters are reasoning"
        repairs.append(Repair("reasoning_block", None, detail))
    pieces.append(text[last:])
    return "".join(pieces), repairs


def missing_reason(answer: str, repairs: list[Repair], reason: str) -> str:
    """``reason`` for a missing field, or, when reasoning is all the answer holds, that.

    ``repairs`` start with those of ``mask_reasoning`` (it runs first), so a look at the
    first one tells whether there was any reasoning at all."""
    if not repairs or repairs[0].rule != "reasoning_block" or answer.strip():
        return reason
    blocks = [r for r in repairs if r.rule == "reasoning_block"]
    return f"the answer holds only reasoning, no fields ({blocks[-1].detail})"
