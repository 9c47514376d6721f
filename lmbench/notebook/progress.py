"""Progress bars for long batches: a widget bar in a notebook front end, text elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["progress"]

T = TypeVar("T")


def progress(items: Iterable[T], *, total: int, description: str) -> Iterator[T]:
    """Iterate over ``items`` while showing how far along the batch is (``tqdm.auto``)."""
    from tqdm.auto import tqdm

    with tqdm(items, total=total, desc=description, leave=True) as bar:
        yield from bar
