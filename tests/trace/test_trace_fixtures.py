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


def test_scatter_fixture_scatters(scatter_kernel):
    engine, _ctx = _jit(scatter_kernel["mlir"])
    rng = np.random.default_rng(4)
    for rows, cols in ((3, 7), (5, 1000)):
        n = rows * cols
        a, b = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32)
        out = np.zeros(n, np.float32)
        _run(engine, (a, b, out), (n, cols))
        np.testing.assert_allclose(out, (a + b).reshape(rows, cols).T.reshape(-1))


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
