"""Retrieval speed: VectorIndex search and add at 100,000 x 384, the local embedder's
throughput, and a repeated text served from the cache.

Targets (2 cores): exact top-10 query under 10 ms; adding 100,000 vectors under 1 s; at least
300 short passages per second embedded (batched); a cached text far faster than a fresh one.
Each figure is the best of several runs.
Run: ``.venv/bin/python benchmarks/bench_retrieval.py`` (``--quick`` skips the embedder).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

from lmbench.retrieval import Embedder, VectorIndex

N, DIM = 100_000, 384


def best_of(work: Callable[[], object], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def bench_index() -> None:
    rng = np.random.default_rng(0)
    data = rng.standard_normal((N, DIM)).astype(np.float32)
    queries = rng.standard_normal((30, DIM)).astype(np.float32)

    def add_in_chunks() -> VectorIndex:
        index = VectorIndex(DIM)
        for start in range(0, N, 1000):
            index.add(data[start : start + 1000])
        return index

    add_s = best_of(add_in_chunks, 5)
    print(f"add {N:,} x {DIM} in chunks of 1,000: {add_s * 1e3:8.1f} ms   (target < 1000 ms)")
    index = add_in_chunks()
    search_s = min(best_of(lambda q=q: index.search(q, k=10), 3) for q in queries)
    print(f"exact top-10 search over {N:,}:          {search_s * 1e3:8.2f} ms   (target < 10 ms)")
    filtered = VectorIndex(DIM)
    filtered.add(data, metadata=[{"shard": i % 10} for i in range(N)])
    where_s = best_of(lambda: filtered.search(queries[0], k=10, where={"shard": 3}), 5)
    print(f"filtered search ({N:,}, 1 in 10 kept): {where_s * 1e3:8.2f} ms")
    with tempfile.TemporaryDirectory() as folder:
        save_s = best_of(lambda: index.save(f"{folder}/idx"), 3)
        load_s = best_of(lambda: VectorIndex.load(f"{folder}/idx", mmap=True), 3)
        print(f"save / load (mmap) {N:,}:            {save_s * 1e3:8.1f} / {load_s * 1e3:.1f} ms")


def bench_embedder() -> None:
    texts = [
        f"Passage {i}: notes on topic {i % 37}, with a few more words about item {i * 7 % 101}."
        for i in range(1200)
    ]
    embedder = Embedder(cache=False, show_progress=False)
    embedder.embed(texts[:32])  # load the model
    rates = []
    for run in range(3):
        batch = [f"{t} (run {run})" for t in texts[:400]]
        start = time.perf_counter()
        embedder.embed(batch)
        rates.append(len(batch) / (time.perf_counter() - start))
    print(f"local embedder, batched:                {max(rates):8.0f} passages/s (target >= 300)")
    cached = Embedder(show_progress=False)
    text = [f"A repeated text, embedded once and then read from the cache ({time.time()})."]
    fresh_s = best_of(lambda: cached.embed(text), 1)  # the first run reaches the model
    hit_s = best_of(lambda: cached.embed(text), 200)
    print(
        f"one text, then again from the cache:    {fresh_s * 1e3:8.2f} ms -> {hit_s * 1e6:.0f} us"
    )


if __name__ == "__main__":
    bench_index()
    if "--quick" not in sys.argv:
        bench_embedder()
