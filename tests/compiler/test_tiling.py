"""Tile heuristics on concrete and symbolic extents: symbolic dims are skipped, never crash."""

import pytest
import sympy

from compiler import tiling
from npusim import config

s0 = sympy.Symbol("s0", integer=True, positive=True)
CFG = config.load("tpuv3-1core")


@pytest.mark.parametrize("dim, expected", [
    (s0, True), (2 * s0 + 1, True), (sympy.Integer(7), False), (7, False), (sympy.Integer(3) * 4, False),
])
def test_is_symbolic_dim(dim, expected):
    assert tiling.is_symbolic_dim(dim) is expected


def test_trim_large_tail_concrete_balances_tiles():
    assert tiling.trim_large_tail(1100, 1024) == 552  # two balanced tiles instead of 1024 + 76
    assert tiling.trim_large_tail(100, 1024) == 104  # one tile, rounded to the granule
    assert tiling.trim_large_tail(4096, 1024) == 1024


def test_trim_large_tail_skips_symbolic():
    assert tiling.trim_large_tail(s0, 1024) == 1024
    assert tiling.trim_large_tail(s0 * 3, 1024) == 1024


def test_padding_ratio():
    assert tiling.padding_ratio(1000, 1024) == pytest.approx(24 / 1024)
    assert tiling.padding_ratio(2048, 1024) == 0
    assert tiling.padding_ratio(s0, 1024) == 0.0


def test_is_dim_dividable():
    assert tiling.is_dim_dividable(2048, 1024)
    assert not tiling.is_dim_dividable(1000, 1024)
    assert not tiling.is_dim_dividable(s0, 1024)  # unknown: the kernel clamps


def test_base_tile_spans_vector_tiles_within_scratchpad():
    assert tiling.vector_tile(CFG, 32) == 1024
    assert tiling.base_tile(CFG, 32) == 1024 * tiling.MAX_TILE_VECTORS
    small = config.load("small-8x8")  # 256 KiB scratchpad
    assert tiling.base_tile(small, 32, buffers=3) == 64 * tiling.MAX_TILE_VECTORS
    assert tiling.base_tile(small, 32, buffers=256) < 64 * tiling.MAX_TILE_VECTORS


def test_grow_tile_concrete_and_symbolic():
    base = tiling.base_tile(CFG, 32)
    grown = tiling.grow_tile(1 << 20, base, buffers=3, elem_bytes=4, config=CFG)
    assert base < grown <= base * tiling.MAX_GROWTH
    assert tiling.grow_tile(s0, base, buffers=3, elem_bytes=4, config=CFG) == base
    assert tiling.grow_tile(512, base, buffers=3, elem_bytes=4, config=CFG) == base


def test_grow_tile_respects_scratchpad():
    small = config.load("small-8x8")
    base = tiling.vector_tile(small, 32)
    # scratchpad 256 KiB, double-buffered: 64 buffers of 4-byte elements leave room for 512 elements
    assert tiling.grow_tile(1 << 20, base, buffers=64, elem_bytes=4, config=small) <= 512


def test_choose_tile():
    dynamic = tiling.choose_tile(s0, CFG, 32, 3)
    assert dynamic == tiling.TileChoice(tile=tiling.base_tile(CFG, 32), needs_clamp=True, extent_symbolic=True)
    exact = tiling.choose_tile(16384, CFG, 32, 3)
    assert not exact.needs_clamp and not exact.extent_symbolic
    assert tiling.choose_tile(1000, CFG, 32, 3).tile == 1000
