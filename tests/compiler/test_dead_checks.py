"""Checks that could never fire now do: MLIR verification failures and unchecked indirect bounds."""

from __future__ import annotations

import pytest
import sympy
from mlir import ir
from mlir.dialects import func

from compiler.errors import UnsupportedOp
from compiler.kernel import NpuKernel
from npusim.mlir_verify import verify


def broken_module(name: str | None):
    module = ir.Module.create()
    if name:
        module.operation.attributes["npusim.kernel_name"] = ir.StringAttr.get(name)
    i32, i64 = ir.IntegerType.get_signless(32), ir.IntegerType.get_signless(64)
    with ir.InsertionPoint(module.body):
        function = func.FuncOp("kernel", ir.FunctionType.get([i32], [i64]))
        block = function.add_entry_block()
        with ir.InsertionPoint(block):
            func.ReturnOp([block.arguments[0]])  # i32 returned as i64: does not verify
    return module


def test_a_module_that_does_not_verify_raises_naming_the_kernel():
    with ir.Context(), ir.Location.unknown():
        with pytest.raises(ValueError, match=r"(?s)the skeleton of kernel npusim_add_0 does not verify: .*i64"):
            verify(broken_module("npusim_add_0"), ValueError, "the skeleton")
        with pytest.raises(ValueError, match="of kernel sample_7 does not verify"):
            verify(broken_module(None), ValueError, "a cost sample", "sample_7")
        module = broken_module("ok")
        module.body.operations[0].erase()
        verify(module, ValueError, "an empty module")  # a valid module passes


def test_bounds_of_an_indirect_index_are_not_skipped():
    kernel = NpuKernel.__new__(NpuKernel)
    with pytest.raises(UnsupportedOp, match="indirect_indexing"):
        kernel.check_bounds(sympy.Symbol("tmp0"), sympy.Symbol("ks0"), True, True)
    kernel.check_bounds(sympy.Symbol("tmp0"), sympy.Symbol("ks0"), False, False)  # nothing asked: nothing to do
