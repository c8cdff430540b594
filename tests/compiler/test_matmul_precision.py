"""The matmul's K accumulation: each K tile's partial sum from zero, then added to the accumulator
(compiler/matmul.py, `systolic`). One running f32 over K = 131079 products drifted ~1e-5 of the
value (OpInfo's nn.functional.linear: 30.8 off float64 where eager is 3.5 off); the two-level sum
stays near 1e-6. Long K runs on the host JIT (the same kernel.mlir; Spike would take minutes)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from npusim import runlog

LONG_K = 131079  # OpInfo's large swept size, 16 x 8192 + 7
# Relative error vs float64 the two-level sum must stay below at LONG_K (positive operands, so the
# value grows with K): the running sum measured 1.0e-5 (mm, bmm) and 3.1e-6 (linear), the
# two-level sum 6.7e-7 to 1.1e-6.
MAX_RELATIVE_ERROR = 2.5e-6


def relative_error(fn, args, compiled) -> float:
    exact = fn(*[a.double() for a in args])
    return ((compiled(*args).double() - exact).abs().max() / exact.abs().max()).item()


CASES = {
    "mm": (torch.mm, lambda k: (torch.rand(3, k) + 0.5, torch.rand(k, 4) + 0.5)),
    "bmm": (torch.bmm, lambda k: (torch.rand(2, 3, k) + 0.5, torch.rand(2, k, 4) + 0.5)),
    "linear": (F.linear, lambda k: (torch.rand(k) + 0.5, torch.rand(4, k) + 0.5, torch.rand(4))),
}


@pytest.mark.parametrize("name", CASES)
def test_long_k_sum_stays_near_float64(npusim_env, name):
    fn, make = CASES[name]
    torch.manual_seed(0)
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    errors = {k: relative_error(fn, make(k), compiled) for k in (8193, LONG_K)}
    assert errors[LONG_K] < MAX_RELATIVE_ERROR, errors
    assert len(runlog.events("compile", npusim_env)) == 1  # one kernel for both K


@pytest.mark.spike
def test_k_tiles_partial_sums_on_spike(spike_env):
    """Several K tiles and a K tail on Spike (the partial of each tile added to the bias)."""
    x, w, b = torch.randn(5, 300), torch.randn(6, 300), torch.randn(6)
    compiled = torch.compile(F.linear, backend="npusim", dynamic=True)
    for k in (300, 259):
        args = (x[:, :k].contiguous(), w[:, :k].contiguous(), b)
        torch.testing.assert_close(compiled(*args), F.linear(*[a.double() for a in args]).float(),
                                   rtol=1e-5, atol=1e-4)
    assert [e["functional"] for e in runlog.events("launch", spike_env)] == ["spike"] * 2
