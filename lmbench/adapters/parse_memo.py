"""Parses of answers seen before: an answer that comes back is parsed once.

Answers repeat: a cached or replayed call returns the text it returned before, a notebook cell
is run again, ``n`` choices agree. For adapters whose parsing depends only on their class, the
signature and the text (``ChatAdapter``, ``JSONAdapter``, ``XMLAdapter``; not ``TwoStepAdapter``,
which asks an LM), a run looks the answer up here before scanning it again.

Only parses whose values are all immutable scalars are kept, and every caller gets its own dict
and list of repairs, so nothing handed out can change what is kept. The repairs of a reused parse
are logged again, as a fresh parse would. Bounded: answers longer than ``LONGEST`` characters are
not kept, and the table is emptied when it holds ``KEPT`` answers.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lmbench.adapters.assemble import log_repairs
from lmbench.adapters.base import Adapter
from lmbench.adapters.plan import SignaturePlan, signature_plan
from lmbench.adapters.results import ParseResult, Repair
from lmbench.signatures.signature import Signature

__all__ = ["KEPT", "LONGEST", "ReusesParses", "forget_parses"]

KEPT = 512
LONGEST = 16_384

_SCALARS = frozenset({str, int, float, bool, type(None)})

_Key = tuple[type, SignaturePlan, str]
_parses: dict[_Key, tuple[dict[str, Any], tuple[Repair, ...]]] = {}


class ReusesParses(Adapter):
    """Base for adapters whose ``parse_with_repairs`` is a function of class, signature and text.

    Listed before the adapter's other base: ``class ChatAdapter(ReusesParses, TurnAdapter)``.
    A subclass whose parsing also depends on its own settings sets ``reuse_parses = False``.
    """

    reuse_parses: ClassVar[bool] = True

    def _parse_text(self, signature: Signature, text: str) -> ParseResult:
        if not self.reuse_parses or len(text) > LONGEST:
            return self.parse_with_repairs(signature, text)
        key = (type(self), signature_plan(signature), text)
        kept = _parses.get(key)
        if kept is not None:
            values, repairs = kept
            if repairs:
                log_repairs(self.name, list(repairs))
            return ParseResult(dict(values), list(repairs))
        result = self.parse_with_repairs(signature, text)
        if all(type(value) in _SCALARS for value in result.values.values()):
            if len(_parses) >= KEPT:
                _parses.clear()
            _parses[key] = (dict(result.values), tuple(result.repairs))
        return result


def forget_parses() -> None:
    """Empty the table (tests, or to free memory at once)."""
    _parses.clear()
