"""Model answers in ChatAdapter's marker format, for scripting a ``ScriptedLM``."""

from __future__ import annotations

from typing import Any


def chat_answer(**fields: Any) -> str:
    """One ``[[ ## field ## ]]`` block per field, in order, then ``[[ ## completed ## ]]``."""
    blocks = [f"[[ ## {name} ## ]]\n{value}" for name, value in fields.items()]
    return "\n\n".join([*blocks, "[[ ## completed ## ]]"])
