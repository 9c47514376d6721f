"""The layer rules, checked over the import graph (read with ``ast``, nothing imported).

Dependencies point down: ``notebook`` > ``modules`` > ``adapters`` > ``calls`` >
``providers`` / ``observe`` > ``lm`` > the ground floor (errors, env, secrets, logs...). Imports
under ``if TYPE_CHECKING:`` are for type checkers only and do not count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lmbench"
MAX_LINES = 600

# package -> what no module in it may import (a module, or a package and everything in it)
FORBIDDEN = {
    "lmbench.lm": (
        "lmbench.observe",
        "lmbench.providers",
        "lmbench.notebook",
        "lmbench.calls",
        "lmbench.adapters",
        "lmbench.modules",
    ),
    "lmbench.observe": (
        "lmbench.providers",
        "lmbench.adapters",
        "lmbench.modules",
        "lmbench.notebook",
        "lmbench.calls",
        "lmbench.lm.cache",
        "lmbench.lm.cache_key",
        "lmbench.lm.replay",
    ),
    "lmbench.calls": (
        "lmbench.providers",
        "lmbench.adapters",
        "lmbench.modules",
        "lmbench.notebook",
    ),
    # the sandbox runs code and calls tools; it knows nothing of models or prompts
    "lmbench.sandbox": (
        "lmbench.adapters",
        "lmbench.modules",
        "lmbench.notebook",
        "lmbench.providers",
        "lmbench.calls.model_call",
    ),
}
GROUND = (
    "errors",
    "env",
    "secrets",
    "private_data",
    "logs",
    "money",
    "steps",
    "deprecation",
    "progress",
    "display",
    "once",
    "forked",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    return ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def _imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(imported lmbench module, at top level?) for every import outside TYPE_CHECKING."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def visit(nodes: list[ast.stmt], top: bool) -> Iterator[tuple[str, bool]]:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node):
                yield from visit(node.orelse, top)
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield alias.name, top
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    yield (submodule if submodule in MODULES else node.module), top
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.AST):
                    nested_top = top and not isinstance(
                        node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
                    )
                    if isinstance(node, ast.ClassDef):
                        nested_top = top  # a class body runs at import time
                    yield from visit(inner, nested_top)  # type: ignore[arg-type]

    yield from (item for item in visit(tree.body, True) if item[0].startswith("lmbench"))


GRAPH = {name: list(_imports(path)) for name, path in MODULES.items()}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_from_the_layers_above(package: str) -> None:
    broken = [
        f"{module} imports {target}"
        for module, imports in GRAPH.items()
        if _within(module, package)
        for target, _ in imports
        if any(_within(target, banned) for banned in FORBIDDEN[package])
    ]
    assert not broken, "\n".join(broken)


def test_the_ground_floor_imports_only_the_ground_floor_at_import_time() -> None:
    ground = {f"lmbench.{name}" for name in GROUND}
    broken = [
        f"{module} imports {target}"
        for module in ground
        for target, top in GRAPH[module]
        if top and target not in ground
    ]
    assert not broken, "\n".join(broken)


def test_no_two_modules_import_each_other_at_top_level() -> None:
    top = {
        module: {target for target, at_top in imports if at_top}
        for module, imports in GRAPH.items()
    }
    pairs = sorted(
        f"{a} <-> {b}"
        for a, targets in top.items()
        for b in targets
        if a < b and a in top.get(b, ())
    )
    assert not pairs, "\n".join(pairs)


def test_no_file_is_longer_than_the_limit() -> None:
    long = {
        str(path.relative_to(PACKAGE.parent)): length
        for path in MODULES.values()
        if (length := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"files over {MAX_LINES} lines: {long}"


def test_the_rules_see_the_imports_they_judge() -> None:
    """The graph is read right: known imports are found, at the level they are made."""
    assert ("lmbench.calls.budget", True) in GRAPH["lmbench.calls.model_call"]
    assert ("lmbench.observe.sqlite", False) in GRAPH["lmbench.observe.collectors"]
    assert not any(t == "lmbench.calls" for t, _ in GRAPH["lmbench.observe.trace"])  # TYPE_CHECKING
