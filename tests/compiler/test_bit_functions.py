"""erfinv, hypot, nextafter and frexp as npusim kernels (issue 17d): values from Spike against eager
at an OpInfo-like sample size and a swept one, one compile across both. nextafter and frexp are
bit-exact (they work on the float's bits: the `bitcast` op); erfinv follows ATen's calc_erfinv."""

from __future__ import annotations

import pytest
import torch

from npusim import runlog

pytestmark = pytest.mark.spike

SIZES = (20, 37)
SPECIAL = [0.0, -0.0, 1.0, -1.0, float("inf"), -float("inf"), float("nan"), 1e-45, -1e-40, 3e38, 0.5, 2.0, -7.25]


def _values(size, dtype=torch.float32, seed=0, scale=3.0):
    values = torch.randn(size, generator=torch.Generator().manual_seed(seed)) * scale
    values[:len(SPECIAL)] = torch.tensor(SPECIAL[:size])
    return values.to(dtype)


def _check(env, fn, make_inputs, exact=False, rtol=0.0, atol=0.0):
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for size in SIZES:
        inputs = make_inputs(size)
        actual, expected = compiled(*inputs), fn(*inputs)
        actual, expected = (actual, expected) if isinstance(actual, tuple) else ((actual,), (expected,))
        for got, want in zip(actual, expected):
            if exact:  # the same bits (NaN where eager has NaN)
                assert got.dtype == want.dtype and torch.equal(torch.isnan(got), torch.isnan(want)), size
                assert torch.equal(torch.nan_to_num(got), torch.nan_to_num(want)), (size, got, want)
            else:
                torch.testing.assert_close(got, want, rtol=rtol, atol=atol, equal_nan=True)
    compiles = runlog.events("compile", env)
    assert len(compiles) == len({e["kernel"] for e in compiles}), "recompiled across the sizes"
    launches = runlog.events("launch", env)
    assert launches and all(e.get("cycles") for e in launches), launches


def test_erfinv(spike_env):
    """The central fit, the tail fit (|y| > 0.7), +-1 (inf), outside [-1, 1] (NaN), two Newton steps."""
    edges = torch.tensor([0.0, 1.0, -1.0, 0.7, -0.7, 0.71, 0.9999, -1e-8, 1.5, float("nan")])
    _check(spike_env, torch.erfinv,
           lambda n: [torch.cat([edges, torch.rand(n, generator=torch.Generator().manual_seed(n)) * 2 - 1])],
           rtol=2e-6, atol=1e-6)


def test_hypot(spike_env):
    """Squares that overflow (3e38) and underflow (1e-40) in f32; inf beside NaN is inf."""
    _check(spike_env, torch.hypot, lambda n: [_values(n), _values(n, seed=1).flip(0)], rtol=1.3e-6, atol=1e-45)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_nextafter_steps_one_ulp_of_its_own_dtype(spike_env, dtype):
    """Toward larger and smaller y, from 0 (the smallest subnormal), from inf, x == y, NaN."""
    def inputs(n):
        x = _values(n, dtype)
        y = torch.cat([x[:2], _values(n, dtype, seed=2)[2:]])  # x == y at 0 and -0
        return [x, y]

    _check(spike_env, torch.nextafter, inputs, exact=True)


def test_frexp(spike_env):
    """Normal, subnormal (1e-45, -1e-40), zero, inf and NaN (exponent 0), the largest float."""
    _check(spike_env, torch.frexp, lambda n: [torch.cat([_values(n), _values(n, seed=3) * 1e3])], exact=True)
