"""Epilogue fusion on the matmul's C tile (compiler/epilogue.py): the pointwise nodes Inductor
schedules after an mm / addmm / bmm run inside the matmul kernel, before its store. Each case
is compiled twice, with Inductor's epilogue fusion on and off: one kernel fewer when on, and
the values of both equal eager (on Spike, with tails in M and N on the 8x8-array config)."""

from __future__ import annotations

import json
import re

import pytest
import torch
import torch.nn.functional as F
from torch._inductor import config as inductor_config

from compiler.errors import UnsupportedOp
from npusim import cache, runlog

W, BIAS = torch.randn(40, 24), torch.randn(40)

CASES = {
    "linear+relu": (lambda x: F.relu(F.linear(x, W, BIAS)), lambda m: (torch.randn(m, 24),)),
    "linear+gelu": (lambda x: F.gelu(F.linear(x, W, BIAS)), lambda m: (torch.randn(m, 24),)),
    # a residual block's add after the activation (a bare mm + r is Inductor's addmm already)
    "mm+silu+residual": (lambda a, b, r: r + F.silu(a @ b), lambda m: (torch.randn(m, 24), torch.randn(24, 40),
                                                                     torch.randn(m, 40))),
    "bmm+relu*scale": (lambda a, b, s: torch.relu(torch.bmm(a, b)) * s,
                       lambda m: (torch.randn(2, m, 24), torch.randn(2, 24, 40), torch.randn(40))),
}


def _kernels(log) -> list[dict]:
    return [json.loads(cache.entry(e["kernel_hash"]).path("kernel.json").read_text())
            for e in runlog.events("compile", log)]


def _compile_and_check(fn, make, sizes, tol):
    torch._dynamo.reset()
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for m in sizes:
        args = make(m)
        torch.testing.assert_close(compiled(*args), fn(*args), **tol)


@pytest.fixture
def small_array_spike(npusim_env, monkeypatch):
    """8x8 arrays: a C tile is 64 x 64, so M = 70 and N = 40 give tails in both."""
    monkeypatch.setenv("NPUSIM_CONFIG", "small-8x8")
    monkeypatch.setenv("NPUSIM_FUNCTIONAL", "spike")
    monkeypatch.setenv("NPUSIM_TRACE", "1")
    return npusim_env


@pytest.mark.spike
@pytest.mark.parametrize("name", list(CASES))
def test_epilogue_runs_on_the_c_tile_one_kernel_fewer(small_array_spike, tmp_path, monkeypatch, name):
    fn, make = CASES[name]
    tol = dict(rtol=1e-4, atol=1e-4)
    unfused_log = tmp_path / "unfused.jsonl"
    monkeypatch.setenv("NPUSIM_RUNLOG", str(unfused_log))
    with inductor_config.patch(epilogue_fusion=False):
        _compile_and_check(fn, make, (70, 9), tol)
    monkeypatch.setenv("NPUSIM_RUNLOG", str(small_array_spike))
    _compile_and_check(fn, make, (70, 9), tol)
    unfused, fused = _kernels(unfused_log), _kernels(small_array_spike)
    assert len(fused) == len(unfused) - 1, ([k["name"] for k in unfused], [k["name"] for k in fused])
    assert len(fused) == 1 and "matmul" in fused[0]
    launches = runlog.events("launch", small_array_spike)
    assert [e["functional"] for e in launches] == ["spike"] * 2 and all(e["cycles"] > 0 for e in launches)
    # the epilogue is vector work on the C tile in the trace: a compute tile that reads the accumulator
    mlir = cache.entry(fused[0]["hash"]).path("kernel.mlir").read_text()
    after_array = mlir.split('unit = "systolic"')
    assert len(after_array) == 2
    assert re.search(r'npusim.compute = \{reads = \[0[,\]][^}]*unit = "vector"', after_array[1])


def test_f16_epilogue_and_c_kept_when_used_outside(npusim_env):
    """C stays an output when the graph returns it too; a f16 C is rounded before the epilogue
    reads it, as the unfused kernels would."""
    def fn(x, w, b):
        y = F.linear(x, w, b)
        return y, torch.relu(y).float() * 2

    w, b = torch.randn(40, 24).half(), torch.randn(40).half()
    _compile_and_check(fn, lambda m: (torch.randn(m, 24).half(), w, b), (7, 33), dict(rtol=1e-2, atol=1e-2))
    assert len(_kernels(npusim_env)) == 1


@pytest.mark.parametrize("fn, kernels", [
    (lambda a, b: (lambda y: y + y.t())(a @ b), 2),    # reads C transposed: not elementwise
    (lambda a, b: (a @ b).sum(1), 2),                 # a reduction
    (lambda a, b: torch.relu(a @ b).t().contiguous(), 2),  # writes C's element elsewhere than it reads
    (lambda a, b: torch.tril(a @ b), 1),              # index_expr on C's coordinates
    (lambda a, b: (a @ b) * a[:, :1], 1),             # a column of C broadcast
])
def test_what_fuses_and_what_does_not(npusim_env, fn, kernels):
    _compile_and_check(fn, lambda m: (torch.randn(m, m), torch.randn(m, m)), (6, 11), dict(rtol=1e-4, atol=1e-4))
    assert len(_kernels(npusim_env)) == kernels


def test_an_epilogue_the_recorder_refuses_runs_unfused(npusim_env, monkeypatch):
    """The fallback: the template alone, then the epilogue as a kernel of its own (logged)."""
    from compiler import epilogue

    def refuse(*args, **kwargs):
        raise UnsupportedOp("matmul epilogue", "refused by the test")

    monkeypatch.setattr(epilogue, "record", refuse)
    _compile_and_check(lambda a, b: torch.relu(a @ b), lambda m: (torch.randn(m, 5), torch.randn(5, 7)), (3, 9),
                       dict(rtol=1e-4, atol=1e-4))
    assert len(_kernels(npusim_env)) == 2
    assert [e["reason"] for e in runlog.events("epilogue_unfused", npusim_env)] == \
        ["npusim backend cannot lower op 'matmul epilogue': refused by the test"]
