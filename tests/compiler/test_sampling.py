"""grid_sampler_2d and pooling as npusim kernels (issue 17b): values from Spike against eager at an
OpInfo sample's size and a swept one, one compile across both."""

from __future__ import annotations

import torch

from npusim import runlog


def _check_sizes(env, fn, sizes, make_inputs, names):
    """Values against eager at each size; every kernel compiled at the first size and none after."""
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for size in sizes:
        inputs = make_inputs(size)
        for name, actual, expected in zip(names, compiled(*inputs), fn(*inputs)):
            torch.testing.assert_close(actual, expected, msg=lambda m, name=name, size=size: f"{name} at N={size}: {m}")
        if size == sizes[0]:
            first = len(runlog.events("compile", env))
    compiles = [e["kernel"] for e in runlog.events("compile", env)]
    assert first and compiles[first:] == [], f"compiled again after N={sizes[0]}: {compiles[first:]}"
    launches = runlog.events("launch", env)
    assert launches and all(e.get("cycles") for e in launches), launches


def test_grid_sampler_2d_rounds_as_eager_on_a_wide_image(spike_env):
    """Inductor's decomposition unnormalised x as x * W/2 + (W/2 - 0.5), eager as (x + 1) * W/2 - 0.5:
    at W = 4099 the bilinear weights moved by 5e-4 (0.026 at the OpInfo sweep's W = 131079)."""
    def fn(a, grid):
        return (torch.grid_sampler_2d(a, grid, 0, 0, False),   # bilinear, zeros
                torch.grid_sampler_2d(a, grid, 0, 2, True),    # bilinear, reflection
                torch.grid_sampler_2d(a, grid, 1, 1, False))   # nearest, border

    generator = torch.Generator().manual_seed(0)
    grid = torch.rand(1, 6, 7, 2, generator=generator) * 2.4 - 1.2  # some points outside the image
    _check_sizes(spike_env, fn, (20, 4099), lambda width: (torch.randn(1, 2, 3, width, generator=generator), grid),
                 ("zeros", "reflection", "nearest"))


def test_layer_norm_and_max_pool_with_literal_sizes(spike_env):
    """nn.functional.layer_norm and max_pool1d/2d were refused in the OpInfo suite ("index:Max",
    "index") only because the suite passed their int arguments as SymInts; with the literal sizes a
    user writes they run as kernels: layer norm over a fixed last dim with rows swept, a max pool
    (values and indices, ceil_mode) over a swept width."""
    def fn(x, weight, bias, image):
        normed = torch.nn.functional.layer_norm(x, (5,), weight, bias, 1e-5)
        pooled1, index1 = torch.nn.functional.max_pool1d(image[0], 3, 2, 0, 1, ceil_mode=True, return_indices=True)
        pooled2, index2 = torch.nn.functional.max_pool2d(image, (2, 3), (1, 2), (1, 1), 1, ceil_mode=True,
                                                         return_indices=True)
        return normed, pooled1, index1, pooled2, index2

    generator = torch.Generator().manual_seed(0)
    weight, bias = torch.randn(5, generator=generator), torch.randn(5, generator=generator)

    def make_inputs(size):
        return (torch.randn(size, 5, generator=generator) * 3 + 1, weight, bias,
                torch.randn(1, 2, 4, size, generator=generator))

    # ceil_mode's output length guards on the width's parity: both sizes odd
    _check_sizes(spike_env, fn, (7, 37), make_inputs,
                 ("layer_norm", "max_pool1d", "max_pool1d indices", "max_pool2d", "max_pool2d indices"))


def test_adaptive_avg_pool_of_an_unbatched_input(spike_env):
    """adaptive_avg_pool1d of (C, L) and adaptive_avg_pool2d of (C, H, W) were refused as unbatched;
    they pool a batch of one."""
    def fn(x, image):
        return (torch.nn.functional.adaptive_avg_pool1d(x, (5,)),
                torch.nn.functional.adaptive_avg_pool2d(image, (5, 7)))

    generator = torch.Generator().manual_seed(0)
    _check_sizes(spike_env, fn, (9, 37),
                 lambda size: (torch.randn(3, size, generator=generator), torch.randn(2, 6, size, generator=generator)),
                 ("adaptive_avg_pool1d", "adaptive_avg_pool2d"))


def test_grid_sampler_3d_as_eager_s_scalar_kernel(spike_env):
    """grid_sampler_3d had no decomposition (refused); trilinear with zeros and nearest with
    reflection, bit-exact with eager when run eagerly."""
    def fn(a, grid):
        return torch.grid_sampler_3d(a, grid, 0, 0, False), torch.grid_sampler_3d(a, grid, 1, 2, True)

    generator = torch.Generator().manual_seed(0)
    grid = torch.rand(1, 3, 4, 6, 3, generator=generator) * 2.4 - 1.2
    _check_sizes(spike_env, fn, (9, 37), lambda width: (torch.randn(1, 2, 3, 4, width, generator=generator), grid),
                 ("trilinear", "nearest"))
