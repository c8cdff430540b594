"""The runtime's libm: accuracy of runtime/libm.c against the host libm (the C
file compiled for the host, wide input ranges), and the whole math lowering
(math-to-llvm + math-to-libm -> calls into the runtime) on Spike and on the
host JIT against torch."""

from __future__ import annotations

import ctypes
import math
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from simulator.functional import entry, toolchain

F32_FUNCTIONS = ["exp", "log", "tanh", "erf", "erfc", "sqrt", "rsqrt", "expm1", "log1p", "sin", "cos", "tan",
                 "atan", "asin", "acos", "sinh", "cosh", "exp2", "log2", "log10", "cbrt", "floor", "ceil",
                 "round", "roundeven", "trunc", "absf", "powf", "atan2", "remf", "copysign"]
F64_FUNCTIONS = ["exp", "log", "tanh", "erf", "sin", "cos", "atan", "expm1", "log1p", "cbrt", "powf", "atan2",
                 "remf"]

TORCH_REFERENCE = {
    "exp": torch.exp, "log": torch.log, "tanh": torch.tanh, "erf": torch.erf, "erfc": torch.erfc,
    "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "expm1": torch.expm1, "log1p": torch.log1p, "sin": torch.sin,
    "cos": torch.cos, "tan": torch.tan, "atan": torch.atan, "asin": torch.asin, "acos": torch.acos,
    "sinh": torch.sinh, "cosh": torch.cosh, "exp2": torch.exp2, "log2": torch.log2, "log10": torch.log10,
    "cbrt": lambda x: torch.sign(x) * x.abs() ** (1 / 3), "floor": torch.floor, "ceil": torch.ceil,
    "round": lambda x: torch.sign(x) * torch.floor(x.abs() + 0.5), "roundeven": torch.round,
    "trunc": torch.trunc, "absf": torch.abs, "powf": torch.pow, "atan2": torch.atan2, "remf": torch.fmod,
    "copysign": torch.copysign,
}
BINARY = {"powf", "atan2", "remf", "copysign"}


def _reference(name: str, x: torch.Tensor, y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    # Evaluated in float64, rounded once to the kernel's dtype.
    fn = TORCH_REFERENCE[name]
    value = fn(x.double(), y.double()) if name in BINARY else fn(x.double())
    return value.to(dtype)


def _check_math_outputs(outputs, x, y, xd, yd):
    out, outd = outputs[2], outputs[5]
    n = x.numel()
    for k, name in enumerate(F32_FUNCTIONS):
        # expm1 lowers upstream to exp(x) - 1: an absolute error of ~1 ulp of 1.
        atol = 2e-7 if name == "expm1" else 1e-7
        torch.testing.assert_close(out[k * n:(k + 1) * n], _reference(name, x, y, torch.float32),
                                   rtol=2e-6, atol=atol, msg=lambda m: f"f32 {name}: {m}")
    for k, name in enumerate(F64_FUNCTIONS):
        atol = 4e-16 if name == "expm1" else 1e-15
        torch.testing.assert_close(outd[k * n:(k + 1) * n], _reference(name, xd, yd, torch.float64),
                                   rtol=1e-13, atol=atol, msg=lambda m: f"f64 {name}: {m}")


@pytest.fixture
def math_inputs():
    generator = torch.Generator().manual_seed(7)
    n = 300
    # (0.05, 0.95) is inside every function's domain (asin, acos, log ...).
    x = torch.rand(n, generator=generator) * 0.9 + 0.05
    y = torch.rand(n, generator=generator) * 6 - 3
    return n, x, y, x.double() * 0.999, y.double()


@pytest.mark.spike
def test_math_functions_on_spike(math_kernel, math_inputs, tmp_path):
    path, meta = math_kernel
    n, x, y, xd, yd = math_inputs
    result = entry.launch(path, meta, [x, y, None, xd, yd, None, n], mode="spike", launch_dir=tmp_path)
    _check_math_outputs(result.outputs, x, y, xd, yd)


def test_math_functions_on_host_jit(math_kernel, math_inputs):
    path, meta = math_kernel
    n, x, y, xd, yd = math_inputs
    result = entry.launch(path, meta, [x, y, None, xd, yd, None, n], mode="host")
    _check_math_outputs(result.outputs, x, y, xd, yd)


# ---------------------------------------------------------------- libm.c on the host

@pytest.fixture(scope="module")
def host_libm(tmp_path_factory):
    """runtime/libm.c built as a host shared library (-Bsymbolic: its functions
    call each other, not the system libm)."""
    library = tmp_path_factory.mktemp("libm") / "libnpusim_m.so"
    command = toolchain.zig_cc() + ["-target", "x86_64-linux-gnu", "-mcpu=x86_64_v3", "-O2", "-fno-builtin",
                                    "-fno-math-errno", "-ffp-contract=off", "-shared", "-fPIC",
                                    "-Wl,-Bsymbolic", str(toolchain.RUNTIME_DIR / "libm.c"), "-o", str(library)]
    subprocess.run(command, check=True, capture_output=True)
    return ctypes.CDLL(str(library))


def _function(library, name: str, arity: int, ctype):
    fn = getattr(library, name)
    fn.restype, fn.argtypes = ctype, [ctype] * arity
    return fn


def _log_uniform(rng, low, high, n, signed=False):
    values = np.exp(rng.uniform(math.log(low), math.log(high), n))
    return np.concatenate([values, -values]) if signed else values


def _domains(rng):
    n = 1500
    return {
        "exp": rng.uniform(-745, 709, n), "expm1": np.concatenate([rng.uniform(-40, 700, n),
                                                                  _log_uniform(rng, 1e-12, 1, n, True)]),
        "exp2": rng.uniform(-1020, 1023, n), "log": _log_uniform(rng, 1e-300, 1e300, n),
        "log2": _log_uniform(rng, 1e-300, 1e300, n), "log10": _log_uniform(rng, 1e-300, 1e300, n),
        "log1p": np.concatenate([rng.uniform(-0.999999, 10, n), _log_uniform(rng, 1e-15, 1e10, n, True)[:n]]),
        "sin": rng.uniform(-1e5, 1e5, n), "cos": rng.uniform(-1e5, 1e5, n), "tan": rng.uniform(-100, 100, n),
        "asin": rng.uniform(-1, 1, n), "acos": rng.uniform(-1, 1, n),
        "atan": _log_uniform(rng, 1e-10, 1e10, n, True), "sinh": rng.uniform(-710, 710, n),
        "cosh": rng.uniform(-710, 710, n), "tanh": np.concatenate([rng.uniform(-30, 30, n),
                                                                  _log_uniform(rng, 1e-10, 2, n, True)]),
        "erf": np.concatenate([rng.uniform(-7, 7, n), _log_uniform(rng, 1e-10, 6, n, True)]),
        "erfc": rng.uniform(-5, 26, n), "cbrt": _log_uniform(rng, 1e-300, 1e300, n, True),
    }


PYTHON_REFERENCE = {"exp": math.exp, "expm1": math.expm1, "exp2": lambda v: 2.0 ** v, "log": math.log,
                    "log2": math.log2, "log10": math.log10, "log1p": math.log1p, "sin": math.sin,
                    "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos, "atan": math.atan,
                    "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh, "erf": math.erf,
                    "erfc": math.erfc, "cbrt": math.cbrt}
SMALLEST_NORMAL = 2.2250738585072014e-308


def _worst_relative_error(fn, reference, inputs, to_float32: bool) -> tuple[float, float]:
    worst, where = 0.0, None
    for value in inputs:
        if to_float32:
            with np.errstate(over="ignore"):
                narrowed = float(np.float32(value))
            if math.isinf(narrowed) or (narrowed == 0 and value != 0):
                continue  # outside float32's range: not an input a float kernel sees
            value = narrowed
        value = float(value)
        try:
            expected = reference(value)
        except OverflowError:
            expected = math.inf
        if to_float32:
            with np.errstate(over="ignore"):
                expected = float(np.float32(expected))
        got = fn(value)
        if math.isinf(expected):
            assert got == expected, f"x={value!r}: got {got!r}, expected {expected!r}"
            continue
        if abs(expected) < SMALLEST_NORMAL:  # subnormal results carry fewer bits by definition
            assert abs(got - expected) < 1e-320, f"x={value!r}: got {got!r}, expected {expected!r}"
            continue
        error = abs(got - expected) / abs(expected) if expected else abs(got)
        if error > worst:
            worst, where = error, value
    return worst, where


@pytest.mark.parametrize("name", sorted(PYTHON_REFERENCE))
def test_libm_accuracy_against_host_libm(host_libm, name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    inputs = _domains(rng)[name]
    worst, where = _worst_relative_error(_function(host_libm, name, 1, ctypes.c_double),
                                         PYTHON_REFERENCE[name], inputs, False)
    # erfc on [0.5, 1) is 1 - erf (erfc >= 0.157 there): a few ulp more.
    tolerance = 6e-15 if name == "erfc" else 2e-15
    assert worst < tolerance, f"{name}: relative error {worst:.3g} at x={where!r}"
    worst, where = _worst_relative_error(_function(host_libm, name + "f", 1, ctypes.c_float),
                                         PYTHON_REFERENCE[name], inputs, True)
    assert worst < 1e-6, f"{name}f: relative error {worst:.3g} at x={where!r}"


def test_libm_binary_functions(host_libm):
    rng = np.random.default_rng(11)
    pow_, atan2_, fmod_ = (_function(host_libm, n, 2, ctypes.c_double) for n in ("pow", "atan2", "fmod"))
    fmodf = _function(host_libm, "fmodf", 2, ctypes.c_float)
    for _ in range(3000):
        x, y = math.exp(rng.uniform(-15, 15)), rng.uniform(-30, 30)
        expected = math.pow(x, y)
        if SMALLEST_NORMAL < expected < 1e308:
            assert abs(pow_(x, y) - expected) <= 1e-13 * expected, (x, y)
        n = float(rng.integers(-40, 40))
        expected = math.pow(-x, n)
        if SMALLEST_NORMAL < abs(expected) < 1e308:
            assert abs(pow_(-x, n) - expected) <= 1e-13 * abs(expected), (-x, n)
        a, b = rng.normal() * 10 ** rng.uniform(-5, 5), rng.normal() * 10 ** rng.uniform(-5, 5)
        assert abs(atan2_(a, b) - math.atan2(a, b)) <= 4e-16 * abs(math.atan2(a, b))
        a, b = rng.normal() * 10 ** rng.uniform(-5, 30), rng.normal() * 10 ** rng.uniform(-5, 5)
        assert fmod_(a, b) == math.fmod(a, b), (a, b)  # exact
        a32, b32 = float(np.float32(a)), float(np.float32(b))
        assert fmodf(a32, b32) == math.fmod(a32, b32), (a32, b32)


def test_libm_special_values(host_libm):
    inf, nan = math.inf, math.nan
    cases = {
        "exp": [(inf, inf), (-inf, 0.0), (0.0, 1.0), (1000.0, inf), (-1000.0, 0.0)],
        "log": [(0.0, -inf), (inf, inf), (1.0, 0.0)], "tanh": [(inf, 1.0), (-inf, -1.0), (-0.0, -0.0)],
        "erf": [(inf, 1.0), (-inf, -1.0), (0.0, 0.0)], "erfc": [(inf, 0.0), (-inf, 2.0)],
        "atan": [(inf, math.pi / 2), (-inf, -math.pi / 2)], "expm1": [(-inf, -1.0), (-0.0, -0.0)],
        "log1p": [(-1.0, -inf), (-0.0, -0.0)], "cbrt": [(-8.0, -2.0), (27.0, 3.0), (-inf, -inf)],
        "sqrt": [(4.0, 2.0), (inf, inf)],
    }
    for name, pairs in cases.items():
        fn = _function(host_libm, name, 1, ctypes.c_double)
        for x, expected in pairs:
            got = fn(x)
            assert got == expected and math.copysign(1, got) == math.copysign(1, expected), (name, x, got)
        for x in (nan,):
            assert math.isnan(fn(x)), name
    for name in ("log", "sqrt", "asin", "acos", "log1p"):
        assert math.isnan(_function(host_libm, name, 1, ctypes.c_double)(-2.0)), name
    pow_ = _function(host_libm, "pow", 2, ctypes.c_double)
    assert pow_(nan, 0.0) == 1.0 and pow_(1.0, nan) == 1.0 and math.isnan(pow_(-2.0, 0.5))
    assert pow_(-0.0, -3.0) == -inf and pow_(0.0, -2.0) == inf and pow_(-inf, 3.0) == -inf
    assert pow_(-1.0, inf) == 1.0 and pow_(0.5, -inf) == inf and pow_(2.0, -inf) == 0.0
    assert pow_(-2.0, 3.0) == -8.0 and pow_(2.0, 0.5) == pytest.approx(math.sqrt(2), rel=1e-15)
