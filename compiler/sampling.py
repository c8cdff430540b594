"""grid_sampler_2d and grid_sampler_3d as eager computes them, for the backend's decomposition table.

Inductor's decomposition (torch/_decomp's `_grid_sampler_2d`) unnormalises a grid coordinate as
`x * (size / 2) + (size / 2 - 0.5)`; eager's CPU kernel (GridSamplerKernel.cpp) as
`(x + 1) * (size / 2) - 0.5`. Both are f32, but on a wide image the two roundings differ by an ulp of
the pixel coordinate (1/128 at W = 131079), which moves a bilinear weight by as much: 0.026 off eager on
one element of the OpInfo sample swept to W = 131079. Here every step follows eager's order (the
coordinate, its floor, the weights as 1 - fraction, the corners summed nw, ne, sw, se), so the kernel
rounds as eager does. Bicubic keeps Inductor's decomposition. grid_sampler_3d had none (refused); eager's
scalar 3-D kernel unnormalises as ((x + 1) * size - 1) / 2.
"""

from __future__ import annotations

import torch

aten = torch.ops.aten

BILINEAR, NEAREST, BICUBIC = 0, 1, 2
ZEROS, BORDER, REFLECTION = 0, 1, 2


def _unnormalize(coord: torch.Tensor, size, align_corners: bool) -> torch.Tensor:
    # eager: [-1, 1] onto [0, size - 1] (align_corners) or [-0.5, size - 0.5]
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return (coord + 1) * (size / 2) - 0.5


def _reflect(coord: torch.Tensor, twice_low, twice_high) -> torch.Tensor:
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    distance = (coord - low).abs()
    extra = torch.fmod(distance, span)
    flips = (distance / span).floor()
    return torch.where(torch.fmod(flips, 2) == 0, extra + low, span - extra + low)


def _source_coordinate(coord: torch.Tensor, size, padding_mode: int, align_corners: bool) -> torch.Tensor:
    return _padded(_unnormalize(coord, size, align_corners), size, padding_mode, align_corners)


def _padded(coord: torch.Tensor, size, padding_mode: int, align_corners: bool) -> torch.Tensor:
    """A pixel coordinate brought inside the image by the padding mode (zeros: left as it is)."""
    if padding_mode == BORDER:
        return coord.clamp(0, size - 1)
    if padding_mode == REFLECTION:
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1)) if size > 1 else torch.zeros_like(coord)
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return coord.clamp(0, size - 1)
    return coord


def grid_sampler_2d(a: torch.Tensor, grid: torch.Tensor, interpolation_mode: int = 0, padding_mode: int = 0,
                    align_corners: bool = False) -> torch.Tensor:
    if interpolation_mode == BICUBIC:
        from torch._inductor.decomposition import grid_sampler_2d as inductor_grid_sampler_2d

        return inductor_grid_sampler_2d(a, grid, interpolation_mode, padding_mode, align_corners)
    n, c, height, width = a.shape
    _, out_h, out_w, _ = grid.shape
    # the grid broadcast over channels: one kernel over the output (N, C, OH, OW)
    grid = grid.view(n, 1, out_h, out_w, 2).expand(n, c, out_h, out_w, 2)
    x = _source_coordinate(grid[..., 0], width, padding_mode, align_corners)
    y = _source_coordinate(grid[..., 1], height, padding_mode, align_corners)
    n_index = torch.arange(n, device=a.device).view(n, 1, 1, 1)
    c_index = torch.arange(c, device=a.device).view(1, c, 1, 1)

    def corner(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        """The input at (ys, xs), 0 outside the image (eager's masked gather)."""
        inside = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
        xi = torch.where(inside, xs, 0).to(torch.int64)
        yi = torch.where(inside, ys, 0).to(torch.int64)
        return torch.where(inside, a[n_index, c_index, yi, xi], 0)

    if interpolation_mode == NEAREST:
        return corner(x.round(), y.round())
    west, north = x.floor(), y.floor()
    east, south = west + 1, north + 1
    from_west, from_north = x - west, y - north
    to_east, to_south = 1 - from_west, 1 - from_north
    return (corner(west, north) * (to_south * to_east) + corner(east, north) * (to_south * from_west)
            + corner(west, south) * (from_north * to_east) + corner(east, south) * (from_north * from_west))


def _scalar_source_coordinate(coord: torch.Tensor, size, padding_mode: int, align_corners: bool) -> torch.Tensor:
    # eager's scalar kernels (GridSampler.h, grid_sampler_3d): ((x + 1) * size - 1) / 2, or
    # ((x + 1) / 2) * (size - 1) with align_corners
    coord = ((coord + 1) / 2) * (size - 1) if align_corners else ((coord + 1) * size - 1) / 2
    return _padded(coord, size, padding_mode, align_corners)


def grid_sampler_3d(a: torch.Tensor, grid: torch.Tensor, interpolation_mode: int = 0, padding_mode: int = 0,
                    align_corners: bool = False) -> torch.Tensor:
    """Trilinear or nearest, as eager's scalar CPU kernel: the corners top (z) to bottom, north (y) to
    south, west (x) to east, each weight the product of the distances to the opposite corner."""
    torch._check(interpolation_mode in (BILINEAR, NEAREST), lambda: "grid_sampler_3d: bilinear or nearest")
    n, c, depth, height, width = a.shape
    _, out_d, out_h, out_w, _ = grid.shape
    grid = grid.view(n, 1, out_d, out_h, out_w, 3).expand(n, c, out_d, out_h, out_w, 3)
    x = _scalar_source_coordinate(grid[..., 0], width, padding_mode, align_corners)
    y = _scalar_source_coordinate(grid[..., 1], height, padding_mode, align_corners)
    z = _scalar_source_coordinate(grid[..., 2], depth, padding_mode, align_corners)
    n_index = torch.arange(n, device=a.device).view(n, 1, 1, 1, 1)
    c_index = torch.arange(c, device=a.device).view(1, c, 1, 1, 1)

    def corner(xs: torch.Tensor, ys: torch.Tensor, zs: torch.Tensor) -> torch.Tensor:
        inside = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height) & (zs >= 0) & (zs < depth)
        xi, yi, zi = (torch.where(inside, t, 0).to(torch.int64) for t in (xs, ys, zs))
        return torch.where(inside, a[n_index, c_index, zi, yi, xi], 0)

    if interpolation_mode == NEAREST:
        return corner(x.round(), y.round(), z.round())
    west, north, top = x.floor(), y.floor(), z.floor()
    east, south, bottom = west + 1, north + 1, top + 1
    total = None
    for zs, dz in ((top, bottom - z), (bottom, z - top)):
        for ys, dy in ((north, south - y), (south, y - north)):
            for xs, dx in ((west, east - x), (east, x - west)):
                term = corner(xs, ys, zs) * (dx * dy * dz)
                total = term if total is None else total + term
    return total


def sampling_decompositions() -> dict:
    """op -> decomposition, for the backend's table (replacing Inductor's)."""
    return {aten.grid_sampler_2d.default: grid_sampler_2d, aten.grid_sampler_3d.default: grid_sampler_3d}
