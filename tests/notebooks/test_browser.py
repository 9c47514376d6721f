"""The notebooks in a real JupyterLab, driven by headless Chromium.

JupyterLab serves a temporary folder holding the tour (outputs cleared, so whatever renders
was rendered by this run) and a playground notebook. The first test runs every cell from the
Run menu, then checks in the page's DOM that the prediction view, the playground widget and a
plotly chart rendered, and in the saved notebook that no cell raised. The second runs cells
one by one in the light and the dark theme: a call's live status line, a failing cell (one
error view), a budget error whose dollar amounts MathJax must leave alone; then it reopens a
saved, untrusted notebook and checks that its outputs kept their look. Screenshots go to
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


def _notebook(target: Path, sources: list[str]) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
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


def _open(page: Any, url: str, name: str) -> None:
    """Open ``name`` alone and wait for its kernel."""
    page.goto(f"{url}/lab/tree/{name}?reset")
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=60_000)
    # The kernel is connected once the status bar reads "<kernel name> | Idle".
    page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for(timeout=60_000)


def _run_all_cells(page: Any, url: str, name: str, shots: Path) -> None:
    """Open ``name`` alone, wait for its kernel, run every cell and wait until all have run."""
    from playwright.sync_api import TimeoutError

    _open(page, url, name)
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
        try:
            cells = json.loads((root / name).read_text())["cells"]
        except ValueError:  # caught while the server writes the file
            cells = [{"cell_type": "code"}]
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
    _notebook(root / "playground.ipynb", PLAYGROUND_CELLS)

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
        # the history browser: one aligned row per call, with its inputs
        listing = page.locator(".lmb-history-list select").first
        listing.wait_for()
        # ipywidgets writes the spaces of option labels as no-break spaces
        rows = [r.replace("\xa0", " ") for r in listing.locator("option").all_text_contents()]
        assert rows and all("[[ ##" not in row for row in rows)
        assert any("sentence: Last summer I flew to Tokyo" in row for row in rows)
        browser_widget = page.locator(".jp-OutputArea-output", has=listing).first
        browser_widget.screenshot(path=str(screenshots / "history-browser.png"))

        _run_all_cells(page, url, "playground.ipynb", screenshots)
        _save(page, root, "playground.ipynb")
        assert not _errors_in(root / "playground.ipynb")
        widget = outputs.locator(".jupyter-widgets").first
        widget.wait_for()
        assert not any("Error displaying widget" in text for text in outputs.all_inner_texts())
        # A real round trip: type a question, press Run, and the kernel's answer renders inside.
        widget.locator("textarea").first.fill("We took the night train to Vienna.")
        widget.get_by_role("button", name="Run").click()
        # while the call runs: the button is disabled and the status line says what happens
        running = widget.locator(".lmb-status").first
        running.wait_for(timeout=60_000)
        assert "local/gemma-3-270m" in running.inner_text()
        assert widget.get_by_role("button", name="Run").is_disabled()
        widget.screenshot(path=str(screenshots / "playground-running.png"))
        answer = widget.locator(".lmb", has=page.locator("h4", has_text="Prediction")).first
        answer.wait_for(timeout=RUN_TIMEOUT_MS)
        assert answer.locator("table").count() > 0
        widget.screenshot(path=str(screenshots / "playground.png"))
        page.screenshot(path=str(screenshots / "playground-page.png"))


FEEDBACK_CELLS = [
    "%load_ext lmbench\nimport lmbench\n\n"
    'lmbench.configure(lm="local/gemma-3-270m", temperature=0, max_tokens=32)',
    '%%predict "sentence -> city" --no-cache\nsentence: Last summer I flew to Tokyo to see my sister.',
    '%%predict "question -> answer" -m nowhere/model\nquestion: Will this run?',
    "%lmbench budget 0.000001",
    '%%predict "question -> answer" -m openai/gpt-4o\nquestion: What is 2+2?',
]

CELL_DONE = """(index) => {
    const cell = document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell')[index];
    const prompt = cell && cell.querySelector('.jp-InputPrompt');
    return !!prompt && /^\\[\\d+\\]:?$/.test(prompt.textContent.trim());
}"""


def _theme(page: Any, theme: str) -> None:
    """Switch JupyterLab's theme and wait until the page uses it."""
    page.evaluate(
        "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme
    )
    light = "true" if theme == "JupyterLab Light" else "false"
    page.wait_for_function(
        f"() => document.body.dataset.jpThemeLight === '{light}'", timeout=30_000
    )
    page.wait_for_timeout(500)


def _cell(page: Any, index: int) -> Any:
    return page.locator(".jp-NotebookPanel .jp-CodeCell").nth(index)


def _run_cell(page: Any, index: int) -> Any:
    """Select code cell ``index`` and run it (Shift+Enter); the cell's locator."""
    cell = _cell(page, index)
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")
    return cell


def _wait_done(page: Any, index: int) -> None:
    page.wait_for_function(CELL_DONE, arg=index, timeout=RUN_TIMEOUT_MS, polling=500)


def _outputs(cell: Any) -> Any:
    return cell.locator(".jp-OutputArea-output")


def _check_one_error_view(cell: Any, marker: str) -> None:
    outputs = _outputs(cell)
    cards = outputs.locator(".lmb")
    assert cards.count() == 1, f"{cards.count()} error cards"
    assert marker in cards.first.inner_text()
    texts = [t.strip() for t in outputs.all_inner_texts()]
    assert sum(1 for t in texts if t) == 1, f"the error is shown more than once: {texts}"


def _check_styled(card: Any) -> None:
    """The card kept its inline look: a border, padding, and a tinted badge."""
    look = card.evaluate(
        """(el) => {
            const s = getComputedStyle(el);
            const badge = el.querySelector('.lmb-badge');
            return {border: s.borderTopStyle, padding: s.paddingLeft,
                    badge: badge ? getComputedStyle(badge).backgroundColor : null};
        }"""
    )
    assert look["border"] == "solid" and look["padding"] != "0px", look
    if look["badge"] is not None:
        assert look["badge"] not in ("rgba(0, 0, 0, 0)", "transparent"), look


def test_status_errors_budget_and_reopened_outputs_in_both_themes(
    tmp_path: Path,
    lab: Callable[[Path], contextlib.AbstractContextManager[str]],
    browser_page: Any,
    screenshots: Path,
) -> None:
    page = browser_page
    root = tmp_path / "root"
    root.mkdir()
    _notebook(root / "feedback.ipynb", FEEDBACK_CELLS)
    tour = nbformat.read(NOTEBOOKS / "01-tour.ipynb", as_version=4)  # executed and saved
    nbformat.write(tour, root / "01-tour.ipynb")

    with lab(root) as url:
        _open(page, url, "feedback.ipynb")
        for theme, tag in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
            _theme(page, theme)
            _run_cell(page, 0)
            _wait_done(page, 0)

            # a call shows its live status line at once, and the prediction replaces it
            cell = _run_cell(page, 1)
            status = _outputs(cell).locator(".lmb-status")
            status.wait_for(timeout=30_000)
            assert "local/gemma-3-270m" in status.inner_text()
            page.wait_for_function(
                "(i) => /\\d+ s/.test(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell')[i]"
                ".querySelector('.lmb-status')?.textContent || '')",
                arg=1,
                timeout=30_000,
            )
            cell.screenshot(path=str(screenshots / f"status-line-{tag}.png"))
            _wait_done(page, 1)
            prediction = _outputs(cell).locator(
                ".lmb", has=page.locator("h4", has_text="Prediction")
            )
            prediction.wait_for()
            assert _outputs(cell).locator(".lmb-status").count() == 0, "the status line stayed"
            assert _outputs(cell).count() == 1
            _check_styled(prediction)
            cell.screenshot(path=str(screenshots / f"prediction-{tag}.png"))

            # a failing cell: one card, no red copy of it
            cell = _run_cell(page, 2)
            _wait_done(page, 2)
            _check_one_error_view(cell, "unknown provider")
            cell.screenshot(path=str(screenshots / f"failing-cell-{tag}.png"))

            # a budget error: the dollar amounts stay text, never MathJax
            _run_cell(page, 3)
            _wait_done(page, 3)
            cell = _run_cell(page, 4)
            _wait_done(page, 4)
            _check_one_error_view(cell, "budget exceeded")
            page.wait_for_timeout(1500)  # MathJax typesets asynchronously
            card = _outputs(cell).locator(".lmb").first
            assert card.locator("mjx-container, .MathJax").count() == 0, (
                "MathJax typeset the amounts"
            )
            assert "$0.00" in card.inner_text()
            cell.screenshot(path=str(screenshots / f"budget-error-{tag}.png"))
            page.screenshot(path=str(screenshots / f"feedback-{tag}.png"))

        # a saved notebook reopened: untrusted, so <style> blocks would be gone; inline styles stay
        _open(page, url, "01-tour.ipynb")
        for theme, tag in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
            _theme(page, theme)
            outputs = page.locator(".jp-OutputArea-output")
            card = outputs.locator(".lmb", has=page.locator("h4", has_text="Prediction")).first
            card.wait_for()
            _check_styled(card)
            assert not any("Error displaying widget" in t for t in outputs.all_inner_texts())
            card.screenshot(path=str(screenshots / f"reopened-prediction-{tag}.png"))
            page.screenshot(path=str(screenshots / f"reopened-tour-{tag}.png"), full_page=True)
            history = outputs.locator(".lmb", has=page.locator("h4", has_text="History")).first
            history.scroll_into_view_if_needed()
            history.screenshot(path=str(screenshots / f"reopened-history-{tag}.png"))
            chart = page.locator(".jp-OutputArea-output.js-plotly-plot").first
            chart.scroll_into_view_if_needed()
            chart.screenshot(path=str(screenshots / f"reopened-chart-{tag}.png"))
