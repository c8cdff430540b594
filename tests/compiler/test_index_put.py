"""index_put / `x[idx] = v` (issue 12): an indirect scatter, values from Spike equal eager's
bit for bit (accumulate=True sums duplicates in eager's serial order), the same in-kernel bounds
check as the gathers, cycles from the trace (no store-once rejection of a data-dependent store)."""

from __future__ import annotations

import pytest
import torch

from npusim import cache, runlog

pytestmark = pytest.mark.spike


def compiled(fn):
    return torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)


def kernel_texts(log) -> list[str]:
    return [(cache.entry(e["kernel_hash"]).dir / "kernel.mlir").read_text() for e in runlog.events("compile", log)]


def index_put(accumulate):
    return lambda x, i, v: x.index_put((i,), v, accumulate=accumulate)


def setitem(x, i, v):
    x = x.clone()
    x[i] = v
    return x


def index_put_inplace(x, i, v):
    return x.index_put_((i,), v, accumulate=True) * 1


@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_is_an_npusim_scatter_equal_to_eager(spike_env, accumulate):
    fn = index_put(accumulate)
    run = compiled(fn)
    generator = torch.Generator().manual_seed(0)
    for n, m in ((7, 3), (11, 11), (2, 5), (257, 64)):
        x, v = torch.randn(n, 4, generator=generator), torch.randn(m, 4, generator=generator)
        if accumulate:  # duplicates: summed in order
            i = torch.randint(-n, n, (m,), generator=generator)
        else:  # distinct rows (eager leaves the winner of duplicates undefined)
            i = torch.randperm(n, generator=generator)[:m] if m <= n else torch.arange(m) % n
            if m > n:
                continue
        result = run(x, i, v)
        assert torch.equal(result, fn(x, i, v)), (n, m)
    texts = kernel_texts(spike_env)
    assert any(('mode = "scatter_add"' if accumulate else 'mode = "scatter"') in t for t in texts)
    launches = runlog.events("launch", spike_env)
    assert launches and all(e["cycles"] > 0 for e in launches)


def test_accumulate_duplicates_sum_in_eagers_order_and_low_precision(spike_env):
    """Every index the same: the sum of M rows, rounded per step like eager's `*dst += *src`."""
    fn = index_put(True)
    for dtype in (torch.float32, torch.float16, torch.bfloat16, torch.int32):
        torch._dynamo.reset()
        run = compiled(fn)
        for n, m in ((3, 257), (5, 9)):
            x = (torch.randn(n, 4) * 8).to(dtype)
            v = (torch.randn(m, 4) * 8).to(dtype)
            i = torch.full((m,), n - 1)
            assert torch.equal(run(x, i, v), fn(x, i, v)), (dtype, n, m)


def test_scatter_add_kernel_runs_on_one_core(spike_env):
    """Two cores adding into one element at once would race: the tile loop is not parallel."""
    run = compiled(index_put(True))
    x, v, i = torch.randn(9, 4), torch.randn(20000, 4), torch.randint(0, 9, (20000,))
    # at this size eager's CPU kernel sums in another order (it sorts the indices): float tolerance
    torch.testing.assert_close(run(x, i, v), index_put(True)(x, i, v), rtol=1e-5, atol=1e-4)
    scatter = [t for t in kernel_texts(spike_env) if "scatter_add" in t]
    assert scatter and 'parallel = true' not in scatter[0]


@pytest.mark.parametrize("fn", [setitem, index_put_inplace], ids=["setitem", "index_put_"])
def test_setitem_and_inplace_index_put(spike_env, fn):
    run = compiled(fn)
    for n in (5, 33):
        x, i = torch.randn(n, 3), torch.randperm(n)[:4]
        v = torch.randn(4, 3)
        assert torch.equal(run(x.clone(), i, v), fn(x.clone(), i, v))


@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_at_one_row_writes_that_row_in_order(spike_env, accumulate):
    """Regression (nightly index_put at N = 1): every index is 0, Inductor folds it away and the
    store wrote one row M times as a strided store, which the timing core's store-once check
    rejects. It is an element scatter in program order now: the last row (or the sum) wins."""
    fn = index_put(accumulate)
    x, v, i = torch.randn(1, 4), torch.randn(3, 4), torch.zeros(3, dtype=torch.int64)
    assert torch.equal(compiled(fn)(x, i, v), fn(x, i, v))
    assert all(e["cycles"] > 0 for e in runlog.events("launch", spike_env))


@pytest.mark.parametrize("mode", ["spike", "host"])
def test_index_put_out_of_range_is_an_index_error(npusim_env, monkeypatch, mode):
    """An index past the rows stops the kernel with KernelIndexError; nothing is written outside."""
    from simulator.functional.errors import KernelIndexError

    monkeypatch.setenv("NPUSIM_FUNCTIONAL", mode)
    fn = index_put(False)
    run = compiled(fn)
    x, v = torch.randn(6, 4), torch.randn(3, 4)
    assert torch.equal(run(x, torch.tensor([0, 5, 2]), v), fn(x, torch.tensor([0, 5, 2]), v))
    with pytest.raises(IndexError):
        fn(x, torch.tensor([1, 6, 2]), v)  # eager refuses it too
    with pytest.raises(KernelIndexError, match=r"index 6 is out of bounds .* size 6"):
        run(x, torch.tensor([1, 6, 2]), v)
    # regression: the report named the index after the wrap of negatives (-7 + 6 = -1); eager names -7
    with pytest.raises(KernelIndexError, match=r"index -7 is out of bounds .* size 6"):
        run(x, torch.tensor([-7, 0, 1]), v)


SCATTERS = {
    "scatter": (lambda x, i, v: x.scatter(1, i, v), True),
    "scatter_add": (lambda x, i, v: x.scatter_add(1, i, v), False),  # was Inductor's host ScatterFallback
    "scatter_reduce_sum": (lambda x, i, v: x.scatter_reduce(1, i, v, "sum"), False),
    "index_add": (lambda x, i, v: x.index_add(1, i[0], v), False),
    "index_copy": (lambda x, i, v: x.index_copy(1, i[0], v), True),
}


@pytest.mark.parametrize("op", sorted(SCATTERS))
def test_scatter_family_runs_on_npusim(spike_env, op):
    fn, distinct = SCATTERS[op]
    run = compiled(fn)
    generator = torch.Generator().manual_seed(1)
    for n in (7, 13):
        x, v = torch.randn(3, n, generator=generator), torch.randn(3, 5, generator=generator)
        if distinct:  # eager leaves the winner of duplicate indices undefined
            i = torch.stack([torch.randperm(n, generator=generator)[:5] for _ in range(3)])
        else:
            i = torch.randint(0, n, (3, 5), generator=generator)
        assert torch.equal(run(x, i, v), fn(x, i, v)), (op, n)
    assert any("scatter" in t for t in kernel_texts(spike_env))
