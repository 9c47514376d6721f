"""Progress of a batch: a live status line in a notebook, a tqdm bar in a terminal.

In a notebook the line counts up (``%%predict over trips · row 3 of 4 · 9 s``) and ends as a
static summary (``✓ %%predict over trips · 4/4 rows · 13 s``), so a saved notebook shows the
final state, never a bar stuck at 0%.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from lmbench.notebook.status import cell_status

__all__ = ["progress"]

T = TypeVar("T")


def progress(
    items: Iterable[T], *, total: int, description: str, unit: str = "rows"
) -> Iterator[T]:
    """Iterate over ``items`` while showing how far along the batch is."""
    from IPython import get_ipython

    shell = get_ipython()
    status = cell_status(shell, description, doing=f"0/{total} {unit}") if shell else None
    if status is None:
        from tqdm.auto import tqdm

        with tqdm(items, total=total, desc=description, leave=True) as bar:
            yield from bar
        return
    single = unit[:-1] if unit.endswith("s") else unit
    status.start()
    done = 0
    try:
        for item in items:
            status.doing(f"{single} {done + 1} of {total}")
            yield item
            done += 1
    finally:
        ending = f"{done}/{total} {unit}" + ("" if done == total else " (stopped)")
        status.finish(status.summary(ending))
