"""Reasoning blocks before the answer (``<think>...</think>``): never read as the answer.

Reasoning models open their reply with their working, which may hold a draft of the answer in
the very format asked for. Every adapter runs ``mask_reasoning`` before looking for fields: the
blocks that open the reply are blanked out (replaced by spaces, so positions in the text, and
the spans of errors, stay true), and each is reported as the repair ``reasoning_block``.

One table of delimiter styles covers the forms models write, each with the names of
``REASONING_TAGS`` (any case, spaces inside the delimiters allowed):

- angle tags ``<think>...</think>``, attributes allowed on the opening tag
  (``<think type="internal">``);
- bracket tags ``[THINK]...[/THINK]`` (Mistral's Magistral);
- special tokens ``<|thinking|>...<|/thinking|>``, ``<|begin_of_thought|>...<|end_of_thought|>``;
- Kimi's ``◁think▷...◁/think▷``.

Recognised placements:

- one or more blocks at the start of the reply, each closed by its own closing delimiter; the
  first may follow a one-line lead-in of at most 80 characters ("Sure!"), blanked with it;
- a closing delimiter with no opening one before it (chat templates often put ``<think>`` in
  the prompt): all that comes before it is reasoning;
- a block opened at the start and never closed (the reply ran out while thinking): all of it
  is reasoning, so no field can be read from it.

A tag named like one of the signature's fields (ChainOfThought's ``reasoning`` output, written
``<reasoning>`` in XML) is that field, not a preamble, and is left alone. Delimiters that appear
later in the reply (a value quoting ``<think>``) are left alone too.
"""

from __future__ import annotations

import re
from functools import lru_cache

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
_S = r"[ \t]*"
# Opening and closing delimiter of each style; ``{name}`` stands for the tag's name.
_STYLES: dict[str, tuple[str, str]] = {
    "angle": (rf"<{_S}{{name}}(?:[ \t]+[^<>\n]*)?>", rf"<{_S}/{_S}{{name}}{_S}>"),
    "bracket": (rf"\[{_S}{{name}}{_S}\]", rf"\[{_S}/{_S}{{name}}{_S}\]"),
    "token": (
        rf"<\|{_S}(?:begin_of_|start_of_|begin_|start_)?{{name}}{_S}\|>",
        rf"<\|{_S}(?:/|end_of_|end_){_S}{{name}}{_S}\|>",
    ),
    "kimi": (rf"◁{_S}{{name}}{_S}▷", rf"◁{_S}/{_S}{{name}}{_S}▷"),
}


def _any(side: int) -> str:
    """Every style's opening (0) or closing (1) delimiter, the name in a group named for it."""
    return "|".join(
        pair[side].format(name=f"(?P<{style}>{_NAMES})") for style, pair in _STYLES.items()
    )


# ``match`` at a position: whitespace, then an opening delimiter.
_OPEN = re.compile(rf"\s*(?P<open>{_any(0)})", re.IGNORECASE)
# The first block may follow one short line of prose ("Sure!\n<think>...").
_LEAD_IN = re.compile(
    rf"\s*(?P<lead>[^\s<\[{{◁][^\n<\[{{◁]{{0,79}}?)\s*(?P<open>{_any(0)})", re.IGNORECASE
)
_CLOSE = re.compile(_any(1), re.IGNORECASE)
# Every delimiter holds a tag name, so an ASCII reply holding none of these (lowercased) has no
# reasoning block: a few substring checks spare the patterns below on most replies.
_STEMS = tuple(t for t in REASONING_TAGS if not any(o != t and o in t for o in REASONING_TAGS))
# A line that starts like a field's heading: "answer:", "**Answer**:".
_HEADING = re.compile(r"\s*[#*]*\s*(\w+)\s*\**\s*:")


@lru_cache(maxsize=64)
def _delimiter(style: str, tag: str, side: int) -> re.Pattern[str]:
    """The opening (0) or closing (1) delimiter of ``tag`` in ``style``."""
    return re.compile(_STYLES[style][side].format(name=re.escape(tag)), re.IGNORECASE)


def _fields(plan: SignaturePlan) -> frozenset[str]:
    """Reasoning tag names that are fields of this signature (kept as fields)."""

    def build() -> frozenset[str]:
        names = set(plan.output_by_norm) | set(plan.input_by_norm)
        return frozenset(tag for tag in REASONING_TAGS if normalize_name(tag) in names)

    return plan.memo("reasoning-fields", build)


def _named(match: re.Match[str]) -> tuple[str, str]:
    """(style, tag) of a delimiter matched by one of the ``_any`` patterns."""
    return next((style, match.group(style).lower()) for style in _STYLES if match.group(style))


def _lead_in(plan: SignaturePlan, text: str) -> re.Match[str] | None:
    """A short line of prose and then a reasoning block, at the start of ``text``; not when the
    line is a field's own heading (``answer: <think>``)."""
    found = _LEAD_IN.match(text)
    if found is None:
        return None
    heading = _HEADING.match(found.group("lead"))
    if heading is not None and normalize_name(heading.group(1)) in plan.output_by_norm:
        return None
    return found


def _blocks(plan: SignaturePlan, text: str) -> list[tuple[int, int, str, bool, str]]:
    """The reasoning blocks opening ``text``: (start, end, delimiter, closed, lead-in)."""
    if text.isascii():
        lowered = text.lower()
        for stem in _STEMS:
            if stem in lowered:
                break
        else:
            return []
    fields = _fields(plan)
    blocks: list[tuple[int, int, str, bool, str]] = []
    opening = _OPEN.match(text) or _lead_in(plan, text)
    while opening is not None:
        style, tag = _named(opening)
        if tag in fields:
            break
        lead = opening.group("lead") if not blocks and "lead" in opening.re.groupindex else ""
        start = opening.start("lead") if lead else opening.start("open")
        written = opening.group("open")
        closing = _delimiter(style, tag, 1).search(text, opening.end())
        if closing is None:
            blocks.append((start, len(text), written, False, lead))
            return blocks
        blocks.append((start, closing.end(), written, True, lead))
        opening = _OPEN.match(text, closing.end())
    if not blocks:
        orphan = _CLOSE.search(text)
        if orphan is not None:
            style, tag = _named(orphan)
            if tag not in fields and not _delimiter(style, tag, 0).search(text, 0, orphan.start()):
                blocks.append((0, orphan.end(), orphan.group(), True, ""))
    return blocks


def mask_reasoning(plan: SignaturePlan, text: str) -> tuple[str, list[Repair]]:
    """``text`` with its opening reasoning blocks blanked out, and a repair for each."""
    blocks = _blocks(plan, text)
    if not blocks:
        return text, []
    repairs = []
    pieces = []
    last = 0
    for start, end, written, closed, lead in blocks:
        pieces.append(text[last:start])
        pieces.append(" " * (end - start))
        last = end
        after = f" after the lead-in {lead.strip()!r}" if lead else ""
        if closed:
            detail = (
                f"ignored the {written} block{after} before the answer ({end - start} characters)"
            )
        else:
            detail = f"{written}{after} is never closed: all {end - start} characters are reasoning"
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
