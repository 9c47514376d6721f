"""Figures displayed after ``%load_ext lmbench`` carry plotly's mimetype and an HTML fallback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import plotly.io as pio
import pytest

import lmbench
from lmbench.notebook.plotly_output import WITH_HTML_FALLBACK
from lmbench.observe import MemoryCollector

from .conftest import run_cell

PLOTLY_MIME = "application/vnd.plotly.v1+json"
KERNEL_DEFAULT = "plotly_mimetype"  # what plotly picks by itself in a Jupyter kernel


@pytest.fixture
def kernel_renderer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """plotly's renderer as a kernel starts it; put back as it was after the test."""
    monkeypatch.delenv("PLOTLY_RENDERER", raising=False)
    before = pio.renderers.default
    pio.renderers.default = KERNEL_DEFAULT
    yield
    pio.renderers.default = before


def _reload(shell: Any) -> None:
    """Load the extension again, now that the renderer is the kernel's."""
    shell.run_line_magic("unload_ext", "lmbench")
    shell.run_line_magic("load_ext", "lmbench")


@pytest.mark.usefixtures("kernel_renderer")
def test_a_figure_displayed_after_load_ext_carries_the_mimetype_and_html(shell: Any) -> None:
    _reload(shell)
    run = run_cell(shell, "import plotly.graph_objects as go\ngo.Figure(go.Bar(y=[1, 2]))")
    assert run.error is None
    figures = [o.data for o in run.outputs if PLOTLY_MIME in o.data]
    assert len(figures) == 1
    assert "text/html" in figures[0]
    assert "Plotly.newPlot" in figures[0]["text/html"]


@pytest.mark.usefixtures("kernel_renderer")
def test_unload_ext_puts_the_kernel_renderer_back(shell: Any) -> None:
    _reload(shell)
    assert pio.renderers.default == WITH_HTML_FALLBACK
    shell.run_line_magic("unload_ext", "lmbench")
    assert pio.renderers.default == KERNEL_DEFAULT
    shell.run_line_magic("load_ext", "lmbench")  # as the shell fixture expects to find it


@pytest.mark.usefixtures("kernel_renderer")
def test_a_renderer_the_user_chose_is_kept(shell: Any) -> None:
    pio.renderers.default = "json"
    _reload(shell)
    assert pio.renderers.default == "json"


@pytest.mark.usefixtures("kernel_renderer")
def test_plotly_renderer_variable_is_respected(shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLOTLY_RENDERER", KERNEL_DEFAULT)
    _reload(shell)
    assert pio.renderers.default == KERNEL_DEFAULT


@pytest.mark.usefixtures("kernel_renderer")
def test_the_first_chart_adds_the_fallback_without_load_ext(
    memory_history: MemoryCollector,
) -> None:
    lmbench.plot.tokens()
    assert pio.renderers.default == WITH_HTML_FALLBACK
