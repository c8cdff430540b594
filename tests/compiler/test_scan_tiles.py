"""Scans over a narrow last dim (issue 12): each row of a scan kernel is its own work item with its own
DMAs (the reduction row loop; 2-D tiles serve pointwise kernels only), so rows that share a DRAM
burst queue on one channel and the cycles can fall as the rows widen."""

from __future__ import annotations

import pytest
import torch

from npusim import runlog


def compiled(fn):
    return torch.compile(fn, backend="npusim", dynamic=True)


@pytest.mark.xfail(strict=True, reason="issue 12: scans keep one DMA per row (no 2-D tiles yet); "
                                       "remove this mark when they get them")
def test_cummax_cycles_do_not_fall_with_narrow_rows(spike_env, monkeypatch):
    """Regression (nightly cummax_last[f32-sweep-N], M = 3): N = 2 -> 283 cycles, N = 7 -> 281, 97 -> 283.
    Traced: 3 work items x (1 load + 2 stores), identical compute (114 vector cycles); at N = 2 the
    three 8-byte row loads share one 64-byte burst and queue on its channel, at N = 7 they spread."""
    monkeypatch.setenv("NPUSIM_CONFIG", "tpuv3-1core")
    run = compiled(lambda x: torch.cummax(x, -1))
    gen = torch.Generator().manual_seed(0)
    for n in (2, 7, 97):
        x = torch.randint(-5, 5, (3, n), generator=gen).float()
        values, indices = run(x)
        expected = torch.cummax(x, -1)
        assert torch.equal(values, expected.values) and torch.equal(indices, expected.indices)
    cycles = [e["cycles"] for e in runlog.events("launch", spike_env)]
    assert len(cycles) == 3, cycles  # one kernel, launched once per N
    assert cycles == sorted(cycles), cycles
