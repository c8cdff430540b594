"""Nothing runs on the host unseen: extern/fallback kernels are refused, in subgraphs too,
and every kernel a compiled graph schedules must launch (issue 11)."""

from __future__ import annotations

import pytest
import torch

from compiler import UnsupportedOp, find_unsupported
from harness import checks
from npusim import runlog


def refusal(fn, *args) -> UnsupportedOp:
    with pytest.raises(Exception) as excinfo:
        torch.compile(fn, backend="npusim", dynamic=True)(*args)
    unsupported = find_unsupported(excinfo.value)
    assert unsupported is not None, f"not an UnsupportedOp: {excinfo.value!r}"
    return unsupported


def test_matmul_inside_torch_cond_lowers_fully_on_npusim(npusim_env):
    """The issue's program: mm lowers to the systolic template now, in the subgraph too."""
    def fn(x):
        return torch.cond(x.sum() > 0, lambda x: (x @ x.t()).sin(), lambda x: x.cos(), (x,))

    # square inputs: at (6, 3) the branches' outputs differ in shape, which stock Inductor at
    # torch 2.13 does not compile either (NameError: u0); tests/compiler/test_layout_dims.py
    # has a non-square cond with a strided output
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for x in (torch.randn(4, 4).abs(), -torch.randn(6, 6).abs(), torch.randn(9, 9).abs()):
        torch.testing.assert_close(compiled(x), fn(x), rtol=1e-4, atol=1e-4)
    launched = {e["kernel_hash"] for e in runlog.events("launch", npusim_env)}
    scheduled = {h for call in runlog.events("graph_call", npusim_env) for h in call["kernels"]}
    assert scheduled and scheduled <= launched


def test_extern_inside_torch_cond_is_refused(npusim_env):
    def fn(x):
        return torch.cond(x.sum() > 0, lambda x: (x + torch.histc(x, 4).sum()).sin(), lambda x: x.cos(), (x,))

    unsupported = refusal(fn, torch.randn(4, 4))
    assert unsupported.op == "histc" and "subgraph" in str(unsupported), str(unsupported)
    assert not runlog.events("launch", npusim_env), "nothing may run before the refusal"


def test_bernoulli_between_two_kernels_is_refused(npusim_env):
    unsupported = refusal(lambda x: torch.bernoulli(x.sigmoid(), 0.5) + 1, torch.randn(8))
    assert unsupported.op == "bernoulli"
    assert not runlog.events("launch", npusim_env)


def test_host_copy_is_refused(npusim_env):
    def fn(x, y):
        x.copy_(y.to(torch.complex64).real)  # complex copy: InplaceCopyFallback on the host
        return x + 1

    unsupported = refusal(fn, torch.randn(8), torch.randn(8))
    assert unsupported.op


def test_torch_cond_of_npusim_kernels_records_each_graph(npusim_env):
    def fn(x):
        return torch.cond(x.sum() > 0, lambda x: x.sin(), lambda x: x.cos(), (x,))

    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for sign in (1, -1, 1):
        x = torch.rand(5, 3) * sign
        torch.testing.assert_close(compiled(x), fn(x))
    graphs = runlog.events("graph", npusim_env)
    assert sorted(g["subgraph"] for g in graphs) == [False, True, True]
    assert all(len(g["kernels"]) == 1 for g in graphs)
    calls = runlog.events("graph_call", npusim_env)
    assert len(calls) == 6  # main + the branch taken, three times
    checks.check_kernel_launched(runlog.events("launch", npusim_env), calls)


def test_a_scheduled_kernel_that_did_not_launch_is_caught(npusim_env, monkeypatch):
    """A kernel whose call is skipped (its work left to something else) fails the launch check."""
    from compiler import launcher

    real_call = launcher.NpusimKernel.__call__
    skipped = []

    def skip_the_first(self, *args):
        if not skipped:
            skipped.append(self.name)
            return None
        return real_call(self, *args)

    monkeypatch.setattr(launcher.NpusimKernel, "__call__", skip_the_first)
    torch.compile(lambda x, y: (x.sin(), y.sum(-1)), backend="npusim", dynamic=True)(torch.randn(7),
                                                                                       torch.randn(3, 5))
    launches, calls = runlog.events("launch", npusim_env), runlog.events("graph_call", npusim_env)
    assert skipped and launches and len(calls[0]["kernels"]) == 2
    with pytest.raises(AssertionError, match="scheduled did not launch"):
        checks.check_kernel_launched(launches, calls)


def test_graph_breaks_are_recorded_with_their_reason(npusim_env):
    def fn(x):
        y = x.sin()
        z = y[y > 0]  # nonzero: data-dependent shape, a graph break without fullgraph=True
        return z.cos()

    x = torch.randn(16)
    torch.testing.assert_close(torch.compile(fn, backend="npusim", dynamic=True)(x), fn(x))
    breaks = runlog.events("graph_break", npusim_env)
    assert breaks and any("nonzero" in b["detail"] for b in breaks), breaks
    assert all(b["reason"] and "\n" not in b["reason"] for b in breaks)
