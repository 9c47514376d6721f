"""SandboxPool: a given sandbox is shared one call at a time; otherwise one per overlapping call."""

from __future__ import annotations

import copy

from lmbench.sandbox import Sandbox
from lmbench.sandbox.pool import SandboxPool


def test_a_given_sandbox_is_the_one_every_lease_gets(sandbox: Sandbox) -> None:
    pool = SandboxPool(sandbox)
    with pool.lease() as first:
        assert first is sandbox
    with pool.lease() as second:
        assert second is sandbox
    assert copy.deepcopy(pool).given is sandbox  # copies of a module share what they were given
    pool.close()
    assert sandbox.run("1").value == 1  # closing the pool leaves a given sandbox running


def test_overlapping_leases_get_sandboxes_of_their_own_kept_for_later(sandbox: Sandbox) -> None:
    pool = SandboxPool(timeout=5)
    try:
        with pool.lease() as outer, pool.lease() as inner:
            assert outer is not inner
            outer.run("mine = 'outer'")
            assert "NameError" in (inner.run("mine").error or "")
        with pool.lease() as again:
            assert again in (outer, inner)  # reused, not started anew
        assert copy.deepcopy(pool)._idle == []
    finally:
        pool.close()
    assert outer.pid is None and inner.pid is None


def test_modules_sharing_a_sandbox_take_turns_for_whole_calls(sandbox: Sandbox) -> None:
    """Two modules (two pools) given one sandbox: one call's runs never land between the
    other's, so neither sees the other's variables."""
    import threading
    import time

    pools = [SandboxPool(sandbox), SandboxPool(sandbox)]
    seen: dict[int, object] = {}

    def call(number: int) -> None:
        with pools[number].lease() as box:
            box.run(f"mine = {number}")
            time.sleep(0.3)  # the other call tries to run now
            seen[number] = box.run("mine").value

    threads = [threading.Thread(target=call, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert seen == {0: 0, 1: 1}
