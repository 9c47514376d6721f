"""What a forked child process must not inherit from its parent: locks another thread of the
parent may have held at the fork (the child would wait on them forever) and connections the
parent keeps using (two processes on one socket read each other's answers).

An object that holds such things calls ``renew_after_fork(self)`` once; in every child forked
afterwards its ``_after_fork()`` runs first, before any code of the child can use it.
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol

__all__ = ["RenewsAfterFork", "renew_after_fork"]


class RenewsAfterFork(Protocol):
    def _after_fork(self) -> None:
        """Replace the locks and drop the connections inherited from the parent."""


_holders: weakref.WeakSet[RenewsAfterFork] = weakref.WeakSet()


def renew_after_fork(holder: RenewsAfterFork) -> None:
    """Have ``holder._after_fork()`` called in each child process forked from now on."""
    _holders.add(holder)


def _in_child() -> None:
    for holder in list(_holders):
        holder._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_in_child)
