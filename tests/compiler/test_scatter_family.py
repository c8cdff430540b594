"""The scatter-accumulate family (issue 17d, compiler/scatter.py): values from Spike against eager
at two sizes with one compile. Duplicate indices combine in eager's serial order: prod, amax,
amin (NaN included) and integer means are exact; float sums and means within rounding."""

from __future__ import annotations

import pytest
import torch

from npusim import cache, runlog

pytestmark = pytest.mark.spike

SIZES = (7, 13)
REDUCES = ("prod", "amax", "amin", "mean")


def _check(env, fn, make_inputs, exact=True, dma_mode="scatter_add"):
    compiled = torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)
    before = len(runlog.events("compile", env))
    compiled_at = []
    for size in SIZES:
        inputs = make_inputs(size)
        for k, (got, want) in enumerate(zip(compiled(*inputs), fn(*inputs))):
            if exact:
                assert torch.equal(got.nan_to_num(), want.nan_to_num()) and torch.equal(got.isnan(), want.isnan()), \
                    (size, k, got, want)
            else:
                torch.testing.assert_close(got, want, rtol=1.3e-6, atol=1e-5, msg=lambda m: f"N={size}, output {k}: {m}")
        compiled_at.append(len(runlog.events("compile", env)))
    compiles = runlog.events("compile", env)[before:]
    assert compiles and compiled_at[0] == compiled_at[-1], "recompiled across the sizes"
    texts = [(cache.entry(e["kernel_hash"]).dir / "kernel.mlir").read_text() for e in compiles]
    assert any(f'mode = "{dma_mode}"' in t for t in texts), f"no {dma_mode} DMA in the kernels"
    launches = runlog.events("launch", env)
    assert launches and all(e.get("cycles") for e in launches)


def _inputs(dtype, with_nan=False):
    def make(n):
        generator = torch.Generator().manual_seed(n)
        x = (torch.randn(3, n, generator=generator) * 4).to(dtype)
        src = (torch.randn(3, 6, generator=generator) * 4).to(dtype)
        index = torch.randint(0, n, (3, 6), generator=generator)
        index[:, 1] = index[:, 0]  # duplicates in every row
        if with_nan:
            src[0, 0] = float("nan")
        return x, index, src
    return make


def _scatter_reduces(x, index, src):
    return tuple(x.scatter_reduce(1, index, src, reduce, include_self=include_self)
                 for reduce in REDUCES for include_self in (True, False))


def test_scatter_reduce_float(spike_env):
    """prod/amax/amin exact (a NaN in src propagates), mean within rounding; include_self both ways."""
    def exact_part(x, index, src):
        return _scatter_reduces(x, index, src)[:6]

    _check(spike_env, exact_part, _inputs(torch.float32, with_nan=True))
    _check(spike_env, lambda x, index, src: _scatter_reduces(x, index, src)[6:], _inputs(torch.float32), exact=False)


def test_scatter_reduce_int64_and_means(spike_env):
    """int64: every reduction exact (mean floor-divides; Inductor's int64 sum went to ATen)."""
    def with_sum(x, index, src):
        return _scatter_reduces(x, index, src) + (x.scatter_add(1, index, src),)

    _check(spike_env, with_sum, _inputs(torch.int64))


def test_index_reduce(spike_env):
    """index_reduce along dim 1 with a repeated index: scatter_reduce of the broadcast index."""
    def index_reduces(x, index, src):
        return tuple(x.index_reduce(1, index[0], src, reduce, include_self=include_self)
                     for reduce in REDUCES for include_self in (True, False))

    _check(spike_env, index_reduces, _inputs(torch.float32), exact=False)


def test_masked_scatter_and_index_put_by_mask(spike_env):
    """masked_scatter (a cumsum of the mask, a gather of the source); x[mask] = row, x[mask] += rows."""
    def fn(x, mask, source, row):
        return (x.masked_scatter(mask[:, None].expand_as(x), source), x.index_put((mask,), row),
                x.index_put((mask,), row, accumulate=True))

    def make(n):
        generator = torch.Generator().manual_seed(n)
        mask = torch.rand(n, generator=generator) > 0.5
        return (torch.randn(n, 4, generator=generator), mask, torch.randn(4 * n + 1, generator=generator),
                torch.randn(4, generator=generator))

    _check(spike_env, fn, make, dma_mode="gather")


def test_masked_scatter_short_source_is_an_index_error(spike_env):
    """Fewer source elements than the mask selects: eager raises; so does the kernel's gather check."""
    from simulator.functional.errors import KernelIndexError

    run = torch.compile(lambda x, m, s: x.masked_scatter(m, s), backend="npusim", dynamic=True)
    x, mask = torch.zeros(8), torch.ones(8, dtype=torch.bool)
    assert torch.equal(run(x, mask, torch.arange(8.0)), torch.arange(8.0))
    with pytest.raises(RuntimeError):
        x.masked_scatter(mask, torch.arange(5.0))
    with pytest.raises(KernelIndexError, match="out of bounds"):
        run(x, mask, torch.arange(5.0))


def test_index_add_bf16(spike_env):
    """bf16 index_add (Inductor leaves it to ATen): serial adds in float, one rounding each."""
    fn = lambda x, i, v: (x.index_add(0, i, v),)  # noqa: E731

    def make(n):
        generator = torch.Generator().manual_seed(n)
        return (torch.randn(n, 4, generator=generator).bfloat16(), torch.randint(0, n, (9,), generator=generator),
                torch.randn(9, 4, generator=generator).bfloat16())

    compiled = torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)
    for n in SIZES:
        inputs = make(n)
        torch.testing.assert_close(compiled(*inputs)[0], fn(*inputs)[0], rtol=1.6e-2, atol=1e-2)

