"""Progress of work over many items, outside a notebook: tqdm's text bar on stderr, ending on
the final counts; inside one (tests/notebook) it is the cell's status line."""

from __future__ import annotations

import sys

import pytest

from lmbench.progress import RunProgress, track


@pytest.fixture(autouse=True)
def as_a_script(monkeypatch: pytest.MonkeyPatch) -> None:
    ipython = sys.modules.get("IPython")
    if ipython is not None:  # a shell another test left behind: this is a script
        monkeypatch.setattr(ipython, "get_ipython", lambda: None)


def test_track_counts_every_item_and_ends_on_the_final_counts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert list(track(range(5), total=5, description="embedding", unit="batches")) == [
        0,
        1,
        2,
        3,
        4,
    ]
    err = capsys.readouterr().err
    assert "embedding" in err and "5/5" in err


def test_a_loop_left_early_counts_what_was_done(capsys: pytest.CaptureFixture[str]) -> None:
    for item in track(range(5), total=5, description="rows", unit="rows"):
        if item == 2:
            break
    assert "2/5" in capsys.readouterr().err


def test_errors_and_the_item_running_now_show_in_the_counts() -> None:
    bar = RunProgress(3, description="compare", unit="models", enabled=False)
    bar.working_on("fixed/ab")
    bar.advance(1, errors=1)
    assert not bar.showing
    assert bar.text.startswith("1/3 models · 1 error · ")
