"""Small inputs for what the OpInfo suite found (issue 17), kept as tests."""

from __future__ import annotations

import pytest
import torch

from npusim import runlog


@pytest.fixture
def traced_env(npusim_env, monkeypatch):
    """Host values, but the trace simulator on: these bugs were in the cycles path."""
    monkeypatch.setenv("NPUSIM_TRACE", "1")
    return npusim_env


def test_arange_with_a_negative_start_is_simulated(traced_env):
    """OpInfo's arange(-1, 2, 2): Dynamo makes the ints size args, and ks = -1 (the start) reached the
    trace simulator, which refused every negative size arg. Only extents must be non-negative."""
    bounds = [-1, 2, 2]  # read from a list, as OpInfo samples are: Dynamo keeps them symbolic

    def fn(x):
        return x + torch.arange(bounds[0], bounds[1], bounds[2], dtype=torch.float32)

    x = torch.randn(2)
    torch.testing.assert_close(torch.compile(fn, backend="npusim", dynamic=True)(x), fn(x))
    launches = runlog.events("launch", traced_env)
    assert launches and all(e.get("cycles") for e in launches), launches
