"""Matmul on the systolic array: values on Spike (host JIT where marked), one compile per
kernel, every kernel on npusim, systolic events in the trace, cycles from the timing core."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from compiler.errors import find_unsupported
from npusim import cache, runlog

F32_EPS = torch.finfo(torch.float32).eps


def gemm_tol(k: int) -> dict:
    """A running f32 sum of k products drifts about eps * k times the products' scale."""
    return dict(rtol=1e-4, atol=max(1e-5, 4 * F32_EPS * k))


def run_sizes(fn, cases, tol_k):
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for args in cases:
        expected = fn(*[a.double() for a in args]).float()
        torch.testing.assert_close(compiled(*args), expected, **gemm_tol(tol_k(args)))


def kernel_meta(event) -> dict:
    return json.loads(cache.entry(event["kernel_hash"]).path("kernel.json").read_text())


@pytest.mark.spike
def test_mm_on_spike_one_compile_systolic_events(spike_env):
    shapes = [(64, 32, 48), (100, 32, 48), (129, 32, 48), (1, 1, 1)]
    run_sizes(lambda a, b: a @ b, [(torch.randn(m, k), torch.randn(k, n)) for m, k, n in shapes],
              lambda args: args[0].shape[1])
    # one kernel for every size >= 2; (1, 1, 1) is Dynamo's specialisation (CONTRACTS.md section 7)
    compiles = runlog.events("compile", spike_env)
    assert len(compiles) == 2 and "matmul" in kernel_meta(compiles[0])
    launches = runlog.events("launch", spike_env)
    assert [e["functional"] for e in launches] == ["spike"] * len(shapes)
    assert all(e["cycles"] > 0 for e in launches)
    launches = [e for e in launches if e["kernel_hash"] == compiles[0]["kernel_hash"]]
    assert len(launches) == 3 and len({e["elf"] for e in launches}) == 1
    by_m = {e["shape_args"][_role(compiles[0], "M")]: e["cycles"] for e in launches}
    assert by_m[64] <= by_m[100] <= by_m[129]


def _role(compile_event, role: str) -> str:
    return next(a["name"] for a in kernel_meta(compile_event)["args"] if a.get("role") == role)


@pytest.mark.spike
def test_linear_with_bias_on_spike(spike_env):
    w, b = torch.randn(48, 32), torch.randn(48)
    run_sizes(lambda x, w, b: F.linear(x, w, b), [(torch.randn(n, 32), w, b) for n in (7, 129, 1)],
              lambda args: 32)
    # batch 7 and 129 share one kernel; batch 1 is Dynamo's specialisation
    assert len(runlog.events("compile", spike_env)) == 2
    launches = runlog.events("launch", spike_env)
    assert [e["functional"] for e in launches] == ["spike"] * 3
    assert launches[0]["kernel_hash"] == launches[1]["kernel_hash"]


@pytest.mark.spike
def test_bmm_dynamic_batch_odd_dims_on_spike(spike_env):
    cases = [(torch.randn(b, m, k), torch.randn(b, k, n)) for b, m, k, n in ((3, 5, 7, 9), (5, 13, 11, 3), (1, 3, 3, 5))]
    run_sizes(torch.bmm, cases, lambda args: args[0].shape[2])
    # batch 3 and 5 share one kernel; batch 1 is Dynamo's specialisation
    assert len(runlog.events("compile", spike_env)) == 2
    launches = runlog.events("launch", spike_env)
    assert len(launches) == 3 and launches[0]["kernel_hash"] == launches[1]["kernel_hash"]


def test_transposed_operands_are_strides_not_copies(npusim_env):
    """a.t() @ b.t(): one kernel (the matmul), reading both operands through their strides."""
    run_sizes(lambda a, b: a.t() @ b.t(), [(torch.randn(33, 17), torch.randn(5, 33)), (torch.randn(40, 9),
                                                                                    torch.randn(7, 40))],
              lambda args: args[0].shape[0])
    compiles = runlog.events("compile", npusim_env)
    assert len(compiles) == 1 and "matmul" in kernel_meta(compiles[0])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_accumulates_in_f32(npusim_env, dtype):
    """K = 4096 products of 1 + a 0.001-sized term: a f16/bf16 running sum would stall at 2048
    (f16) or 256 (bf16); an f32 accumulator gets within one output rounding of the true sum."""
    k = 4096
    a = torch.ones(3, k, dtype=dtype)
    b = torch.ones(k, 5, dtype=dtype)
    out = torch.compile(lambda a, b: a @ b, backend="npusim", dynamic=True)(a, b)
    assert out.dtype == dtype
    torch.testing.assert_close(out.float(), torch.full((3, 5), float(k)), rtol=0, atol=0)


def test_k_zero_gives_zeros_or_the_bias(npusim_env):
    a, b, bias = torch.randn(5, 0), torch.randn(0, 7), torch.randn(7)
    mm = torch.compile(lambda a, b: a @ b, backend="npusim", dynamic=True)
    torch.testing.assert_close(mm(a, b), torch.zeros(5, 7))
    addmm = torch.compile(lambda c, a, b: torch.addmm(c, a, b), backend="npusim", dynamic=True)
    torch.testing.assert_close(addmm(bias, a, b), bias.expand(5, 7))


def test_addmm_scaled_bmm_baddbmm_matmul_einsum(npusim_env):
    cases = {
        "addmm_scaled": (lambda c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=2.0),
                         (torch.randn(5, 7), torch.randn(5, 3), torch.randn(3, 7))),
        "baddbmm": (torch.baddbmm, (torch.randn(3, 5, 7), torch.randn(3, 5, 4), torch.randn(3, 4, 7))),
        "matmul_3d_2d": (lambda a, b: a @ b, (torch.randn(3, 5, 4), torch.randn(4, 7))),
        "matmul_4d": (lambda a, b: a @ b, (torch.randn(2, 3, 5, 4), torch.randn(2, 3, 4, 7))),
        "einsum": (lambda a, b: torch.einsum("bij,bjk->bik", a, b), (torch.randn(2, 5, 4), torch.randn(2, 4, 7))),
    }
    for name, (fn, args) in cases.items():
        torch._dynamo.reset()
        out = torch.compile(fn, backend="npusim", dynamic=True)(*args)
        torch.testing.assert_close(out, fn(*args), rtol=1e-4, atol=1e-5, msg=lambda m: f"{name}: {m}")
    matmuls = [e for e in runlog.events("compile", npusim_env) if "matmul" in kernel_meta(e)]
    assert len(matmuls) == len(cases)


def test_matmul_lowerings_are_restored_outside_the_backend(npusim_env):
    from torch._inductor.lowering import lowerings

    from compiler.matmul import MATMUL_LOWERINGS

    torch.compile(lambda a, b: a @ b, backend="npusim", dynamic=True)(torch.randn(3, 4), torch.randn(4, 5))
    assert all(lowerings[torch.ops.aten.mm.default] is not fn for fn in MATMUL_LOWERINGS.values())


def test_integer_matmul_is_refused_by_name(npusim_env):
    a = torch.randint(-5, 5, (3, 4), dtype=torch.int32)
    with pytest.raises(Exception) as err:
        torch.compile(lambda a, b: a @ b, backend="npusim", dynamic=True)(a, a.t().contiguous())
    unsupported = find_unsupported(err.value)
    assert unsupported is not None and unsupported.op == "aten.mm", repr(err.value)


def test_mlp_forward_and_backward(npusim_env):
    """nn.Linear -> GELU -> nn.Linear over a dynamic batch, and its backward (mm of transposed grads)."""
    mlp = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.GELU(), torch.nn.Linear(64, 10))
    compiled = torch.compile(mlp, backend="npusim", dynamic=True)
    with torch.no_grad():
        for batch in (7, 33):
            x = torch.randn(batch, 32)
            torch.testing.assert_close(compiled(x), mlp(x), rtol=1e-4, atol=1e-5)
    x = torch.randn(5, 32, requires_grad=True)
    compiled(x).sum().backward()
    grad, x.grad = x.grad.clone(), None
    mlp(x).sum().backward()
    torch.testing.assert_close(grad, x.grad, rtol=1e-4, atol=1e-5)
    matmuls = [e for e in runlog.events("compile", npusim_env) if "matmul" in kernel_meta(e)]
    assert len(matmuls) >= 4  # two forward layers, and the backward's input gradients


@pytest.mark.parametrize("name, fn", [
    ("x@x.t()", lambda x: x @ x.t()),
    ("x.t()@x", lambda x: x.t() @ x),
    ("addmm(x,x,x.t())", lambda x: torch.addmm(x, x, x.t())),
])
def test_one_buffer_as_two_operands(spike_env, name, fn):
    """Regression: strides were kept per buffer name, so x @ x.t() read B with A's strides
    (wrong values, no error)."""
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for shape in ((4, 4), (6, 6), (9, 9)):
        x = torch.randn(*shape)
        torch.testing.assert_close(compiled(x), fn(x), rtol=1e-4, atol=1e-4)
