"""``Conversation``: earlier turns of a conversation, passed as an input field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Conversation"]


@dataclass(frozen=True)
class Conversation:
    """Earlier turns, each a dict of the signature's field names to values (DSPy calls this
    ``History``; here that name is the call log's, ``lmbench.history``).

    ``Conversation([{"question": "2+2?", "answer": "4"}])`` renders as earlier user/assistant turns
    in front of the current one.
    """

    turns: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    def __init__(self, turns: Iterable[Mapping[str, Any]] = ()) -> None:
        object.__setattr__(self, "turns", tuple(dict(t) for t in turns))

    def append(self, turn: Mapping[str, Any]) -> Conversation:
        """A new Conversation with one more turn."""
        return Conversation([*self.turns, turn])

    def __len__(self) -> int:
        return len(self.turns)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.turns)
