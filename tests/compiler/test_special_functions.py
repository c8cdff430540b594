"""Special functions as npusim kernels (issue 17a, compiler/special_functions.py): values from Spike
against eager at an OpInfo-like sample size and a swept size, one compile across both."""

from __future__ import annotations

import torch

from npusim import runlog

SIZES = (20, 37)  # an OpInfo sample's own size, then a swept one (a prime above it)


def _cycled(values, size):
    values = torch.tensor(values, dtype=torch.float32)
    return values.repeat(size // len(values) + 1)[:size].contiguous()


def _check_family(env, fn, make_inputs, rtol, atol):
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for size in SIZES:
        inputs = make_inputs(size)
        for name, actual, expected in zip(fn.names, compiled(*inputs), fn(*inputs)):
            torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=True,
                                       msg=lambda m, name=name, size=size: f"{name} at N={size}: {m}")
    compiles = runlog.events("compile", env)
    kernels = {e["kernel"] for e in compiles}
    assert len(compiles) == len(kernels), f"recompiled across the sizes: {[e['kernel'] for e in compiles]}"
    launches = runlog.events("launch", env)
    assert launches and all(e.get("cycles") for e in launches), launches


def _family(*named):
    def fn(*args):
        return tuple(f(*args) for _, f in named)

    fn.names = [n for n, _ in named]
    return fn


# Inputs that cross each op's branches: poles, branch points, range switches (8 for I, 2 for K),
# negative arguments and the NaN/inf eager passes through.
WIDE = [-8.48, -3.5, -1.77, -1.0, -0.5, -1e-6, 0.0, 1e-6, 0.3, 1.0, 1.9, 2.0, 2.1, 5.77, 8.0, 8.5, 20.0, 87.0,
        float("inf"), float("nan")]


def test_inverse_hyperbolics(spike_env):
    """acosh/asinh/atanh had no lowering (refused by name); the log1p forms keep tiny and huge x."""
    fn = _family(("acosh", lambda x: torch.acosh(x.abs() + 1)), ("asinh", torch.asinh),
                 ("atanh", lambda x: torch.atanh(x / 9.0)))
    values = [1e-30, -1e-8, 1e-4, 0.3, -1.0, 1.23, 7.57, -8.99, 9.0, 1e5, -3e8, 1e30, 3e38, float("inf"),
              float("nan")]
    _check_family(spike_env, fn, lambda n: [_cycled(values, n)], rtol=1.3e-6, atol=1e-6)


POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
               "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
               "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
               "laguerre_polynomial_l", "legendre_polynomial_p"]


def test_orthogonal_polynomials(spike_env):
    """The twelve polynomials of degree n (a tensor): n < 0, the end points, the closed forms for
    |y| < 1 and the n-step recurrence (an scf.while per element), with OpInfo's x and n values."""
    fn = _family(*[(name, getattr(torch.special, name)) for name in POLYNOMIALS])
    xs = [-8.48, -1.77, -1.0, -0.999, -0.5, 0.0, 0.3, 0.5, 0.9999, 1.0, 1.5, 3.61, 0.25]
    ns = [-1.77, 0.0, 1.0, 2.0, 3.61, 5.0, 7.0, 9.5, 12.0, 3.61, 3.0, 129.0]
    _check_family(spike_env, fn, lambda n: [_cycled(xs, n), _cycled(ns, n)], rtol=1e-4, atol=1e-4)


def test_modified_bessel_family(spike_env):
    """i0/i0e/i1/i1e, modified_bessel_{i0,i1,k0,k1}, scaled K0/K1 and spherical j0: Cephes' Chebyshev
    fits on both sides of their range switches, K's pole at 0 and NaN below."""
    names = ["i0e", "i1", "i1e", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
             "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0"]
    fn = _family(("i0", torch.i0), *[(name, getattr(torch.special, name)) for name in names])
    _check_family(spike_env, fn, lambda n: [_cycled(WIDE, n)], rtol=1e-5, atol=1e-6)


def test_gamma_family(spike_env):
    """lgamma, digamma, polygamma n = 0/1 and mvlgamma (lgamma sums): reflection below 0, the poles
    at 0 and the negative integers, the unrolled shift up to the asymptotic series. OpInfo's f32
    tolerance for lgamma is atol 2e-4 (its zeros at 1 and 2 make relative error meaningless)."""
    fn = _family(("lgamma", torch.lgamma), ("digamma", torch.digamma), ("polygamma_1", lambda x: torch.polygamma(1, x)),
                 ("mvlgamma_3", lambda x: torch.mvlgamma(x.abs() + 1.0, 3)))
    values = [-8.48, -3.5, -2.457, -1.77, -1.0, -0.5, 0.0, 1e-6, 0.3, 1.0, 1.5, 2.0, 2.7, 5.77, 7.99, 10.0, 30.0,
              1e5, float("inf"), float("nan")]
    _check_family(spike_env, fn, lambda n: [_cycled(values, n)], rtol=1e-5, atol=2e-5)


def test_hurwitz_zeta_and_higher_polygamma(spike_env):
    """special.zeta (its q-dependent first loop is an scf.while, the Euler-Maclaurin tail unrolled, in
    f64 as eager) and polygamma n = 2..4 built on it; eager's special cases: x = 1, x < 1, q a
    non-positive integer, a non-integer x with q <= 0."""
    fn = _family(("zeta", lambda x, q: torch.special.zeta(x, q)),
                 *[(f"polygamma_{n}", lambda x, q, n=n: torch.polygamma(n, q)) for n in (2, 3, 4)])
    xs = [1.0, 0.5, 1.5, 2.0, 3.0, 4.0, 5.0, 10.0, 50.0, -8.48, 2.0, 3.0, float("nan")]
    qs = [3.61, 0.5, 1e-3, 1.0, -1.77, -2.0, -3.0, 20.0, -1.77, 8.4, -30.5, 0.3, 2.0]
    _check_family(spike_env, fn, lambda n: [_cycled(xs, n), _cycled(qs, n)], rtol=1e-5, atol=1e-6)


def test_bessel_first_and_second_kind(spike_env):
    """bessel_j0/j1/y0/y1: Cephes' rational fits up to 5, the Hankel form above; Y's pole at 0 and
    NaN below; large x (argument reduction of x - phase)."""
    fn = _family(*[(name, getattr(torch.special, name)) for name in ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1")])
    values = WIDE + [2.4048, 4.99, 5.01, 1e4, 1e-5]
    _check_family(spike_env, fn, lambda n: [_cycled(values, n)], rtol=1e-5, atol=1e-5)


def test_ndtri(spike_env):
    """special.ndtri: Cephes' central fit and both tail fits (split at exp(-32)), 0 and 1 map to
    -+inf, outside [0, 1] NaN."""
    fn = _family(("ndtri", torch.special.ndtri))
    values = [0.0, 1e-30, 1e-20, 1e-14, 1e-6, 0.029, 0.1, 0.1353, 0.2, 0.5, 0.821, 0.8647, 0.9, 0.99999, 1.0, -0.1,
              1.1, float("nan")]
    _check_family(spike_env, fn, lambda n: [_cycled(values, n)], rtol=1e-5, atol=1e-6)


def test_airy_ai(spike_env):
    """special.airy_ai: both asymptotic forms, the series between -2.09 and 2.09 (unrolled with
    eager's stopping flag), 0 above 103.892, NaN at +-inf."""
    fn = _family(("airy_ai", torch.special.airy_ai))
    values = [-90.0, -8.48, -2.1, -2.09, -2.0, -1.0, -0.3, 0.0, 1e-6, 0.5, 1.9, 2.08, 2.09, 5.77, 8.32, 8.33, 20.0,
              103.0, 104.0, float("inf"), float("nan")]
    _check_family(spike_env, fn, lambda n: [_cycled(values, n)], rtol=1e-5, atol=1e-6)


def test_gcd_and_lcm(spike_env):
    """gcd was Inductor's host fallback (refused by name) and lcm decomposes into it: now Euclid's loop
    as an scf.while per element; signs, zeros, int64 extremes and consecutive Fibonacci numbers (the
    longest Euclid chains)."""
    fn = _family(("gcd", torch.gcd), ("lcm", torch.lcm))
    a = [-8, 0, 0, 12, 7, 2 ** 62, -(2 ** 63), 1836311903, 9, 1, 17, -6, 3]
    b = [6, 0, 5, 18, 13, 3 * 2 ** 40, 6, 1134903170, -8, 0, 17, 4, 0]

    def inputs(n):
        return [torch.tensor(a * 3)[:n], torch.tensor(b * 3)[:n]]  # int64, exact (no float round trip)

    _check_family(spike_env, fn, inputs, rtol=0, atol=0)
