"""The notebooks in a real JupyterLab, driven by headless Chromium.

JupyterLab serves a temporary folder holding the tour (outputs cleared, so whatever renders
was rendered by this run) and a playground notebook. The test runs every cell from the Run
menu, then checks in the page's DOM that the prediction view, the playground widget and a
plotly chart rendered, and in the saved notebook that no cell raised. Screenshots go to
test-output/<test name>/.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

pytestmark = [pytest.mark.browser, pytest.mark.local_model, pytest.mark.slow]

RUN_TIMEOUT_MS = 600_000

PLAYGROUND_CELLS = [
    "%load_ext lmbench",
    "import lmbench\n\n"
    'lmbench.configure(lm="local/gemma-3-270m", temperature=0, max_tokens=40)\n'
    'lmbench.playground("sentence -> city")',
]

ALL_PROMPTS_NUMBERED = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
        .map(e => e.textContent.trim());
    return prompts.length > 0 && prompts.every(text => /^\\[\\d+\\]:?$/.test(text));
}"""


def _cleared_copy(source: Path, target: Path) -> None:
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(notebook, target)


def _playground_notebook(target: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in PLAYGROUND_CELLS]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, target)


def _errors_in(path: Path) -> list[str]:
    notebook = json.loads(path.read_text())
    return [
        f"{output.get('ename')}: {output.get('evalue')}"
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


def _run_all_cells(page: Any, url: str, name: str, shots: Path) -> None:
    """Open ``name`` alone, wait for its kernel, run every cell and wait until all have run."""
    from playwright.sync_api import TimeoutError

    page.goto(f"{url}/lab/tree/{name}?reset")
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=60_000)
    # The kernel is connected once the status bar reads "<kernel name> | Idle".
    page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for(timeout=60_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    try:
        page.wait_for_function(ALL_PROMPTS_NUMBERED, timeout=RUN_TIMEOUT_MS, polling=500)
    except TimeoutError:
        page.screenshot(path=str(shots / f"{Path(name).stem}-stuck.png"))
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_text_contents()
        pytest.fail(f"{name}: not every cell ran; prompts: {prompts}")


def _save(page: Any, root: Path, name: str) -> None:
    """Save from the browser and wait until the file on disk holds every cell's run."""
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        cells = json.loads((root / name).read_text())["cells"]
        if all(c.get("execution_count") for c in cells if c["cell_type"] == "code"):
            return
        time.sleep(0.25)
    pytest.fail(f"{name} was not saved with its outputs")


def test_tour_and_playground_render_in_jupyterlab(
    tmp_path: Path,
    lab: Callable[[Path], contextlib.AbstractContextManager[str]],
    browser_page: Any,
    screenshots: Path,
) -> None:
    page = browser_page
    root = tmp_path / "root"
    root.mkdir()
    _cleared_copy(NOTEBOOKS / "01-tour.ipynb", root / "01-tour.ipynb")
    _playground_notebook(root / "playground.ipynb")

    with lab(root) as url:
        outputs = page.locator(".jp-OutputArea-output")

        _run_all_cells(page, url, "01-tour.ipynb", screenshots)
        _save(page, root, "01-tour.ipynb")
        assert not _errors_in(root / "01-tour.ipynb")
        prediction = outputs.locator(".lmb", has=page.locator("h4", has_text="Prediction")).first
        prediction.wait_for()
        assert prediction.locator("table").count() > 0, "the prediction view shows no fields"
        prediction.screenshot(path=str(screenshots / "prediction.png"))
        # plotly's renderer marks the output area itself as the plot.
        chart = page.locator(".jp-OutputArea-output.js-plotly-plot").first
        chart.wait_for()
        assert chart.locator(".main-svg").count() > 0
        assert chart.locator(".trace").count() > 0, "the plotly chart has no data drawn"
        chart.screenshot(path=str(screenshots / "plotly-chart.png"))
        page.screenshot(path=str(screenshots / "01-tour.png"))

        _run_all_cells(page, url, "playground.ipynb", screenshots)
        _save(page, root, "playground.ipynb")
        assert not _errors_in(root / "playground.ipynb")
        widget = outputs.locator(".jupyter-widgets").first
        widget.wait_for()
        assert not any("Error displaying widget" in text for text in outputs.all_inner_texts())
        # A real round trip: type a question, press Run, and the kernel's answer renders inside.
        widget.locator("textarea").first.fill("We took the night train to Vienna.")
        widget.get_by_role("button", name="Run").click()
        answer = widget.locator(".lmb", has=page.locator("h4", has_text="Prediction")).first
        answer.wait_for(timeout=RUN_TIMEOUT_MS)
        assert answer.locator("table").count() > 0
        widget.screenshot(path=str(screenshots / "playground.png"))
        page.screenshot(path=str(screenshots / "playground-page.png"))
