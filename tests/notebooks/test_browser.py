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
import re
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
        except ValueError:  # caught while the server writes the file: look again
            time.sleep(0.25)
            continue
        # (Shift+Enter on the last cell adds an empty one, which never runs)
        written = [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]
        if all(c.get("execution_count") for c in written):
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
    "%lmbench budget off\nimport pandas as pd\n\n"
    'trips = pd.DataFrame({"sentence": ["I flew to Oslo.", "We drove to Lyon."]})',
    '%%predict "sentence -> city" --over trips\n# every input comes from the frame',
    '%%predict "sentence -> city" --compare local/gemma-3-270m,nowhere/model\n'
    "sentence: I took the train to Rome.",
]
#: Cells of FEEDBACK_CELLS that fail, with what their card says.
FAILING = {2: "unknown provider", 4: "budget exceeded"}

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


STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
WIDGET_BARS = (
    ".jupyter-widgets, .widget-progress, .jp-OutputArea-output:has-text('Error displaying widget')"
)


def _check_one_error_view(cell: Any, marker: str) -> None:
    outputs = _outputs(cell)
    cards = outputs.locator(".lmb")
    assert cards.count() == 1, f"{cards.count()} error cards"
    assert marker in cards.first.inner_text()
    texts = [t.strip() for t in outputs.all_inner_texts()]
    assert sum(1 for t in texts if t) == 1, f"the error is shown more than once: {texts}"
    # no red stderr area (a strip, or the message again) under the card: the card is all
    assert cell.locator(STDERR).count() == 0, "a red error area is drawn under the card"
    assert outputs.count() == 1, f"{outputs.count()} outputs"


def _check_progress_summary(cell: Any, pattern: str) -> None:
    """The run's progress ended as one static summary line: no live line, no widget bar."""
    lines = _outputs(cell).locator(".lmb-status")
    assert lines.count() == 1, f"{lines.count()} progress lines"
    text = lines.first.inner_text()
    assert re.search(pattern, text), text
    assert cell.locator(WIDGET_BARS).count() == 0, "a widget progress bar was left behind"
    assert cell.locator(STDERR).count() == 0, "stderr output (a text progress bar?)"


#: (text, contrast ratio against the background behind it, large text?) of each element
#: ``selector`` finds in a card.
CONTRASTS = """(card, selector) => {
    const parse = (s) => { const n = s.match(/[\\d.]+/g).map(Number);
        return [n[0], n[1], n[2], n.length > 3 ? n[3] : 1]; };
    const lum = (c) => {
        const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    // the colour behind an element: translucent backgrounds blended over what lies below
    const behind = (el) => {
        if (!el) return [255, 255, 255];
        const [r, g, b, a] = parse(getComputedStyle(el).backgroundColor);
        if (a >= 1) return [r, g, b];
        const under = behind(el.parentElement);
        return [r * a + under[0] * (1 - a), g * a + under[1] * (1 - a), b * a + under[2] * (1 - a)];
    };
    return [...card.querySelectorAll(selector)].map((el) => {
        const style = getComputedStyle(el);
        const f = lum(parse(style.color)), b = lum(behind(el));
        const size = parseFloat(style.fontSize), weight = parseInt(style.fontWeight);
        const large = size >= 24 || (size >= 18.6 && weight >= 600);  // WCAG's large text
        return [el.textContent.slice(0, 20), (Math.max(f, b) + 0.05) / (Math.min(f, b) + 0.05),
                large];
    });
}"""


def _check_styled(card: Any) -> None:
    """The card kept its inline look: a border, padding, a tinted badge, table cells aligned
    left (JupyterLab right-aligns cells that do not say so) and values in one column."""
    look = card.evaluate(
        """(el) => {
            const s = getComputedStyle(el);
            const badge = el.querySelector('.lmb-badge');
            const cells = [...el.querySelectorAll('td, th')];
            const lefts = [...el.querySelectorAll('.lmb-value')].map(
                v => Math.round(v.firstChild ? (() => { const r = document.createRange();
                    r.selectNodeContents(v); return r.getBoundingClientRect().left; })() : 0));
            return {border: s.borderTopStyle, padding: s.paddingLeft,
                    badge: badge ? getComputedStyle(badge).backgroundColor : null,
                    unaligned: cells.filter(c => !['left', 'start'].includes(
                        getComputedStyle(c).textAlign)).map(c => c.textContent.slice(0, 30)),
                    valueLefts: [...new Set(lefts)]};
        }"""
    )
    assert look["border"] == "solid" and look["padding"] != "0px", look
    if look["badge"] is not None:
        assert look["badge"] not in ("rgba(0, 0, 0, 0)", "transparent"), look
    assert not look["unaligned"], f"table cells not aligned left: {look['unaligned']}"
    assert len(look["valueLefts"]) <= 1, f"field values start at different x: {look}"


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
    for name in ("01-tour.ipynb", "09-evaluate.ipynb"):  # executed and saved
        nbformat.write(nbformat.read(NOTEBOOKS / name, as_version=4), root / name)

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

            # --over and --compare: the same progress line, ending as a static summary
            _run_cell(page, 5)
            _wait_done(page, 5)
            cell = _run_cell(page, 6)
            _wait_done(page, 6)
            _check_progress_summary(cell, r"^✓ %%predict over trips · 2/2 rows · [\d.]+ s$")
            assert _outputs(cell).locator("table").count() == 1  # the frame of results
            cell.screenshot(path=str(screenshots / f"over-{tag}.png"))
            cell = _run_cell(page, 7)
            _wait_done(page, 7)
            _check_progress_summary(
                cell, r"^⚠ %%predict --compare · 2/2 models · 1 error · [\d.]+ s$"
            )
            comparison = _outputs(cell).locator(
                ".lmb", has=page.locator("h4", has_text="Comparison")
            )
            assert comparison.count() == 1
            _check_styled(comparison.first)
            cell.screenshot(path=str(screenshots / f"compare-{tag}.png"))
            page.screenshot(path=str(screenshots / f"feedback-{tag}.png"))

        # saved and reopened (untrusted): each failure is its card alone, readable as text
        # too, and still no red area under it
        _save(page, root, "feedback.ipynb")
        saved = json.loads((root / "feedback.ipynb").read_text())["cells"]
        for index, marker in FAILING.items():
            kept = saved[index]["outputs"]
            assert [o["output_type"] for o in kept] == ["display_data"], kept
            assert marker in "".join(kept[0]["data"]["text/plain"])
        _open(page, url, "feedback.ipynb")
        for theme, tag in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
            _theme(page, theme)
            for index, marker in FAILING.items():
                cell = _cell(page, index)
                _check_one_error_view(cell, marker)
                _check_styled(_outputs(cell).locator(".lmb").first)
                cell.screenshot(path=str(screenshots / f"reopened-error-{index}-{tag}.png"))
            _check_progress_summary(_cell(page, 6), r"^✓ %%predict over trips · 2/2 rows")

        # a saved notebook reopened: untrusted, so <style> blocks would be gone; inline styles stay
        _open(page, url, "01-tour.ipynb")
        for theme, tag in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
            _theme(page, theme)
            outputs = page.locator(".jp-OutputArea-output")
            cards = outputs.locator(".lmb", has=page.locator("h4", has_text="Prediction"))
            card = cards.first
            card.wait_for()
            for each in cards.all():  # one with two fields: their values start in one column
                _check_styled(each)
            assert not any("Error displaying widget" in t for t in outputs.all_inner_texts())
            card.screenshot(path=str(screenshots / f"reopened-prediction-{tag}.png"))
            page.screenshot(path=str(screenshots / f"reopened-tour-{tag}.png"), full_page=True)
            history = outputs.locator(".lmb", has=page.locator("h4", has_text="History")).first
            history.scroll_into_view_if_needed()
            history.screenshot(path=str(screenshots / f"reopened-history-{tag}.png"))
            chart = page.locator(".jp-OutputArea-output.js-plotly-plot").first
            chart.scroll_into_view_if_needed()
            chart.screenshot(path=str(screenshots / f"reopened-chart-{tag}.png"))

        # the evaluation notebook reopened: progress ended as summaries, no widget bar, no
        # stderr, and a chart that brings no white background into the dark theme
        _open(page, url, "09-evaluate.ipynb")
        _theme(page, "JupyterLab Dark")
        lines = page.locator(".jp-OutputArea-output .lmb-status")
        assert lines.count() >= 2
        assert all(t.startswith("✓ ") for t in lines.all_inner_texts()), lines.all_inner_texts()
        assert page.locator(WIDGET_BARS).count() == 0
        assert page.locator(STDERR).count() == 0, "stderr output in the evaluation notebook"
        chart = page.locator(".jp-OutputArea-output.js-plotly-plot").first
        chart.scroll_into_view_if_needed()
        background = chart.locator(".main-svg").first.evaluate(
            "(svg) => getComputedStyle(svg).backgroundColor"
        )
        assert background in ("rgba(0, 0, 0, 0)", "transparent"), background
        chart.screenshot(path=str(screenshots / "reopened-eval-chart-dark.png"))
        evaluation = page.locator(".jp-OutputArea-output .lmb:not(.lmb-status)").first
        evaluation.scroll_into_view_if_needed()
        _check_styled(evaluation)
        # scores and errors stay readable on the dark page (WCAG AA: a contrast of 4.5, 3 for
        # large text), in an untrusted notebook whose sanitizer dropped every var()
        contrasts = evaluation.evaluate(CONTRASTS, "b, span")
        low = [(text, ratio) for text, ratio, large in contrasts if ratio < (3 if large else 4.5)]
        assert contrasts and not low, low
        evaluation.screenshot(path=str(screenshots / "reopened-evaluation-dark.png"))
