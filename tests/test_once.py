"""``Once``: one value, made at first use by one thread, replaced under the same lock."""

from __future__ import annotations

import threading
import time

from lmbench.once import Once


def test_threads_asking_at_once_share_one_made_value() -> None:
    made: list[object] = []

    def make() -> object:
        time.sleep(0.05)  # long enough for every thread to arrive while it is being made
        value = object()
        made.append(value)
        return value

    holder: Once[object] = Once(make)
    start = threading.Barrier(8)
    seen: list[object] = []

    def ask() -> None:
        start.wait()
        seen.append(holder.get())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert seen == made * 8


def test_nothing_is_made_before_the_first_get() -> None:
    calls: list[int] = []
    holder = Once(lambda: calls.append(1) or "value")
    assert calls == []
    assert holder.get() == "value"
    assert holder.get() == "value"
    assert calls == [1]


def test_replace_hands_the_current_value_over_and_keeps_the_new_one() -> None:
    holder = Once(lambda: ["first"])
    first = holder.get()
    handed: list[object] = []

    def fresh(current: list[str] | None) -> list[str]:
        handed.append(current)
        return ["second"]

    assert holder.replace(fresh) == ["second"]
    assert handed == [first]
    assert holder.get() == ["second"]


def test_replace_before_any_get_sees_none() -> None:
    holder = Once(lambda: "never made")
    assert holder.replace(lambda current: f"replaced {current}") == "replaced None"
    assert holder.get() == "replaced None"
