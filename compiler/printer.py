"""Index printer: sympy index expressions -> MLIR `i64` arithmetic.

Address arithmetic stays in i64 (not `index`) so the trace skeleton can lower
it to EmitC unchanged; values are cast to `index` only where a memref needs
one. Dynamic divisors (FloorDiv / ModularIndexing by a size symbol) are not
affine, so they become arith ops, never affine maps.
"""

from __future__ import annotations

import sympy
from mlir import ir
from mlir.dialects import arith
from compiler.errors import UnsupportedOp


def i64_type() -> ir.Type:
    return ir.IntegerType.get_signless(64)


def const_i64(value: int) -> ir.Value:
    return arith.constant(i64_type(), int(value))


def const_index(value: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), int(value))


def to_index(value: ir.Value) -> ir.Value:
    return arith.index_cast(ir.IndexType.get(), value)


def to_i64(value: ir.Value) -> ir.Value:
    return arith.index_cast(i64_type(), value)


class IndexPrinter:
    """Emits an i64 value for a sympy expression; `env` maps each free symbol to an i64 value.

    Dispatch is by class name (`_print_FloorDiv` for torch's FloorDiv, ...), as sympy printers do.
    """

    def __init__(self, env: dict[sympy.Symbol, ir.Value]):
        self.env = env

    def __call__(self, expr) -> ir.Value:
        expr = sympy.sympify(expr)
        method = getattr(self, f"_print_{type(expr).__name__}", None)
        if method is not None:
            return method(expr)
        if expr.is_Integer:
            return const_i64(int(expr))
        if expr.is_Symbol:
            return self._print_Symbol(expr)
        raise UnsupportedOp(f"index:{type(expr).__name__}", f"cannot lower index expression {expr}")

    def _print_Symbol(self, expr):
        if expr not in self.env:
            raise UnsupportedOp("index", f"symbol {expr} has no value in this scope")
        return self.env[expr]

    def _fold(self, expr, op):
        terms = [self(arg) for arg in expr.args]
        value = terms[0]
        for term in terms[1:]:
            value = op(value, term)
        return value

    def _print_Add(self, expr):
        return self._fold(expr, arith.addi)

    def _print_Mul(self, expr):
        return self._fold(expr, arith.muli)

    def _print_Pow(self, expr):
        base, exp = expr.args
        if not (exp.is_Integer and int(exp) >= 0):
            raise UnsupportedOp("index:Pow", f"non-integer power in index {expr}")
        value = const_i64(1)
        for _ in range(int(exp)):
            value = arith.muli(value, self(base))
        return value

    def _print_FloorDiv(self, expr):
        return arith.floordivsi(self(expr.args[0]), self(expr.args[1]))

    def _print_CleanDiv(self, expr):
        return arith.divsi(self(expr.args[0]), self(expr.args[1]))

    def _print_ModularIndexing(self, expr):
        base, divisor, modulus = expr.args
        quotient = self(base) if divisor == 1 else arith.floordivsi(self(base), self(divisor))
        return arith.remsi(quotient, self(modulus))

    def _print_PythonMod(self, expr):
        # operands are non-negative index values, where remsi equals Python's %
        return arith.remsi(self(expr.args[0]), self(expr.args[1]))

    _print_Mod = _print_PythonMod

    def _print_Min(self, expr):
        return self._fold(expr, arith.minsi)

    def _print_Max(self, expr):
        return self._fold(expr, arith.maxsi)

    def _print_Identity(self, expr):
        return self(expr.args[0])

    # reflection and circular padding index through |i| and a branch (pad.reflect's source index is
    # Where(k - |..| - 1 < 0, 2k - |..| - 1, k - |..| - 1)): both arms are integer, so arith.select
    def _print_Abs(self, expr):
        value = self(expr.args[0])
        negative = arith.cmpi(arith.CmpIPredicate.slt, value, const_i64(0))
        return arith.select(negative, arith.subi(const_i64(0), value), value)

    def _print_Where(self, expr):
        condition, if_true, if_false = expr.args
        return arith.select(self.condition(condition), self(if_true), self(if_false))

    _COMPARISONS = {"StrictLessThan": "slt", "LessThan": "sle", "StrictGreaterThan": "sgt",
                    "GreaterThan": "sge", "Equality": "eq", "Unequality": "ne"}

    def condition(self, expr) -> ir.Value:
        """An i1 for a sympy condition over index values (a comparison, And, Or, Not, True, False)."""
        name = type(expr).__name__
        if name in self._COMPARISONS:
            return arith.cmpi(getattr(arith.CmpIPredicate, self._COMPARISONS[name]), self(expr.lhs), self(expr.rhs))
        if name in ("And", "Or"):
            values = [self.condition(arg) for arg in expr.args]
            value = values[0]
            for other in values[1:]:
                value = arith.andi(value, other) if name == "And" else arith.ori(value, other)
            return value
        if name == "Not":
            return arith.xori(self.condition(expr.args[0]), arith.constant(ir.IntegerType.get_signless(1), 1))
        if name in ("BooleanTrue", "BooleanFalse"):
            return arith.constant(ir.IntegerType.get_signless(1), int(name == "BooleanTrue"))
        raise UnsupportedOp(f"index:{name}", f"cannot lower index condition {expr}")


# Sympy nodes that make a size expression float-valued (Inductor's true division of sizes).
_FLOAT_NODES = ("FloatTrueDiv", "IntTrueDiv", "ToFloat")


def is_float_valued(expr) -> bool:
    """Whether a size expression used as a value is a float: batch_norm's unbiased correction
    n / (n - 1.0) is FloatTrueDiv(IntTrueDiv(..), IntTrueDiv(..) - 1.0)."""
    return any(type(node).__name__ in _FLOAT_NODES or node.is_Float for node in sympy.preorder_traversal(expr))


class FloatValuePrinter:
    """Emits an f64 value for a float-valued size expression: its integer parts through IndexPrinter,
    then float arithmetic, so n / (n - 1) rounds once per operation as Python's does on the host."""

    def __init__(self, env: dict[sympy.Symbol, ir.Value]):
        self.ints = IndexPrinter(env)

    def __call__(self, expr) -> ir.Value:
        expr = sympy.sympify(expr)
        f64 = ir.F64Type.get()
        if not is_float_valued(expr):
            return arith.sitofp(f64, self.ints(expr))
        name = type(expr).__name__
        if name in ("FloatTrueDiv", "IntTrueDiv"):
            return arith.divf(self(expr.args[0]), self(expr.args[1]))
        if name == "ToFloat":
            return self(expr.args[0])
        if expr.is_Float:
            return arith.constant(f64, float(expr))
        if isinstance(expr, sympy.Add):
            terms = [self(arg) for arg in expr.args]
            value = terms[0]
            for term in terms[1:]:
                value = arith.addf(value, term)
            return value
        if isinstance(expr, sympy.Mul):
            terms = [self(arg) for arg in expr.args]
            value = terms[0]
            for term in terms[1:]:
                value = arith.mulf(value, term)
            return value
        raise UnsupportedOp(f"index:{name}", f"cannot lower float size expression {expr}")
