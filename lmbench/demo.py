"""``python -m lmbench.demo``: the README's main job.

Executes ``notebooks/01-tour.ipynb`` headless on the embedded local model and writes the
executed copy to ``out/01-tour.ipynb`` (``--lab`` opens JupyterLab on it instead). Without the
notebook (an installed package, not a clone) it runs a typed Predict and prints the prediction.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOUR = ROOT / "notebooks" / "01-tour.ipynb"


def run_predict() -> None:
    import lmbench

    qa = lmbench.Predict("question -> answer: str, confidence: float")
    prediction = qa(question="What is the capital of France?")
    print(prediction)
    print(f"model: {prediction.lm_calls[0].lm.name}  tokens: {prediction.usage.total_tokens}")


def execute_tour(output: Path) -> Path:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(TOUR, as_version=4)
    NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(TOUR.parent)}},
    ).execute()
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lmbench.demo", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--lab", action="store_true", help="open JupyterLab on the tour notebook")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "01-tour.ipynb")
    args = parser.parse_args(argv)
    if not TOUR.exists():
        run_predict()
        return 0
    if args.lab:
        import subprocess

        return subprocess.call([sys.executable, "-m", "jupyterlab", str(TOUR)])
    written = execute_tour(args.out)
    print(f"executed {TOUR.relative_to(ROOT)} on the embedded local model -> {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
