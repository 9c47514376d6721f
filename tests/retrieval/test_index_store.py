"""Saving and loading indexes: no pickle, memory mapping, damaged files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from lmbench.errors import ConfigError
from lmbench.retrieval import VectorIndex


def _index() -> VectorIndex:
    index = VectorIndex(8)
    data = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    index.add(
        data,
        ids=[f"d{i}" for i in range(50)],
        metadata=[{"n": i} for i in range(50)],
        texts=[f"text {i}" for i in range(50)],
    )
    return index


@pytest.mark.parametrize("mmap", [False, True])
def test_round_trip(tmp_path: Path, mmap: bool) -> None:
    index = _index()
    saved = index.save(tmp_path / "idx")
    assert saved.name == "idx.npz" and (tmp_path / "idx.json").exists()
    with zipfile.ZipFile(saved) as archive:
        assert archive.namelist() == ["vectors.npy"]
    loaded = VectorIndex.load(tmp_path / "idx", mmap=mmap)
    assert isinstance(loaded.vectors, np.memmap) is mmap
    query = index.vectors[7]
    assert loaded.search(query, k=3) == index.search(query, k=3)
    assert loaded.get("d3").metadata == {"n": 3}
    loaded.add(np.ones((1, 8), dtype=np.float32), ids=["new"])  # a mapped index copies first
    assert len(loaded) == 51
    assert len(VectorIndex.load(tmp_path / "idx.npz")) == 50  # the file on disk is unchanged


def test_missing_and_damaged_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no saved index"):
        VectorIndex.load(tmp_path / "nothing")
    _index().save(tmp_path / "idx")
    (tmp_path / "idx.npz").write_bytes(b"not a zip")
    with pytest.raises(ConfigError, match="damaged"):
        VectorIndex.load(tmp_path / "idx")
    _index().save(tmp_path / "a")
    other = VectorIndex(4)
    other.add(np.ones((2, 4), dtype=np.float32))
    other.save(tmp_path / "b")
    (tmp_path / "b.json").replace(tmp_path / "a.json")
    with pytest.raises(ConfigError, match="do not belong together"):
        VectorIndex.load(tmp_path / "a")


def test_ids_that_json_cannot_keep(tmp_path: Path) -> None:
    index = VectorIndex(2)
    index.add([[1, 0]], ids=[("tuple", 1)])
    with pytest.raises(ConfigError, match="str or int ids"):
        index.save(tmp_path / "x")
