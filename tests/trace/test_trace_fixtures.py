"""The kernel fixtures are real kernels: on the host JIT they compute what they claim
(the rowsum's clamped tail and accumulator included), and so do the one-tile samples
the cost table is built from."""

from __future__ import annotations

import ctypes

import mlir.ir as ir
import numpy as np
import pytest
from mlir.execution_engine import ExecutionEngine
from mlir.passmanager import PassManager
from mlir.runtime import get_ranked_memref_descriptor

from simulator.trace.cost import outline_tile, pin_loops_to_one_tile

TO_LLVM = ("builtin.module(convert-linalg-to-loops, lower-affine, convert-scf-to-cf, expand-strided-metadata, "
           "finalize-memref-to-llvm, convert-math-to-llvm, convert-arith-to-llvm, convert-index-to-llvm, convert-cf-to-llvm, "
           "convert-func-to-llvm, reconcile-unrealized-casts)")


def _jit(text: str):
    context = ir.Context()
    with context:
        module = ir.Module.parse(text)
        PassManager.parse(TO_LLVM).run(module.operation)
        return ExecutionEngine(module, opt_level=2), context


def _run(engine, tensors, sizes):
    args = [ctypes.pointer(ctypes.pointer(get_ranked_memref_descriptor(t))) for t in tensors]
    args += [ctypes.pointer(ctypes.c_int64(s)) for s in sizes]
    engine.invoke("kernel", *args)


def test_add_fixture_adds(add_kernel):
    engine, _ctx = _jit(add_kernel["mlir"])
    rng = np.random.default_rng(0)
    for n in (1, 100, 1000, 1024, 3000):
        a, b = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32)
        out = np.zeros(n, np.float32)
        _run(engine, (a, b, out), (n,))
        np.testing.assert_allclose(out, a + b)


def test_gather_fixture_gathers(gather_kernel):
    engine, _ctx = _jit(gather_kernel["mlir"])
    rng = np.random.default_rng(2)
    for n, ks0 in ((1000, 7), (2048, 1000)):
        a, b = rng.random(n, dtype=np.float32), rng.random(ks0, dtype=np.float32)
        out = np.zeros(n, np.float32)
        _run(engine, (a, b, out), (n, ks0))
        np.testing.assert_allclose(out, a + b[np.arange(n) % ks0])


@pytest.mark.parametrize("s0,s1", [(1, 1), (8, 128), (9, 129), (17, 300), (3, 1000)])
def test_rowsum_fixture_sums_rows(rowsum_kernel, s0, s1):
    engine, _ctx = _jit(rowsum_kernel["mlir"])
    x = np.random.default_rng(1).random(s0 * s1, dtype=np.float32)
    out = np.zeros(s0, np.float32)
    _run(engine, (x, out), (s0, s1))
    np.testing.assert_allclose(out, x.reshape(s0, s1).sum(1), rtol=1e-5)


@pytest.mark.parametrize("s0,s1", [(1, 1), (9, 129), (3, 1000)])
def test_softmax_fixture_normalises_rows(softmax_kernel, s0, s1):
    engine, _ctx = _jit(softmax_kernel["mlir"])
    x = np.random.default_rng(3).standard_normal(s0 * s1).astype(np.float32)
    out = np.zeros(s0 * s1, np.float32)
    _run(engine, (x, out), (s0, s1))
    rows = x.reshape(s0, s1)
    expected = np.exp(rows - rows.max(1, keepdims=True))
    np.testing.assert_allclose(out.reshape(s0, s1), expected / expected.sum(1, keepdims=True), rtol=1e-5)


def test_pinned_sample_touches_one_tile_only(add_kernel):
    engine, _ctx = _jit(pin_loops_to_one_tile(add_kernel["mlir"]))
    n = 4096
    a, b = np.ones(n, np.float32), np.ones(n, np.float32)
    out = np.zeros(n, np.float32)
    _run(engine, (a, b, out), (n,))
    assert (out[:1024] == 2).all() and (out[1024:] == 0).all()


@pytest.mark.parametrize("fixture,tiles", [("rowsum_kernel", 2), ("softmax_kernel", 4), ("add_kernel", 1)])
def test_outlined_tile_samples_still_compute_the_first_tile(fixture, tiles, request):
    kernel = request.getfixturevalue(fixture)
    pinned = pin_loops_to_one_tile(kernel["mlir"])
    reference, _ctx = _jit(pinned)
    n_inputs = sum(1 for a in kernel["meta"]["args"] if a["kind"] == "input")
    n_outputs = sum(1 for a in kernel["meta"]["args"] if a["kind"] == "output")
    sizes = [300] * len(kernel["meta"]["size_args"])
    numel = 300 ** len(sizes)
    rng = np.random.default_rng(4)
    inputs = [rng.random(numel, dtype=np.float32) for _ in range(n_inputs)]
    expected = [np.zeros(numel, np.float32) for _ in range(n_outputs)]
    _run(reference, (*inputs, *expected), sizes)
    for tile_id in range(tiles):
        engine, _ctx2 = _jit(outline_tile(pinned, tile_id))
        outputs = [np.zeros(numel, np.float32) for _ in range(n_outputs)]
        _run(engine, (*inputs, *outputs), sizes)
        for got, want in zip(outputs, expected):
            np.testing.assert_allclose(got, want, rtol=1e-6)
