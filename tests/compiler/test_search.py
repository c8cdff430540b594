"""searchsorted/bucketize as npusim kernels (issue 17d, compiler/search.py): the boundaries loaded
into a scratchpad once, a binary search per element; bit-exact against eager on Spike at two sizes
with one compile (ties, NaN past every boundary, right=True, int32 results, rows of 2-D boundaries)."""

from __future__ import annotations

import pytest
import torch

import compiler
from npusim import cache, runlog

pytestmark = pytest.mark.spike

SIZES = (7, 13)
EDGES = [-1.0, 0.0, 2.0, 7.0, 9.0, -5.0, float("nan"), 0.5]


def _check(env, fn, make_inputs):
    compiled = torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)
    compiled_at = []
    for size in SIZES:
        inputs = make_inputs(size)
        for got, want in zip(compiled(*inputs), fn(*inputs)):
            assert got.dtype == want.dtype and torch.equal(got, want), (size, got, want)
        compiled_at.append(len(runlog.events("compile", env)))
    assert compiled_at[0] == compiled_at[-1], "recompiled across the sizes"
    texts = [(cache.entry(e["kernel_hash"]).dir / "kernel.mlir").read_text() for e in runlog.events("compile", env)]
    assert any("scf.while" in t for t in texts)
    assert all(e.get("cycles") for e in runlog.events("launch", env))


def test_bucketize_ties_nan_right_and_int32(spike_env):
    boundaries = torch.tensor([-1.0, 0.0, 0.0, 0.5, 2.0, 2.0, 7.0])

    def fn(x, b):
        return (torch.bucketize(x, b), torch.bucketize(x, b, right=True),
                torch.bucketize(x, b, out_int32=True, right=True))

    def make(n):
        noise = torch.randn(n, generator=torch.Generator().manual_seed(n)) * 3
        return torch.cat([torch.tensor(EDGES), noise]), boundaries

    _check(spike_env, fn, make)


def test_searchsorted_swept_boundaries_and_rows(spike_env):
    """The boundary count is the swept size (1-D), and a batch of sorted rows (2-D: each value its row)."""
    def fn(b, v, rows, row_values):
        return torch.searchsorted(b, v), torch.searchsorted(rows, row_values, right=True)

    def make(n):
        generator = torch.Generator().manual_seed(n)
        return (torch.sort(torch.randn(n, generator=generator)).values, torch.cat([torch.tensor(EDGES), torch.randn(n, generator=generator)]),
                torch.sort(torch.randn(3, n, generator=generator)).values.round(decimals=1),
                torch.randn(3, 5, generator=generator).round(decimals=1))

    _check(spike_env, fn, make)


def test_bucketize_integers(spike_env):
    _check(spike_env, lambda x, b: (torch.bucketize(x, b),),
           lambda n: (torch.randint(-5, 5, (n,), generator=torch.Generator().manual_seed(n)), torch.tensor([-3, 0, 0, 2])))


def test_searchsorted_with_a_sorter_is_refused(npusim_env):
    b, v = torch.tensor([3.0, 1.0, 2.0]), torch.randn(6)
    with pytest.raises(Exception) as info:
        torch.compile(lambda b, v: torch.searchsorted(b, v, sorter=torch.argsort(b)), backend="npusim",
                      dynamic=True)(b, v)
    unsupported = compiler.find_unsupported(info.value)
    assert unsupported is not None and "searchsorted" in str(unsupported), info.value


def test_boundaries_longer_than_the_buffer_are_reported(npusim_env, monkeypatch):
    """More boundaries than the scratchpad buffer holds: KernelIndexError, as for a too-long sort row."""
    from compiler.sort import ROW_CAPACITY
    from simulator.functional.errors import KernelIndexError

    monkeypatch.setenv("NPUSIM_FUNCTIONAL", "host")
    run = torch.compile(lambda b, v: torch.searchsorted(b, v), backend="npusim", dynamic=True)
    values = torch.tensor([0.5, 3.0, -1.0])
    assert torch.equal(run(torch.arange(5.0), values), torch.searchsorted(torch.arange(5.0), values))
    with pytest.raises(KernelIndexError, match=f"out of bounds .* size {ROW_CAPACITY}"):
        run(torch.arange(ROW_CAPACITY + 3.0), values)
