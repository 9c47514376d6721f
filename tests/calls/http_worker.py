"""Runs ``Parallel(8)`` over 30 questions against a loopback server, sharing the response
cache, a JSONL and an SQLite history with the other processes that run it at once.

Usage: python http_worker.py BASE_URL CACHE_DIR JSONL_PATH SQLITE_PATH TAG
Prints one JSON line: the answers (None for failed items) and the warnings seen.
"""

from __future__ import annotations

import json
import sys
import warnings

import lmbench
from lmbench.lm.cache import reset_cache
from lmbench.observe import CompositeCollector, JSONLCollector, SQLiteCollector

QUESTIONS = 30


def main() -> None:
    url, cache_dir, jsonl, sqlite, tag = sys.argv[1:6]
    reset_cache(cache_dir)
    history = CompositeCollector(JSONLCollector(jsonl), SQLiteCollector(sqlite, timeout=30))
    lm = lmbench.resolve_lm("openai-compatible/m", base_url=url, max_retries=0)
    qa = lmbench.Predict("question -> answer", lm=lm)
    items = [(qa, {"question": f"item-{i} from {tag}"}) for i in range(QUESTIONS)]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with lmbench.context(history=history):
            results = lmbench.Parallel(num_threads=8, max_errors=QUESTIONS)(items)
        history.close()
    answers = [None if r is None else r.answer for r in results]
    print(json.dumps({"answers": answers, "warnings": [str(w.message) for w in seen]}))


if __name__ == "__main__":
    main()
