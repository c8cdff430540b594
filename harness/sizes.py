"""Size policy: which sizes each dynamic dim takes, derived from the NPU config's tile.

Per dynamic dim: tile multiples, tile +- 1, smaller than one tile, 1, a prime
and a large size. Multi-dim ops sweep one dim at a time while the others stay
at a small fixed value, so every sweep is a line on which cycles must not fall.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.tiling import base_tile
from npusim.config import NpuConfig

POLICIES = ("smoke", "nightly")


def dim_sizes(tile: int, policy: str) -> list[int]:
    if policy == "smoke":
        sizes = [1, 7, tile - 1, tile, tile + 1, 2 * tile + 3]
    elif policy == "nightly":
        sizes = [1, 2, 7, 97, tile // 2, tile - 1, tile, tile + 1, 2 * tile, 2 * tile + 1, 4 * tile + 13,
                 16 * tile + 7]
    else:
        raise ValueError(f"unknown size policy {policy!r} (known: {', '.join(POLICIES)})")
    return sorted({s for s in sizes if s >= 1})


OUTER_FIXED = (3, 5, 6, 10)  # none is a size the innermost dim's sweep starts with
# Image sizes (a conv's height and width): 1, odd, prime and even sizes; the window's borders and
# the output-row tails are what the sizes exercise, not the vector tile. No 2: a stride-2 window
# maps an image of 2 to an output of 1, which Dynamo specialises (a compile the sweep would count).
IMAGE_SIZES = {"smoke": [1, 3, 7, 13, 31], "nightly": [1, 3, 5, 7, 13, 16, 17, 31, 56]}
# A batch dim (named B) stays below 16: Dynamo's fake CPU conv asks ATen which backend eager
# would take (oneDNN's and NNPACK's checks both read batch >= 16 for an unstrided conv), a guard
# made while Dynamo traces, before the backend runs: batch 16 compiles the same kernel again
# (tests/compiler/test_conv.py::test_batch_16_guard_is_aten_conv_backend_choice).
IMAGE_BATCHES = {"smoke": [1, 2, 7, 13], "nightly": [1, 2, 3, 7, 11, 13, 15]}


def other_dim_sizes(tile: int, policy: str) -> list[int]:
    """Sizes for a non-innermost dim (rows): few, including 1 and a prime."""
    return [1, 5] if policy == "smoke" else [1, 2, 5, 17]


@dataclass(frozen=True)
class Sweep:
    """One line of the matrix: `dim` varies, the other dims stay fixed."""

    dim: str
    points: tuple[tuple[tuple[str, int], ...], ...]  # each point: ((dim, size), ...) in dim order

    def sizes(self):
        return [dict(point) for point in self.points]


def sweeps(dims: list[str], config: NpuConfig, policy: str, elem_bits: int = 32,
           size_tile: str = "vector") -> list[Sweep]:
    if not dims:
        return [Sweep("", ((),))]
    if size_tile == "systolic":  # each dim of a GEMM sweeps around the array size, the others stay small
        tile = config["systolic"]["rows"]
        result = []
        for dim in dims:
            # distinct fixed sizes, as below: equal ones would be duck-shaped into one symbol
            fixed = {d: OUTER_FIXED[i % len(OUTER_FIXED)] for i, d in enumerate(dims)}
            points = tuple(tuple({**fixed, dim: n}.items()) for n in dim_sizes(tile, policy))
            result.append(Sweep(dim, points))
        return result
    if size_tile == "image":  # a conv/pool's batch and spatial dims: small images, each dim swept alone
        result = []
        for dim in dims:
            fixed = {d: OUTER_FIXED[i % len(OUTER_FIXED)] for i, d in enumerate(dims)}
            sizes = IMAGE_BATCHES[policy] if dim == "B" else IMAGE_SIZES[policy]
            points = tuple(tuple({**fixed, dim: n}.items()) for n in sizes)
            result.append(Sweep(dim, points))
        return result
    if size_tile != "vector":
        raise ValueError(f"unknown size_tile {size_tile!r} (known: vector, systolic, image)")
    tile = base_tile(config, elem_bits)
    inner = dims[-1]
    # Distinct fixed sizes for the outer dims: Dynamo takes dims that are equal at the first
    # compile to be equal for good (duck shapes), so equal fixed sizes would make every later
    # size of one of them recompile.
    fixed = {d: OUTER_FIXED[i % len(OUTER_FIXED)] for i, d in enumerate(dims[:-1])}
    result = [Sweep(inner, tuple(tuple({**fixed, inner: n}.items()) for n in dim_sizes(tile, policy)))]
    for dim in dims[:-1]:
        base = dict(fixed)
        base[inner] = tile + 1  # a tail in the innermost dim while the outer dim sweeps
        points = tuple(tuple({**base, dim: n}.items()) for n in other_dim_sizes(tile, policy))
        result.append(Sweep(dim, tuple(tuple(sorted(p, key=lambda kv: dims.index(kv[0]))) for p in points)))
    return result


def explicit_sweeps(sizes: dict[str, tuple[int, ...]]) -> list[Sweep]:
    """Sweeps over sizes listed per dim (a model spec's `sizes`): each dim sweeps its list while the
    others stay at their first size of at least 2 (a size 1 is Dynamo's specialisation, not the
    general kernel). The fixed sizes must differ, or Dynamo would take the dims to be one."""
    dims = list(sizes)
    fixed = {d: next((n for n in sizes[d] if n >= 2), sizes[d][0]) for d in dims}
    if len(set(fixed.values())) < len(fixed):
        raise ValueError(f"explicit sizes {sizes}: the fixed sizes {fixed} must differ (Dynamo's duck shapes)")
    return [Sweep(dim, tuple(tuple({**fixed, dim: n}.items()) for n in sorted(set(sizes[dim])))) for dim in dims]
