"""Scans and row reductions over a narrow last dim in 2-D tiles (issue 12, compiler/tiles2d.py
`plan_rows`): a tile holds R rows x C columns of r, so narrow rows share one DMA per operand
instead of one work item, with its own DMAs, per row. Values on Spike, cycles from the trace
simulator, one compile across the sizes."""

from __future__ import annotations

import math

import pytest
import torch

from npusim import cache, runlog
from simulator import trace
from simulator.trace.skeleton import build_skeleton
from tests.compiler.test_layout_dims import element_transfers, kernels


def compiled(fn):
    return torch.compile(fn, backend="npusim", dynamic=True)


def launches(log) -> list[dict]:
    return runlog.events("launch", log)


def test_cummax_cycles_do_not_fall_with_narrow_rows(spike_env, monkeypatch):
    """Regression (nightly cummax_last[f32-sweep-N], M = 3): N = 2 -> 283 cycles, N = 7 -> 281, 97 -> 283.
    Each row was a work item of its own (1 load + 2 stores); at N = 2 the three 8-byte row loads
    shared one 64-byte burst and queued on its channel, at N = 7 they spread. The 3 rows are now
    one tile: 140, 140, 148 cycles."""
    monkeypatch.setenv("NPUSIM_CONFIG", "tpuv3-1core")
    run = compiled(lambda x: torch.cummax(x, -1))
    gen = torch.Generator().manual_seed(0)
    for n in (2, 7, 97):
        x = torch.randint(-5, 5, (3, n), generator=gen).float()
        values, indices = run(x)
        expected = torch.cummax(x, -1)
        assert torch.equal(values, expected.values) and torch.equal(indices, expected.indices)
    cycles = [e["cycles"] for e in launches(spike_env)]
    assert len(cycles) == 3, cycles  # one kernel, launched once per N
    assert cycles == sorted(cycles), cycles


def dma_events(launch: dict) -> dict:
    """The trace simulator's event counts of one launch (the same kernel, re-simulated)."""
    kernel_dir = cache.entry(launch["kernel_hash"]).dir
    return trace.simulate(kernel_dir, None, launch["shape_args"], launch["config"]).stats["events"]


def test_narrow_scan_moves_one_load_per_tile(spike_env, monkeypatch):
    """1025 rows of 2: one work item, one load and two stores (values, indices) per tile of rows,
    not per row (3075 DMAs in 1025 work items before)."""
    monkeypatch.setenv("NPUSIM_CONFIG", "tpuv3-1core")
    run = compiled(lambda x: torch.cummax(x, -1))
    x = torch.randint(-5, 5, (1025, 2), generator=torch.Generator().manual_seed(1)).float()
    values, indices = run(x)
    expected = torch.cummax(x, -1)
    assert torch.equal(values, expected.values) and torch.equal(indices, expected.indices)
    (launch,) = launches(spike_env)
    events = dma_events(launch)
    assert events["work_items"] <= math.ceil(1025 / 64), events
    assert events["dma"] == 3 * events["work_items"], events
    assert element_transfers(spike_env) == 0


SCANS = {
    "cummax": (lambda x: torch.cummax(x, -1), "int"),
    "cummin": (lambda x: torch.cummin(x, -1), "int"),
    "cumsum": (lambda x: torch.cumsum(x, -1), "float"),
    "cumprod": (lambda x: torch.cumprod(x, -1), "unit"),
}
# narrow rows, a prime, and (2, 8193) past the column tile (two column tiles carrying the running
# value): one kernel; then M = 1 or N = 1, specialised kernels (CONTRACTS.md section 7)
SHAPES = [(3, 2), (3, 7), (1025, 7), (3, 97), (1025, 131), (2, 8193)]
SPECIALISED = [(1, 1), (3, 1), (1025, 1), (1, 7), (1, 131)]


def scan_input(shape, kind, gen):
    if kind == "int":  # ties: the last index of equal extremes, as eager
        return torch.randint(-5, 5, shape, generator=gen).float()
    if kind == "unit":  # products that stay finite over 8193 elements
        return 1 + (torch.rand(shape, generator=gen) - 0.5) / 64
    return torch.randn(shape, generator=gen)


@pytest.mark.parametrize("name", list(SCANS))
def test_scan_values_equal_eager_on_spike(spike_env, name):
    """Bit-exact against eager at narrow, prime and wide rows, with tails in both dims."""
    fn, kind = SCANS[name]
    run = compiled(fn)
    gen = torch.Generator().manual_seed(2)
    for shape in SHAPES + SPECIALISED:
        x = scan_input(shape, kind, gen)
        got, expected = run(x), fn(x)
        for g, e in zip(*(r if isinstance(r, tuple) else (r,) for r in (got, expected))):
            assert torch.equal(g, e), (name, shape)
        if shape == SHAPES[0]:
            first_compiles = len(runlog.events("compile", spike_env))
        if shape == SHAPES[-1]:
            assert len(runlog.events("compile", spike_env)) == first_compiles, "one compile across the sizes"
            assert len(launches(spike_env)) == len(SHAPES), "every size launched the kernel"


def test_logcumsumexp_within_tolerance_on_spike(spike_env):
    fn = lambda x: torch.logcumsumexp(x, -1)  # noqa: E731
    run = compiled(fn)
    gen = torch.Generator().manual_seed(3)
    for shape in [(3, 2), (5, 7), (1025, 131), (2, 8193)]:
        x = torch.randn(shape, generator=gen)
        torch.testing.assert_close(run(x), fn(x))


def pair_mean(x):
    return x.view(x.shape[0], -1, 2).mean(-1)


def test_static_pair_reduction_moves_rows_per_tile(spike_env, monkeypatch):
    """Regression (nightly mean_view_pairs[f32-M=3-N=8193]: 1,327,347 cycles, 2,343x its roofline):
    a mean over a static last dim of 2 ran one work item, with its own load and store, per output
    element. Rows of 2 now share a tile: one load and one store DMA per tile (573 cycles)."""
    monkeypatch.setenv("NPUSIM_CONFIG", "tpuv3-1core")
    run = compiled(pair_mean)
    gen = torch.Generator().manual_seed(4)
    for n in (2, 7, 97, 8193):
        x = torch.randn(3, 2 * n, generator=gen)
        torch.testing.assert_close(run(x), pair_mean(x))
    found = launches(spike_env)
    cycles = [e["cycles"] for e in found]
    assert cycles == sorted(cycles), cycles
    events = dma_events(found[-1])  # N = 8193: 3 x 8193 output elements
    assert events["work_items"] <= math.ceil(3 * 8193 / 64) and events["dma"] == 2 * events["work_items"], events
    assert cycles[-1] < 10_000, cycles  # ~1.33 M with one work item per output element


def test_scan_along_a_middle_dim_moves_contiguous_runs(spike_env, monkeypatch):
    """cumsum(x, 1) of [2, 100, 16]: the scan runs down columns 64 bytes apart. Its tile (16 rows
    of the contiguous dim x 100 columns of the scan) moves with the descriptor's dims swapped,
    100 contiguous 16-element runs per operand rather than 1,600 single elements: within 1.5x a
    scan along contiguous rows of the same bytes (982 cycles, one row per work item, before)."""
    monkeypatch.setenv("NPUSIM_CONFIG", "tpuv3-1core")
    gen = torch.Generator().manual_seed(5)
    for fn, shape in ((lambda x: torch.cumsum(x, 1), (2, 100, 16)), (lambda x: torch.cumsum(x, -1), (32, 100))):
        x = torch.randn(shape, generator=gen)
        assert torch.equal(compiled(fn)(x), fn(x))
        torch._dynamo.reset()
    middle, last = [e["cycles"] for e in launches(spike_env)]
    assert middle <= 1.5 * last, (middle, last)


def test_row_reduction_keeps_the_row_loops_tile_and_pipeline(npusim_env, monkeypatch):
    """Found while building the row tiles (sum_last_i32[M=3-N=131079]: 3582 -> 4660 cycles):
    the i32 sum's i64 result, one element per row, halved the column tile, and its store,
    written in the row loop, made every tile's element loop wait for a per-row compute. The
    column tile is the input's again, and the results are stored by an epilogue after the column
    loop: the row_block compute has no per-row work of its own."""
    monkeypatch.setenv("NPUSIM_CONFIG", "tpuv3-1core")
    fn = lambda x: x.sum(-1)  # noqa: E731
    x = torch.randint(-100, 100, (3, 20000), dtype=torch.int32)
    assert torch.equal(compiled(fn)(x), fn(x))
    (meta, text), = kernels(npusim_env)
    assert meta["tiles"]["r"] == 8192, meta["tiles"]  # as an i32 row loop's tile
    work = build_skeleton(text).tile_work
    element = [w for w in work.values() if any(o["op"] == "arith.addi" for o in w["ops"])]
    assert len(element) == 1 and not element[0]["after_previous"], work
    assert "row_block" in text and sum(1 for w in work.values() if w["kind"] == "compute") == 2, work


def test_scan_rows_of_half_a_tile_keep_a_tile_each(npusim_env, monkeypatch):
    """Found while building the row tiles (cumsum_last[f32-M=3-N=4096]: 268 -> 289 cycles): a scan
    packed rows up to the whole column tile, so 3 rows of 4096 became a 2-row and a 1-row tile,
    whose first load and last store nothing overlaps. A scan's tile stores what it loads, so it
    packs rows up to half the column tile: 3 tiles of one row, as the row loop ran them."""
    monkeypatch.setenv("NPUSIM_CONFIG", "tpuv3-1core")
    fn = lambda x: torch.cumsum(x, -1)  # noqa: E731
    x = torch.randn(3, 4096)
    assert torch.equal(compiled(fn)(x), fn(x))
    (launch,) = launches(npusim_env)
    assert dma_events(launch)["work_items"] == 3


def test_result_uniform_over_the_rows_waits_for_its_reduction(npusim_env):
    """Regression (tests/compiler/test_linalg.py det, found by make test): a full reduction has one
    row, so a value computed from its result (amax * 2) varies along no loop of the tile; it was
    taken for a value uniform over the tile and computed before the loop ("reduction used before
    its loop was emitted")."""
    fn = lambda x: x.amax() * 2  # noqa: E731
    run = compiled(fn)
    for n in (5, 7, 9000):
        x = torch.randn(n)
        assert torch.equal(run(x), fn(x))
