"""Old public names that keep working for one release, with a ``DeprecationWarning``.

``Moved({"old": "new.module:NewName"})`` serves a module's renamed or moved names from its
``__getattr__``; ``MovedModule`` stands in ``sys.modules`` for a module that moved.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from types import ModuleType
from typing import Any

__all__ = ["Moved", "MovedModule"]

_WHEN = "the old name goes in the next release"


class Moved:
    """Names of ``module`` that moved: each old name maps to ``"new.module:NewName"``."""

    def __init__(self, module: str, names: Mapping[str, str]) -> None:
        self.module = module
        self.names = dict(names)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def load(self, name: str) -> Any:
        """The object now called ``self.names[name]``, after a DeprecationWarning."""
        new_module, _, new_name = self.names[name].partition(":")
        warnings.warn(
            f"{self.module}.{name} is now {new_module}.{new_name}; {_WHEN}",
            DeprecationWarning,
            stacklevel=3,
        )
        return getattr(importlib.import_module(new_module), new_name)


class MovedModule(ModuleType):
    """A module that moved: its names load from the new one, with a DeprecationWarning."""

    def __init__(self, old: str, new: str) -> None:
        super().__init__(old)
        self._new = new

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        warnings.warn(
            f"{self.__name__} is now {self._new}; {_WHEN}", DeprecationWarning, stacklevel=2
        )
        return getattr(importlib.import_module(self._new), name)
