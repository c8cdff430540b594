"""A bounds check of an index that is affine in the loop symbols (GPT-2's position embedding,
`p[torch.arange(n)]`: Inductor folds the index tensor into the loop variable and still asks for
the check, since n may exceed p's rows). It was refused ("a bounds check of x1, which is not an
indirect index"); the kernel now checks the index's extremes once on entry and runs nothing when
one is out of range, so no out-of-range address is ever formed, on Spike or on the host."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from npusim import runlog

pytestmark = pytest.mark.spike


def position_index(ids, w, p):
    return w[ids] + p[torch.arange(ids.shape[-1])]


def position_embedding(ids, w, p):
    return F.embedding(ids, w) + F.embedding(torch.arange(ids.shape[-1]), p)


def strided_rows(x, p):
    return x + p[torch.arange(x.shape[0]) * 2 + 1]  # rows 1, 3, 5, ...: max 2n - 1


def inputs(n, rows=64):
    generator = torch.Generator().manual_seed(n)
    return (torch.randint(0, 50, (2, n), generator=generator), torch.randn(50, 8, generator=generator),
            torch.randn(rows, 8, generator=generator))


@pytest.mark.parametrize("fn", [position_index, position_embedding], ids=lambda f: f.__name__)
def test_position_rows_equal_eager_with_one_compile(spike_env, fn):
    run = torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)
    for n in (5, 17, 64):  # 64: the last row of p
        args = inputs(n)
        assert torch.equal(run(*args), fn(*args)), n
    compiles = runlog.events("compile", spike_env)
    assert len({e["kernel_hash"] for e in compiles}) == len(compiles) == 1
    launches = runlog.events("launch", spike_env)
    assert len(launches) == 3 and all(e["cycles"] > 0 for e in launches)


@pytest.mark.parametrize("mode", ["spike", "host"])
def test_position_past_the_table_is_an_index_error(npusim_env, monkeypatch, mode):
    from simulator.functional.errors import KernelIndexError

    monkeypatch.setenv("NPUSIM_FUNCTIONAL", mode)
    run = torch.compile(position_index, backend="npusim", dynamic=True, fullgraph=True)
    assert torch.equal(run(*inputs(7)), position_index(*inputs(7)))
    with pytest.raises(IndexError):
        position_index(*inputs(65))  # eager refuses it too
    with pytest.raises(KernelIndexError, match=r"index 64 is out of bounds .* size 64"):
        run(*inputs(65))


def test_strided_affine_index_checks_its_largest_row(npusim_env, monkeypatch):
    monkeypatch.setenv("NPUSIM_FUNCTIONAL", "spike")
    from simulator.functional.errors import KernelIndexError

    run = torch.compile(strided_rows, backend="npusim", dynamic=True, fullgraph=True)
    p = torch.randn(20, 3)
    for n in (3, 10):  # largest row 19: in range
        x = torch.randn(n, 3)
        assert torch.equal(run(x, p), strided_rows(x, p)), n
    with pytest.raises(KernelIndexError, match=r"index 21 is out of bounds .* size 20"):
        run(torch.randn(11, 3), p)
