"""Runs the example notebooks under nbval (``pytest notebooks --nbval-lax``).

Every notebook runs in a kernel of the Python that runs pytest (the project's environment),
whatever kernel the notebook's metadata names, and against an empty, throw-away disk cache, so
each run calls the models for real instead of replaying an earlier run's answers.

With ``--nbval-lax`` a cell only has to run without an error (or raise one, when tagged
``raises-exception``); the cells tagged ``nbval-check-output`` print results that do not vary
between runs (scripted replies, cache states) and must match their committed outputs too.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

_CACHE_VARIABLE = "LMBENCH_CACHE_DIR"
_cache_dir = tempfile.TemporaryDirectory(prefix="lmbench-nbval-cache-")


def pytest_configure(config: pytest.Config) -> None:
    if not getattr(config.option, "nbval_kernel_name", None):
        config.option.nbval_current_env = True


def pytest_unconfigure(config: pytest.Config) -> None:
    _cache_dir.cleanup()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """The kernel starts while the first cell is set up and copies the environment then."""
    before = os.environ.get(_CACHE_VARIABLE)
    os.environ[_CACHE_VARIABLE] = _cache_dir.name
    try:
        yield
    finally:
        if before is None:
            del os.environ[_CACHE_VARIABLE]
        else:
            os.environ[_CACHE_VARIABLE] = before
