"""``python -m lmbench.demo``: executing a notebook headless (the tour itself runs under nbval)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from lmbench.demo import execute_notebook


def _notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


def test_executes_every_cell_in_the_notebooks_folder_and_reports_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _notebook(tmp_path / "nb.ipynb", "import os\nprint(os.getcwd())", "6 * 7")
    output = tmp_path / "out" / "nb.ipynb"

    assert execute_notebook(source, output) == output

    cells = nbformat.read(output, as_version=4).cells
    assert cells[0].outputs[0]["text"].strip() == str(tmp_path)  # run beside the notebook
    assert cells[1].outputs[0]["data"]["text/plain"] == "42"
    progress = capsys.readouterr().out.splitlines()
    assert progress[0].lstrip().startswith("[ 1/2]") and progress[0].endswith("import os")
    assert progress[1].lstrip().startswith("[ 2/2]") and progress[1].endswith("6 * 7")


def test_a_failing_cell_raises_and_the_executed_notebook_is_still_written(tmp_path: Path) -> None:
    source = _notebook(tmp_path / "nb.ipynb", "1 / 0", "'never run'")
    output = tmp_path / "executed.ipynb"

    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        execute_notebook(source, output)

    cells = nbformat.read(output, as_version=4).cells
    assert cells[0].outputs[0]["ename"] == "ZeroDivisionError"
    assert cells[1].outputs == []


@pytest.mark.skipif(os.name == "nt", reason="IPC sockets are POSIX only; Windows kernels use TCP")
def test_the_kernel_talks_over_ipc_sockets_that_are_cleaned_up(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    source = _notebook(
        tmp_path / "nb.ipynb",
        "from ipykernel.kernelapp import IPKernelApp\nprint(IPKernelApp.instance().transport)",
    )
    output = execute_notebook(source, tmp_path / "executed.ipynb")

    assert nbformat.read(output, as_version=4).cells[0].outputs[0]["text"].strip() == "ipc"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["executed.ipynb", "nb.ipynb"]
    assert "without encryption" not in capfd.readouterr().err
