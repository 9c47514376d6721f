"""Each observability test gets its own memory history and its own cache folder."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _isolated(collector: Any, response_cache: Any) -> None:
    """The shared ``collector`` and ``response_cache`` fixtures, for every test here."""
