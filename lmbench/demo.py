"""``python -m lmbench.demo``: the README's main job.

Executes ``notebooks/01-tour.ipynb`` headless on the embedded local model and writes the
executed copy to ``out/01-tour.ipynb`` (``--lab`` opens JupyterLab on the tour instead).
Without the notebook (an installed package, not a clone) it runs a typed Predict and prints
the prediction.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["execute_notebook", "main"]

ROOT = Path(__file__).resolve().parent.parent
TOUR = ROOT / "notebooks" / "01-tour.ipynb"
CELL_TIMEOUT_S = 900


def run_predict() -> None:
    import lmbench

    extract = lmbench.Predict(
        "sentence -> city, transport: Literal['plane', 'train', 'car', 'boat']"
    )
    prediction = extract(sentence="We took the night train to Vienna.", config={"temperature": 0})
    print(prediction)
    print(f"model: {prediction.lm_calls[0].lm.name}  tokens: {prediction.usage.total_tokens}")


def _first_line(cell: Any) -> str:
    lines = [line for line in cell.source.splitlines() if line.strip()]
    return lines[0][:70] if lines else "(empty)"


def execute_notebook(source: Path, output: Path) -> Path:
    """Run every cell of ``source`` in a fresh kernel of this Python; write the result.

    The executed notebook is written even when a cell fails, so the error can be read in it;
    the failure is then raised as nbclient's ``CellExecutionError``.
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(source, as_version=4)
    code_cells = sum(cell.cell_type == "code" for cell in notebook.cells)
    started: dict[str, float] = {}
    done = 0

    def on_start(cell: Any, cell_index: int) -> None:
        started["cell"] = time.perf_counter()

    def on_executed(cell: Any, cell_index: int, execute_reply: Any) -> None:
        nonlocal done
        done += 1
        seconds = time.perf_counter() - started.get("cell", time.perf_counter())
        print(f"  [{done:>2}/{code_cells}] {seconds:5.1f} s  {_first_line(cell)}", flush=True)

    sockets = tempfile.TemporaryDirectory(prefix="lmbench-kernel-")
    client = NotebookClient(
        notebook,
        config=_kernel_config(Path(sockets.name)),
        kernel_name="python3",  # the kernel of this Python: "python" in its spec means sys.executable
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(source.parent)}},
        on_cell_start=on_start,
        on_cell_executed=on_executed,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        client.execute()
    finally:
        nbformat.write(notebook, output)
        sockets.cleanup()
    return output


def _kernel_config(sockets: Path) -> Any:
    """Kernels talk over local IPC sockets in ``sockets`` where the system has them, rather
    than over the unencrypted TCP the kernel warns about."""
    from traitlets.config import Config

    config = Config()
    if os.name != "nt":
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(sockets / "kernel")
    return config


def open_lab(notebook: Path) -> int:
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={notebook.parent}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers often run as root; Jupyter refuses otherwise
    return subprocess.call([*command, str(notebook)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lmbench.demo",
        description="Execute the tour notebook on the embedded local model, or open JupyterLab.",
    )
    parser.add_argument("--lab", action="store_true", help="open JupyterLab on the tour notebook")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "out" / "01-tour.ipynb", help="executed notebook path"
    )
    args = parser.parse_args(argv)
    if not TOUR.exists():
        run_predict()
        return 0
    if args.lab:
        return open_lab(TOUR)
    from nbclient.exceptions import CellExecutionError

    print(f"executing {TOUR.relative_to(ROOT)} on the embedded local model (no key, no network)")
    began = time.perf_counter()
    try:
        written = execute_notebook(TOUR, args.out.resolve())
    except CellExecutionError as error:
        print(
            f"\na cell failed; the executed notebook is in {args.out}\n\n{error}", file=sys.stderr
        )
        return 1
    print(f"done in {time.perf_counter() - began:.0f} s; executed notebook: {written}")
    print("to work in the notebooks yourself:  ./run demo --lab")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
