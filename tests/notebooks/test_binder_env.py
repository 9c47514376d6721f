"""The Binder environment, rebuilt from binder/ alone, runs the tour notebook.

Binder (repo2docker) installs ``binder/requirements.txt`` and then runs ``binder/postBuild``,
both from the repository's root. This test does the same in a fresh virtual environment (no
Docker here) and executes ``notebooks/01-tour.ipynb`` in it with nbclient. pip's own wheel
cache serves llama-cpp-python when an earlier install compiled it, so it is not rebuilt.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
TOUR = "notebooks/01-tour.ipynb"
# What Binder sees of the repository: the package, its metadata, binder/ and the notebooks.
COPIED = ["pyproject.toml", "README.md", "lmbench", "binder", "notebooks"]

pytestmark = pytest.mark.slow

EXECUTE = """
import sys
import nbformat
from nbclient import NotebookClient

source, target = sys.argv[1], sys.argv[2]
notebook = nbformat.read(source, as_version=4)
resources = {"metadata": {"path": "notebooks"}}
NotebookClient(notebook, timeout=900, kernel_name="python3", resources=resources).execute()
nbformat.write(notebook, target)
"""


def _package_index_reachable() -> bool:
    try:
        return httpx.head(
            "https://pypi.org/simple/pip/", timeout=10, follow_redirects=True
        ).is_success
    except httpx.HTTPError:
        return False


def _copy_repository(target: Path) -> None:
    target.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info")
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, target / name)


def _run(command: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(command)}\n".encode())
        out.flush()
        result = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        pytest.fail(f"`{' '.join(command)}` failed with exit code {result.returncode}:\n{tail}")


def test_binder_environment_runs_the_tour(tmp_path: Path) -> None:
    if not (REPO / "binder" / "postBuild").exists():
        pytest.skip("binder/postBuild not found")
    if not _package_index_reachable():
        pytest.skip("PyPI is not reachable: the Binder environment cannot be installed")
    repo = tmp_path / "repo"
    _copy_repository(repo)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CMAKE_ARGS"}
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        LMBENCH_CACHE_DIR=str(tmp_path / "lmbench-cache"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    log = tmp_path / "binder-build.log"

    _run(
        ["python", "-m", "pip", "install", "-r", "binder/requirements.txt"],
        cwd=repo,
        env=env,
        log=log,
    )
    _run(["bash", "binder/postBuild"], cwd=repo, env=env, log=log)

    probe = subprocess.run(
        ["python", "-c", "import lmbench, llama_cpp; print(lmbench.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert Path(probe.stdout.strip()).is_relative_to(repo), probe.stdout

    executed = tmp_path / "01-tour.executed.ipynb"
    _run(["python", "-c", EXECUTE, TOUR, str(executed)], cwd=repo, env=env, log=log)

    notebook = nbformat.read(executed, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    errors = [out for cell in code_cells for out in cell.outputs if out.output_type == "error"]
    assert not errors, errors
    assert all(cell.execution_count for cell in code_cells)
    html = [
        out for cell in code_cells for out in cell.outputs if "text/html" in out.get("data", {})
    ]
    assert any("Prediction" in out["data"]["text/html"] for out in html), "no rendered prediction"
