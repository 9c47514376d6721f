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
