"""Index printer: sympy index expressions -> MLIR `i64` arithmetic.

Address arithmetic stays in i64 (not `index`) so the trace skeleton can lower
it to EmitC unchanged; values are cast to `index` only where a memref needs
one. Dynamic divisors (FloorDiv / ModularIndexing by a size symbol) are not
affine, so they become arith ops, never affine maps.
"""

from __future__ import annotations

import functools

import sympy
from mlir import ir
from mlir.dialects import arith
from mlir.dialects import math as mmath
from compiler.errors import UnsupportedOp

# torch's sympy functions whose value is a float (a softmax scale 1/sqrt(head_dim) when the head
# dim is a size symbol): an expression holding one is printed in f64, as sympy evaluates it.
FLOAT_FUNCTIONS = {"ToFloat", "FloatTrueDiv", "IntTrueDiv", "FloatPow", "OpaqueUnaryFn_sqrt"}


def is_float_expr(expr) -> bool:
    expr = sympy.sympify(expr)
    return any(node.is_Float or type(node).__name__ in FLOAT_FUNCTIONS for node in sympy.preorder_traversal(expr))


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


def while_loop(types: list, inits: list, condition, body) -> list:
    """An `scf.while` carrying `inits` (of `types`): while `condition(*values)` holds, the values become
    `body(*values)`; returns the values it ends with."""
    from mlir.dialects import scf

    loop = scf.WhileOp(types, inits)
    before = loop.before.blocks.append(*types)
    with ir.InsertionPoint(before):
        scf.ConditionOp(condition(*before.arguments), list(before.arguments))
    after = loop.after.blocks.append(*types)
    with ir.InsertionPoint(after):
        scf.YieldOp(body(*after.arguments))
    return list(loop.results)


def python_mod(value: ir.Value, modulus: ir.Value) -> ir.Value:
    """Python's %, whose result takes the modulus's sign: remsi takes the dividend's, and an index
    such as roll's (i + (s - shift) % s) % s has a negative dividend when the shift exceeds s."""
    remainder = arith.remsi(value, modulus)
    zero = const_i64(0)
    signs_differ = arith.xori(arith.cmpi(arith.CmpIPredicate.slt, remainder, zero),
                              arith.cmpi(arith.CmpIPredicate.slt, modulus, zero))
    wrong_sign = arith.andi(arith.cmpi(arith.CmpIPredicate.ne, remainder, zero), signs_differ)
    return arith.select(wrong_sign, arith.addi(remainder, modulus), remainder)


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
        return functools.reduce(op, [self(arg) for arg in expr.args])

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
        return self._mod(quotient, self(modulus), base, modulus)

    def _print_PythonMod(self, expr):
        return self._mod(self(expr.args[0]), self(expr.args[1]), *expr.args)

    @staticmethod
    def _mod(value: ir.Value, modulus: ir.Value, value_expr, modulus_expr) -> ir.Value:
        if value_expr.is_nonnegative and modulus_expr.is_positive:
            return arith.remsi(value, modulus)  # the usual index: remsi is Python's % already
        return python_mod(value, modulus)

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


class FloatExprPrinter:
    """Emits an f64 value for a sympy expression with float parts (`is_float_expr`); its integer
    sub-expressions go through `IndexPrinter` and are converted once."""

    def __init__(self, env: dict[sympy.Symbol, ir.Value]):
        self.ints = IndexPrinter(env)

    def __call__(self, expr) -> ir.Value:
        expr = sympy.sympify(expr)
        if not is_float_expr(expr):
            if expr.is_Rational and not expr.is_Integer:
                return arith.constant(ir.F64Type.get(), float(expr))
            return arith.sitofp(ir.F64Type.get(), self.ints(expr))
        if expr.is_Float:
            return arith.constant(ir.F64Type.get(), float(expr))
        method = getattr(self, f"_print_{type(expr).__name__}", None)
        if method is None:
            raise UnsupportedOp(f"index:{type(expr).__name__}", f"cannot lower float index expression {expr}")
        return method(expr)

    def _fold(self, expr, op):
        return functools.reduce(op, [self(arg) for arg in expr.args])

    def _print_Add(self, expr):
        return self._fold(expr, arith.addf)

    def _print_Mul(self, expr):
        return self._fold(expr, arith.mulf)

    def _print_ToFloat(self, expr):
        return self(expr.args[0])

    def _print_FloatTrueDiv(self, expr):
        return arith.divf(self(expr.args[0]), self(expr.args[1]))

    _print_IntTrueDiv = _print_FloatTrueDiv

    def _print_FloatPow(self, expr):
        return mmath.powf(self(expr.args[0]), self(expr.args[1]))

    _print_Pow = _print_FloatPow

    def _print_OpaqueUnaryFn_sqrt(self, expr):
        return mmath.sqrt(self(expr.args[0]))

    # var's divisor max(0, N - correction) (native_layer_norm's Max(0.0, 2*ks0))
    def _print_Max(self, expr):
        return self._fold(expr, arith.maximumf)

    def _print_Min(self, expr):
        return self._fold(expr, arith.minimumf)
