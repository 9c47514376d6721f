"""Writes history entries from 8 threads, for the multi-process collector tests.

Usage: python writer.py (jsonl|sqlite) PATH TAG CALLS_PER_THREAD [MAX_BYTES]
"""

from __future__ import annotations

import sys
import threading

from lmbench.calls import lm_call, module_call
from lmbench.lm import LMRequest, Message, ScriptedLM
from lmbench.observe import JSONLCollector, SQLiteCollector
from lmbench.settings import configure

THREADS = 8


def main() -> None:
    kind, path, tag, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if kind == "jsonl":
        max_bytes = int(sys.argv[5]) if len(sys.argv) > 5 else None
        collector = JSONLCollector(path, max_bytes=max_bytes, backups=1000)
    else:
        collector = SQLiteCollector(path, timeout=30)
    configure(history=collector)
    lm = ScriptedLM(lambda request: "answer " + request.messages[-1].text * 3)

    def work(thread: int) -> None:
        for i in range(calls):
            request = LMRequest(messages=(Message("user", f"{tag}-{thread}-{i}"),))
            with module_call("Writer"), lm_call(lm, request) as call:
                call.run()

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    collector.close()


if __name__ == "__main__":
    main()
