"""One money formatter: six decimals, a word for an unknown price, trailing zeros on request."""

from __future__ import annotations

from lmbench.money import format_usd


def test_dollars_have_six_decimals_and_unknown_is_said() -> None:
    assert format_usd(0.000123) == "$0.000123"
    assert format_usd(2) == "$2.000000"
    assert format_usd(None) == "unknown" and format_usd(None, unknown="?") == "?"


def test_trimmed_dollars_drop_trailing_zeros() -> None:
    assert format_usd(0.00012, trim=True) == "$0.00012"
    assert format_usd(0, trim=True) == "$0"
    assert format_usd(1.5, trim=True) == "$1.5" and format_usd(3, trim=True) == "$3"
