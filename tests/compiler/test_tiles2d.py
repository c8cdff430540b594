"""2-D tiles (compiler/tiles2d.py): a pointwise kernel whose innermost kept dim is narrow moves
many rows per DMA, so the DMA latency is paid per tile, not per row. Values on Spike, cycles from
the trace simulator, one compile across the sizes."""

from __future__ import annotations

import re

import pytest
import torch

from npusim import runlog
from simulator.trace.skeleton import build_skeleton
from tests.compiler.test_layout_dims import element_transfers, kernels


def compiled(fn):
    return torch.compile(fn, backend="npusim", dynamic=True)


def two_d_dmas(text: str) -> int:
    """DMAs whose DRAM side is a 2-D descriptor (rows x columns)."""
    return len(re.findall(r"reinterpret_cast %arg\d+ to offset: \[[^]]*\], sizes: \[[^],]+, [^]]+\]", text))


def launch_cycles(log) -> list[int]:
    return [e["cycles"] for e in runlog.events("launch", log)]


def bias_scale(x, w, b):
    return x * w + b


def test_bias_scale_3d_cycles_do_not_fall_with_narrow_rows(spike_env, monkeypatch):
    """Regression (nightly bias_scale_3d[f32-sweep-N], B = 3, M = 5): N = 2 -> 417 cycles, N = 7 -> 413.
    Each 2- or 7-wide row was one DMA paying the load latency; 2-wide rows shared DRAM bursts and
    collided on one channel more often. One 2-D tile per M x N block now moves them in one DMA."""
    monkeypatch.setenv("NPUSIM_CONFIG", "tpuv3-1core")
    run = compiled(bias_scale)
    gen = torch.Generator().manual_seed(0)
    for n in (2, 7, 97):
        args = (torch.randn(3, 5, n, generator=gen), torch.randn(1, 1, n, generator=gen),
                torch.randn(3, 1, 1, generator=gen))
        torch.testing.assert_close(run(*args), bias_scale(*args), rtol=0, atol=0)
    cycles = launch_cycles(spike_env)
    assert len(cycles) == 3 and cycles == sorted(cycles), cycles
    (meta, text), = kernels(spike_env)  # one compile for every N
    assert two_d_dmas(text) >= 2, "x and the output should move as 2-D DMAs"
    assert element_transfers(spike_env) == 0


# Broadcast row and column, with tails in both dims: N past the column tile (8192 f32 elements),
# M past the rows a tile holds at that N (8192 // 97 = 84)
TAIL_SHAPES = [(100, 97), (2, 8193), (7, 3), (5, 2)]


def row_and_column(a, row, col):
    return (a + row) * col


def test_tails_in_both_dims_are_exact_on_spike(spike_env):
    run = compiled(row_and_column)
    gen = torch.Generator().manual_seed(1)
    for m, n in TAIL_SHAPES:
        args = (torch.randn(m, n, generator=gen), torch.randn(n, generator=gen), torch.randn(m, 1, generator=gen))
        torch.testing.assert_close(run(*args), row_and_column(*args), rtol=0, atol=0)
    (meta, text), = kernels(spike_env)
    assert meta["tiles"]["x"] == 8192
    assert element_transfers(spike_env) == 0
    cycles = launch_cycles(spike_env)
    assert all(c > 0 for c in cycles) and len(cycles) == len(TAIL_SHAPES)


def transpose_scaled(x):
    return (x.t() * 2).contiguous()


def copy_scaled(x):
    return x * 2


@pytest.mark.parametrize("shape", [(3, 4099), (5, 97)])
def test_transpose_to_narrow_rows_moves_contiguous_runs(spike_env, shape):
    """A transpose to 3-wide rows loads its input tile column by column (the descriptor's dims
    swapped), so each DMA row is a contiguous run: it costs about what a copy of the same bytes
    costs, not one burst per element (323x add_3d before)."""
    x = torch.randn(*shape)
    torch.testing.assert_close(compiled(transpose_scaled)(x), transpose_scaled(x), rtol=0, atol=0)
    torch._dynamo.reset()
    torch.testing.assert_close(compiled(copy_scaled)(x), copy_scaled(x), rtol=0, atol=0)
    transpose, copy = launch_cycles(spike_env)
    assert transpose <= 1.5 * copy, (transpose, copy)


def test_transposed_tiles_do_not_jitter_down_as_n_grows(npusim_env, monkeypatch):
    """Regression (nightly transpose_last_3d[f32-sweep-N], B = 3, M = 5): with 1638-row tiles
    N = 8191 -> 1845 cycles, 8192 -> 1843. The tiles' few bursts past a whole round of the DRAM
    channels landed on channels that shift with N's offsets; row blocks are now whole channel
    rounds (1536 rows of f32 at 16 channels x 64-byte bursts). Values from the host JIT: this
    checks the trace, and Spike runs the same kernel in test_transpose_to_narrow_rows_..."""
    monkeypatch.setenv("NPUSIM_CONFIG", "tpuv3-1core")
    monkeypatch.setenv("NPUSIM_TRACE", "1")
    fn = lambda x: (x.transpose(1, 2) * 2).contiguous()  # noqa: E731
    run = compiled(fn)
    for n in (8190, 8191, 8192):
        x = torch.randn(3, 5, n)
        torch.testing.assert_close(run(x), fn(x), rtol=0, atol=0)
    cycles = launch_cycles(npusim_env)
    assert len(cycles) == 3 and cycles == sorted(cycles), cycles


@pytest.mark.parametrize("m, n", [(5, 1), (1, 7), (1, 1)])
def test_size_one_dims_are_exact_on_spike(spike_env, m, n):
    """N = 1 or M = 1 is a specialised kernel (CONTRACTS.md section 7) with one kept dim fewer."""
    gen = torch.Generator().manual_seed(2)
    args = (torch.randn(m, n, generator=gen), torch.randn(n, generator=gen), torch.randn(m, 1, generator=gen))
    torch.testing.assert_close(compiled(row_and_column)(*args), row_and_column(*args), rtol=0, atol=0)
    assert launch_cycles(spike_env)


def channel_norm(x, mean, var, weight, bias):
    return torch.nn.functional.batch_norm(x, mean, var, weight, bias, training=False)


def test_per_row_work_is_counted_once_per_row(spike_env, monkeypatch):
    """Regression (nightly nn.functional.batch_norm.s1[f32-N=8193]: 1001 -> 2154 cycles when the
    2-D tiles came in): a [3, 2, N] input's per-channel 1 / sqrt(var + eps) varies by row only,
    but the 2-D tile computed it, and read each channel's operands from the scratchpad, once per
    element (4x the vector work). It is now computed once per row, and the trace counts it as a
    compute over the tile's rows; the element loop does only the element's work."""
    monkeypatch.setenv("NPUSIM_CONFIG", "tpuv3-1core")
    run = compiled(channel_norm)
    gen = torch.Generator().manual_seed(3)
    for n in (4, 97):
        args = (torch.randn(3, 2, n, generator=gen), torch.randn(2, generator=gen), torch.rand(2, generator=gen) + 0.5,
                torch.randn(2, generator=gen), torch.randn(2, generator=gen))
        torch.testing.assert_close(run(*args), channel_norm(*args))
    (meta, text), = kernels(spike_env)
    work = build_skeleton(text).tile_work  # the trace's view of the same kernel MLIR
    per_element = [ops for ops in work.values() if any(o["op"] == "arith.subf" for o in ops["ops"])]
    per_row = [ops for ops in work.values() if any(o["op"] == "math.sqrt" for o in ops["ops"])]
    assert len(per_element) == 1 and len(per_row) == 1 and per_element != per_row, work
    element_ops = [o["op"] for o in per_element[0]["ops"]]
    assert "math.sqrt" not in element_ops and element_ops.count("memref.load") == 1, element_ops
    assert per_element[0]["after_previous"], "the element loop waits for its rows' values"
