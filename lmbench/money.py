"""How an amount of US dollars is written, everywhere lmbench shows one."""

from __future__ import annotations

__all__ = ["format_usd"]


def format_usd(usd: float | None, *, unknown: str = "unknown", trim: bool = False) -> str:
    """``$0.000123`` (six decimals: a call often costs a fraction of a cent); ``unknown`` when
    no price is known. ``trim`` drops trailing zeros (``$0.0012``, and ``$0`` for nothing)."""
    if usd is None:
        return unknown
    text = f"${usd:.6f}"
    if trim:
        text = "$0" if usd == 0 else text.rstrip("0").rstrip(".")
    return text
