"""The public surface: the lazy export table of ``lmbench``, its type-checking imports and
``lmbench.errors.__all__`` agree, and every exported name resolves where the table says."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import lmbench
from lmbench import errors

INIT = Path(lmbench.__file__)


def _type_checking_imports() -> dict[str, str]:
    """name -> module of every ``from X import name`` under ``if TYPE_CHECKING:``."""
    found: dict[str, str] = {}
    for node in ast.parse(INIT.read_text()).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom) and statement.module is not None
                for alias in statement.names:
                    found[alias.asname or alias.name] = statement.module
    return found


def test_the_type_checking_imports_match_the_lazy_table() -> None:
    imports = _type_checking_imports()
    assert set(imports) == set(lmbench._EXPORTS) | lmbench._SUBMODULES
    for name, module in imports.items():
        if name in lmbench._SUBMODULES:
            continue
        # the same object, whether imported from where type checkers look or from the table
        table_module = importlib.import_module(lmbench._EXPORTS[name])
        assert getattr(importlib.import_module(module), name) is getattr(table_module, name)


def test_every_exported_name_resolves_and_is_listed() -> None:
    for name in [*lmbench._EXPORTS, *lmbench._SUBMODULES]:
        assert getattr(lmbench, name) is not None
    assert set(lmbench.__all__) == {
        *lmbench._EXPORTS,
        *lmbench._SUBMODULES,
        "load_ipython_extension",
        "unload_ipython_extension",
    }
    assert dir(lmbench) == lmbench.__all__


def test_every_public_error_is_exported_from_lmbench() -> None:
    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value)
        and issubclass(value, errors.LMBenchError)
        and value.__module__ == errors.__name__
        and not name.startswith("_")
    }
    assert set(errors.__all__) == defined
    for name in errors.__all__:
        assert lmbench._EXPORTS.get(name) == "lmbench.errors", name
        assert getattr(lmbench, name) is getattr(errors, name)
