"""grid_sampler_2d and pooling as npusim kernels (issue 17b): values from Spike against eager at an
OpInfo sample's size and a swept one, one compile across both."""

from __future__ import annotations

import torch

from npusim import runlog


def _assert_one_compile_and_launches(env):
    compiles = runlog.events("compile", env)
    kernels = {e["kernel"] for e in compiles}
    assert len(compiles) == len(kernels), f"recompiled across the sizes: {[e['kernel'] for e in compiles]}"
    launches = runlog.events("launch", env)
    assert launches and all(e.get("cycles") for e in launches), launches


def test_grid_sampler_2d_rounds_as_eager_on_a_wide_image(spike_env):
    """Inductor's decomposition unnormalised x as x * W/2 + (W/2 - 0.5), eager as (x + 1) * W/2 - 0.5:
    at W = 4099 the bilinear weights moved by 5e-4 (0.026 at the OpInfo sweep's W = 131079)."""
    def fn(a, grid):
        return (torch.grid_sampler_2d(a, grid, 0, 0, False),   # bilinear, zeros
                torch.grid_sampler_2d(a, grid, 0, 2, True),    # bilinear, reflection
                torch.grid_sampler_2d(a, grid, 1, 1, False))   # nearest, border

    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    generator = torch.Generator().manual_seed(0)
    grid = torch.rand(1, 6, 7, 2, generator=generator) * 2.4 - 1.2  # some points outside the image
    for width in (20, 4099):
        a = torch.randn(1, 2, 3, width, generator=generator)
        for name, actual, expected in zip(("zeros", "reflection", "nearest"), compiled(a, grid), fn(a, grid)):
            torch.testing.assert_close(actual, expected, msg=lambda m, name=name, width=width: f"{name} at W={width}: {m}")
    _assert_one_compile_and_launches(spike_env)
