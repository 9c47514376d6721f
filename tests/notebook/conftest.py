"""A real IPython shell with ``%load_ext lmbench``, a scripted model, and clean history/cache."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chat_answers import chat_answer

from lmbench.calls.budget import set_session_budget
from lmbench.lm import ScriptedLM
from lmbench.lm.cache import reset_cache
from lmbench.lm.replay import replay
from lmbench.observe import MemoryCollector
from lmbench.settings import configure


def unstyled(html: str) -> str:
    """``html`` without its inline ``style`` attributes, to check its structure and text."""
    return re.sub(r' style="[^"]*"', "", html)


@dataclass
class CellRun:
    """What running one cell produced."""

    result: Any
    error: BaseException | None
    outputs: list[Any]
    stdout: str
    stderr: str

    def html(self) -> str:
        """Every HTML output of the cell, joined."""
        return unstyled("\n".join(o.data.get("text/html", "") for o in self.outputs))

    def text(self) -> str:
        return "\n".join(o.data.get("text/plain", "") for o in self.outputs) + self.stdout


@pytest.fixture(autouse=True)
def memory_history(tmp_path: Path) -> Iterator[MemoryCollector]:
    memory = MemoryCollector()
    configure(history=memory)
    cache = reset_cache(tmp_path / "cache")
    yield memory
    cache.close()
    replay.off()
    set_session_budget()


@pytest.fixture
def lm() -> ScriptedLM:
    """The configured model: answers ``answer: 4`` to anything unless a test scripts it."""
    scripted = ScriptedLM([], default=chat_answer(answer=4), model="notebook")
    configure(lm=scripted)
    return scripted


@pytest.fixture
def shell() -> Iterator[Any]:
    from IPython.core.interactiveshell import InteractiveShell

    # The shell puts its own namespace module in place of ``__main__``; later tests that start
    # processes (Dask's spawned workers read ``__main__.__spec__``) need the real one back.
    main = sys.modules["__main__"]
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "lmbench")
    yield ip
    ip.run_line_magic("unload_ext", "lmbench")
    ip.reset(new_session=False)
    sys.modules["__main__"] = main


def run_cell(ip: Any, source: str) -> CellRun:
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        outcome = ip.run_cell(source, store_history=True)
    return CellRun(
        outcome.result, outcome.error_in_exec, captured.outputs, captured.stdout, captured.stderr
    )


def html_of(ip: Any, value: Any) -> str:
    """The HTML the notebook would show for ``value``."""
    data, _metadata = ip.display_formatter.format(value)
    return unstyled(data.get("text/html", ""))
