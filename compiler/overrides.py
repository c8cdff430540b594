"""Ops overrides: one entry per Inductor pointwise op, recorded as a tile-program node.

Each method returns a key string (also Inductor's CSE key); the kernel binds
the key to the node when CSE creates the variable. Every op not listed raises
UnsupportedOp naming it, so nothing silently computes elsewhere.
"""

from __future__ import annotations

import sympy
import torch
from torch._inductor.codegen.common import OpDecompositions, OptimizationContext
from torch._inductor.ops_handler import OpsHandler
from torch._inductor.virtualized import V, ops

from compiler.errors import UnsupportedOp
from compiler.tile_ir import Constant, Op

# Ops the emitter lowers directly (see emitter.ELEMENTWISE). Others come from
# Inductor's OpDecompositions (sigmoid, relu, reciprocal, square, log2, log10, fma,
# remainder, identity, mul_rn, div_rn, *_to_int). Not its log1p = log(x + 1) and
# exp2 = exp(x * ln 2): the first loses every digit of a tiny x (log1p(1e-10) = 0),
# the second amplifies the rounding of x * ln 2 (2e-6 relative at x = 100); libm's
# log1p and exp2 are exact to an ulp.
UNARY = ("neg", "abs", "exp", "log", "log1p", "exp2", "sqrt", "rsqrt", "erf", "tanh", "sin", "cos", "tan",
         "sinh", "cosh", "asin", "acos", "atan", "floor", "ceil", "trunc", "round", "sign",
         "signbit", "isnan", "isinf", "logical_not", "bitwise_not")
BINARY = ("add", "sub", "mul", "truediv", "floordiv", "mod", "fmod", "pow", "maximum", "minimum",
          "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
          "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift",
          "atan2", "copysign", "int_truediv", "truncdiv", "and_", "or_", "xor")
TERNARY = ("where",)


def _as_node(value):
    node = getattr(value, "node", None)
    if node is not None:
        return node
    for kind, dtype in ((bool, torch.bool), (int, torch.int64), (float, torch.float32)):
        if isinstance(value, kind):  # a Python literal operand (ops.lt(tmp0, 0)): never bound by CSE
            node = Constant(value, dtype)
            node.dtype = dtype
            return node
    raise UnsupportedOp(type(value).__name__, f"operand {value!r} is not a kernel value")


def _record(op: str, *args, **attrs) -> str:
    return V.kernel.record(Op(op, tuple(_as_node(a) for a in args), attrs))


def _make(op: str, arity: int):
    def method(*args):
        if len(args) != arity:
            raise UnsupportedOp(op, f"expected {arity} operands, got {len(args)}")
        return _record(op, *args)

    method.__name__ = op
    return staticmethod(method)


class NpuOverrides(OpDecompositions):
    """The ops handler Inductor calls while generating an npusim kernel."""

    @staticmethod
    def constant(value, dtype: torch.dtype) -> str:
        return V.kernel.record(Constant(value, dtype))

    @staticmethod
    def index_expr(expr: sympy.Expr, dtype: torch.dtype) -> str:
        from compiler import indirect

        return V.kernel.record(indirect.index_value(V.kernel, V.kernel.prepare_value_index(expr), dtype))

    @staticmethod
    def value_expr(expr: sympy.Expr, dtype: torch.dtype) -> str:
        """An integer size expression used as a value (e.g. the element count of a mean)."""
        from compiler import indirect  # max_pool2d's indices: the window's origin + its argmax offset

        return V.kernel.record(indirect.index_value(V.kernel, V.kernel.prepare_value_index(expr), dtype))

    @staticmethod
    def to_dtype(x, dtype: torch.dtype, src_dtype: torch.dtype | None = None, use_compute_types=True) -> str:
        return _record("to_dtype", x, dtype=dtype)

    @staticmethod
    def to_dtype_bitcast(x, dtype, src_dtype) -> str:
        def bits(t):
            return torch.finfo(t).bits if t.is_floating_point else torch.iinfo(t).bits

        if bits(dtype) != bits(src_dtype):
            raise UnsupportedOp("to_dtype_bitcast", f"{src_dtype} to {dtype} changes the width")
        return _record("bitcast", x, dtype=dtype, src_dtype=src_dtype)

    @staticmethod
    def masked(mask, body, other):
        """`body` where `mask` holds, else `other` (cf. HalideOverrides.masked): the loads in body
        are recorded with the mask, so a masked-off address is never read."""
        with V.kernel.mask_loads(mask, other) as new_mask:
            result = body()
        dtype = getattr(result, "dtype", None)
        if dtype is None:
            raise UnsupportedOp("masked", "the masked value has no dtype")
        # Inductor's CSE proxy reads a masked value's dtype from the node's OptimizationContext
        # when the CPU backend is "cpp" (ours keeps that name for dtype propagation).
        node = V.interpreter.current_node
        node.meta.setdefault(OptimizationContext.key, OptimizationContext()).dtype = dtype
        return ops.where(new_mask, result, ops.constant(bool(other) if dtype == torch.bool else other, dtype))

    @staticmethod
    def indirect_indexing(var, size, check=True, wrap_neg=True):
        return V.kernel.indirect_index(var, size)  # compiler/indirect.py


for _name in UNARY:
    setattr(NpuOverrides, _name, _make(_name, 1))
for _name in BINARY:
    setattr(NpuOverrides, _name, _make(_name, 2))
for _name in TERNARY:
    setattr(NpuOverrides, _name, _make(_name, 3))


def _unsupported(name: str):
    def method(*args, **kwargs):
        raise UnsupportedOp(name)

    method.__name__ = name
    return staticmethod(method)


# Everything else Inductor could ask for fails loudly with its name.
_HANDLED_BY_KERNEL = {"load", "store", "store_reduction", "reduction", "check_bounds",
                      "device_assert_async", "output", "placeholder"}
for _name in dir(OpsHandler):
    if _name.startswith("_") or _name in _HANDLED_BY_KERNEL:
        continue
    if not hasattr(NpuOverrides, _name) or _name in ("scan", "sort", "bucketize", "dot",
                                                      "inline_asm_elementwise", "partial_accumulate",
                                                      "halide_clamp", "load_seed",
                                                      "rand", "randn", "randint64", "rand_eager"):
        setattr(NpuOverrides, _name, _unsupported(_name))


# erfc/erfcx without OpDecompositions' 1 - erf(x) cancellation (compiler/special_functions.py)
from compiler import special_functions  # noqa: E402

NpuOverrides.erfc = staticmethod(special_functions.erfc)
NpuOverrides.expm1 = staticmethod(special_functions.expm1)
NpuOverrides.erfcx = staticmethod(special_functions.erfcx)
# inverse hyperbolics (issue 17a): cancellation-free log1p compositions
for _name in ("acosh", "asinh", "atanh"):
    setattr(NpuOverrides, _name, staticmethod(getattr(special_functions, _name)))
# orthogonal polynomials (issue 17a): eager's case analysis, the recurrence as one scf.while node
for _name in (*special_functions.CHEBYSHEV, "hermite_polynomial_h", "hermite_polynomial_he",
              "laguerre_polynomial_l", "legendre_polynomial_p"):
    setattr(NpuOverrides, _name, special_functions.polynomial(_name, _record))
# modified Bessel functions (issue 17a): Cephes' Chebyshev expansions
for _name in ("i0", "i0e", "i1", "i1e", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
              "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1"):
    setattr(NpuOverrides, _name, staticmethod(getattr(special_functions, _name)))
NpuOverrides.spherical_bessel_j0 = staticmethod(special_functions.spherical_bessel_j0)
# gamma family (issue 17a)
for _name in ("lgamma", "digamma"):
    setattr(NpuOverrides, _name, staticmethod(getattr(special_functions, _name)))
NpuOverrides.polygamma = staticmethod(special_functions.polygamma)
NpuOverrides.zeta = staticmethod(special_functions.zeta)
for _name in ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1"):
    setattr(NpuOverrides, _name, staticmethod(getattr(special_functions, _name)))
NpuOverrides.ndtri = staticmethod(special_functions.ndtri)
NpuOverrides.airy_ai = staticmethod(special_functions.airy_ai)
NpuOverrides.npusim_gcd = staticmethod(special_functions.npusim_gcd)
# erfinv, hypot, nextafter (on the operands' own bits), frexp (issue 17d)
NpuOverrides.erfinv = staticmethod(special_functions.erfinv)
NpuOverrides.hypot = staticmethod(special_functions.hypot)
NpuOverrides.frexp = staticmethod(special_functions.frexp)
NpuOverrides.nextafter = staticmethod(lambda x, y: special_functions.nextafter(x, y, _as_node(x).dtype))
