"""Evaluation tests: each test gets its own memory history and cache folder."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # model_server, evaluate_helpers

from evaluate_helpers import WORKER_KEY

from lmbench.lm.cache import ResponseCache, reset_cache
from lmbench.observe import MemoryCollector
from lmbench.settings import configure


@pytest.fixture(autouse=True)
def collector() -> MemoryCollector:
    memory = MemoryCollector()
    configure(history=memory)
    return memory


@pytest.fixture(autouse=True)
def response_cache(tmp_path: Path) -> Iterator[ResponseCache]:
    cache = reset_cache(tmp_path / "cache")
    yield cache
    cache.close()


@pytest.fixture(scope="session")
def keyed_cluster() -> Iterator[object]:
    """A Dask client on a LocalCluster of 2 worker processes (one thread each) whose
    environment holds ``OPENAI_API_KEY``, as a real cluster's would."""
    distributed = pytest.importorskip("distributed", reason="needs lmbench[dask]")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"OPENAI_API_KEY": WORKER_KEY},
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield client


@pytest.fixture(autouse=True)
def as_a_script(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs here are a script's, not a notebook's: an IPython shell another test left behind
    must not turn the progress text on stderr into a notebook status line."""
    ipython = sys.modules.get("IPython")
    if ipython is not None:
        monkeypatch.setattr(ipython, "get_ipython", lambda: None)
