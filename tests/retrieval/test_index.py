"""VectorIndex: exact results against a brute-force reference, metrics, filters, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from lmbench.errors import ConfigError, InputError
from lmbench.retrieval import VectorIndex


def _data(n: int = 500, dim: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


@pytest.mark.parametrize("metric", ["cosine", "dot", "l2"])
def test_top_k_matches_brute_force(metric: str) -> None:
    data = _data()
    query = _data(1, seed=1)[0]
    index = VectorIndex(16, metric=metric)
    for start in range(0, 500, 37):  # incremental adds across growth steps
        index.add(data[start : start + 37])
    if metric == "cosine":
        normed = data / np.linalg.norm(data, axis=1, keepdims=True)
        reference = normed @ (query / np.linalg.norm(query))
    elif metric == "dot":
        reference = data @ query
    else:
        reference = -((data - query) ** 2).sum(axis=1)
    expected = np.argsort(-reference)[:10].tolist()
    hits = index.search(query, k=10)
    assert hits.ids == expected
    assert np.allclose(hits.scores, reference[expected], atol=1e-3)
    assert hits.scores == sorted(hits.scores, reverse=True)


def test_ids_metadata_texts_and_where() -> None:
    index = VectorIndex(2)
    index.add(
        [[1, 0], [0.9, 0.1], [0, 1]],
        ids=["a", "b", "c"],
        metadata=[{"lang": "en"}, {"lang": "fr"}, {"lang": "en"}],
        texts=["one", "two", "three"],
    )
    hits = index.search([1, 0], k=2)
    assert hits.ids == ["a", "b"]
    assert hits.passages == ["one", "two"]
    assert index.search([1, 0], k=2, where={"lang": "en"}).ids == ["a", "c"]
    assert index.search([1, 0], k=5, where={"lang": ["fr"]}).ids == ["b"]
    assert index.search([1, 0], k=5, where=lambda m: m.get("lang") == "de").ids == []
    assert index.get("c").text == "three"
    assert len(index.search([1, 0], k=50)) == 3


def test_filters_on_missing_keys_mixed_types_and_later_adds() -> None:
    index = VectorIndex(2)
    index.add([[1, 0], [1, 0.1]], metadata=[None, {"year": 2020}])
    index.add([[1, 0.2], [1, 0.3]], metadata=[{"year": "2020"}, {"year": 2021, "tag": "x"}])
    assert index.search([1, 0], k=9, where={"year": 2020}).ids == [1]
    assert index.search([1, 0], k=9, where={"year": [2021, "2020"]}).ids == [2, 3]
    assert index.search([1, 0], k=9, where={"tag": None}).ids == [1, 2]  # absent counts as None
    index.add([[1, 0.05]], metadata=[{"year": 2020}])  # columns follow new rows
    assert index.search([1, 0], k=9, where={"year": 2020}).ids == [4, 1]
    assert index.search([1, 0], k=9, where={"year": {"nested": 1}}).ids == []


def test_growth_keeps_earlier_rows() -> None:
    index = VectorIndex(4, metric="dot")
    data = _data(3000, 4)
    for row in range(0, 3000, 1000):
        index.add(data[row : row + 1000])
    assert len(index) == 3000
    assert np.array_equal(index.vectors, data)


def test_bad_input_is_named_and_adds_nothing() -> None:
    index = VectorIndex(3)
    index.add([[1, 2, 3]], ids=["x"])
    with pytest.raises(InputError, match="length 3"):
        index.add([[1, 2]])
    with pytest.raises(InputError, match="already in the index"):
        index.add([[1, 1, 1], [2, 2, 2]], ids=["y", "x"])
    with pytest.raises(InputError, match="2 ids for 1 vectors"):
        index.add([[1, 1, 1]], ids=["p", "q"])
    with pytest.raises(InputError, match="NaN"):
        index.add([[np.nan, 1, 1]])
    with pytest.raises(InputError, match="k is how many"):
        index.search([1, 1, 1], k=0)
    assert index.ids == ["x"]
    with pytest.raises(ConfigError, match="metric"):
        VectorIndex(3, metric="manhattan")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="dim"):
        VectorIndex(0)


def test_empty_index_and_faiss_request_without_faiss() -> None:
    assert VectorIndex(3).search([1, 0, 0]).ids == []
    try:
        import faiss  # noqa: F401
    except ImportError:
        index = VectorIndex(3, backend="faiss")
        index.add([[1, 0, 0]])
        with pytest.raises(ConfigError, match=r"lmbench\[faiss\]"):
            index.search([1, 0, 0])


def test_renders_in_notebooks() -> None:
    index = VectorIndex(2)
    index.add([[1, 0]], texts=["<b>x</b>"])
    hits = index.search([1, 0])
    html = hits._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "1.000" in html
    assert "vectors" in index._repr_html_()


def test_faiss_backend_agrees_with_numpy() -> None:
    pytest.importorskip("faiss")
    data = _data(2000, 32)
    queries = _data(10, 32, seed=5)
    exact, fast = VectorIndex(32, backend="numpy"), VectorIndex(32, backend="faiss")
    exact.add(data)
    fast.add(data[:1000])
    fast.search(queries[0])  # builds the graph; the next add grows it
    fast.add(data[1000:])
    found = sum(len(set(fast.search(q, k=5).ids) & set(exact.search(q, k=5).ids)) for q in queries)
    assert found >= 45  # approximate: at least 90% of the exact top 5
    top = fast.search(queries[0], k=1)
    assert top.scores[0] == pytest.approx(exact.search(queries[0], k=1).scores[0], abs=1e-4)
    assert fast.search(queries[0], k=3, where=lambda m: False).ids == []  # filters stay exact
