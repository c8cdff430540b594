"""Tile-size heuristics.

A tile is the number of elements of the tiled loop variable that one DMA and
one compute step handle. Every heuristic that needs a concrete extent (trim the
tail, padding ratio, divisibility, growth) first asks `is_symbolic_dim`: a
symbolic extent is only known at run time, so the heuristic is skipped and the
tail becomes a runtime remainder clamped in the kernel. Static extents are
tiled exactly as if no dynamic path existed.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from npusim.config import NpuConfig

# Multiple-of granule for trimmed tiles: keep DMA bursts and vector ops whole.
TILE_GRANULE = 8
# A DMA tile spans up to this many vector tiles: with double buffering, one
# vector tile's transfer (24 cycles at the default DRAM) cannot hide the ~110
# cycles of DRAM + NoC latency, so a kernel would be latency-bound whatever
# the bandwidth. The scratchpad budget bounds it (`dma_vectors`).
MAX_TILE_VECTORS = 8
# How far a tile may grow past the base tile when the extent is known.
MAX_GROWTH = 2


def is_symbolic_dim(dim) -> bool:
    """True when `dim` is a sympy expression whose value is not a compile-time constant."""
    return isinstance(dim, sympy.Expr) and not dim.is_number


def as_int(dim) -> int:
    assert not is_symbolic_dim(dim), f"symbolic dim {dim} has no concrete value"
    return int(dim)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def round_up(value: int, granule: int) -> int:
    return ceil_div(value, granule) * granule


def vector_tile(config: NpuConfig, elem_bits: int) -> int:
    """One vector op: every lane full."""
    return config.tile_elems(elem_bits)


def dma_vectors(config: NpuConfig, elem_bits: int, buffers: int) -> int:
    """Vector tiles per DMA tile: the largest power of two up to MAX_TILE_VECTORS whose buffers fit."""
    per_vector = vector_tile(config, elem_bits) * max(1, elem_bits // 8)
    slots = max(1, buffers) * config["scratchpad"]["buffers_per_operand"]
    count = MAX_TILE_VECTORS
    while count > 1 and count * per_vector * slots > config.scratchpad_bytes:
        count //= 2
    return count


def base_tile(config: NpuConfig, elem_bits: int, buffers: int = 3) -> int:
    """The tile of a symbolic extent: several vector tiles, as the scratchpad allows. Shape-independent."""
    return vector_tile(config, elem_bits) * dma_vectors(config, elem_bits, buffers)


def trim_large_tail(extent, tile: int) -> int:
    """Shrink the tile of a known extent so tiles are balanced and the last one is not mostly empty."""
    if is_symbolic_dim(extent):
        return tile
    n = as_int(extent)
    if n <= tile:
        return max(1, min(tile, round_up(n, TILE_GRANULE)))
    tiles = ceil_div(n, tile)
    return min(tile, round_up(ceil_div(n, tiles), TILE_GRANULE))


def padding_ratio(extent, tile: int) -> float:
    """Fraction of the tiled iteration space that is padding; 0 for a symbolic extent (unknown)."""
    if is_symbolic_dim(extent):
        return 0.0
    n = as_int(extent)
    padded = ceil_div(n, tile) * tile
    return (padded - n) / padded if padded else 0.0


def is_dim_dividable(extent, tile: int) -> bool:
    """True only when the extent is known and a multiple of the tile (no clamp needed)."""
    if is_symbolic_dim(extent):
        return False
    return as_int(extent) % tile == 0


def grow_tile(extent, tile: int, buffers: int, elem_bytes: int, config: NpuConfig) -> int:
    """Double a tile over a known, large extent while the scratchpad holds every buffer."""
    if is_symbolic_dim(extent):
        return tile
    n = as_int(extent)
    limit = tile * MAX_GROWTH
    budget = config.scratchpad_bytes // max(1, buffers * elem_bytes * config["scratchpad"]["buffers_per_operand"])
    while tile * 2 <= min(n, limit, budget) and padding_ratio(n, tile * 2) <= padding_ratio(n, tile):
        tile *= 2
    return tile


@dataclass(frozen=True)
class TileChoice:
    tile: int
    needs_clamp: bool  # the last tile may be partial
    extent_symbolic: bool


def choose_tile(extent, config: NpuConfig, elem_bits: int, buffers: int) -> TileChoice:
    tile = base_tile(config, elem_bits, buffers)
    tile = grow_tile(extent, tile, buffers, max(1, elem_bits // 8), config)
    tile = trim_large_tail(extent, tile)
    return TileChoice(tile=tile, needs_clamp=not is_dim_dividable(extent, tile),
                      extent_symbolic=is_symbolic_dim(extent))
