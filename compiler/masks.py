"""Interval masks: a load mask that is a conjunction of comparisons of index expressions, as pad,
cat and shifted slices give (`x0 >= 1 & x0 < ks0 + 1`), read as an interval of the tile variable.

The emitter then clamps the load's DMA to the interval (a masked-off address is never formed) and
`ops.masked`'s `where` supplies the other value; a mask of another shape keeps the guarded element
gather (CONTRACTS.md section 1, Masked loads)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from compiler.tile_ir import Constant, IndexValue, Node, Op

CONJUNCTIONS = ("and_", "logical_and", "bitwise_and")
COMPARISONS = ("lt", "le", "gt", "ge")


@dataclass
class Interval:
    """lower <= t < upper (None: unbounded), and conditions uniform over the tile (nodes)."""

    lower: list[sympy.Expr] = field(default_factory=list)
    upper: list[sympy.Expr] = field(default_factory=list)
    uniform: list[Node] = field(default_factory=list)


def _index_of(node: Node) -> sympy.Expr | None:
    if isinstance(node, IndexValue):
        return sympy.sympify(node.expr)
    if isinstance(node, Constant) and isinstance(node.value, (int, bool)) and not isinstance(node.value, bool):
        return sympy.Integer(node.value)
    if isinstance(node, Op) and node.op == "to_dtype" and len(node.args) == 1 and not node.args[0].dtype.is_floating_point:
        return _index_of(node.args[0])
    return None


def _conjuncts(mask: Node) -> list[Node]:
    if isinstance(mask, Op) and mask.op in CONJUNCTIONS:
        return [c for arg in mask.args for c in _conjuncts(arg)]
    return [mask]


def interval_of(mask: Node, t: sympy.Symbol, depends_on_t) -> Interval | None:
    """The mask as an interval of `t`, or None when it is not one. `depends_on_t(node)` says
    whether a node's value varies with t (the emitter's dependency analysis)."""
    found = Interval()
    for term in _conjuncts(mask):
        if not depends_on_t(term):
            found.uniform.append(term)
            continue
        if not (isinstance(term, Op) and term.op in COMPARISONS and len(term.args) == 2):
            return None
        lhs, rhs = (_index_of(a) for a in term.args)
        if lhs is None or rhs is None:
            return None
        diff = sympy.expand(lhs - rhs)  # the comparison is `diff <op> 0`
        slope = diff.coeff(t)
        rest = sympy.expand(diff - slope * t)
        if t in rest.free_symbols or slope not in (1, -1):
            return None
        op = term.op
        if slope == -1:  # -t + rest <op> 0  <=>  t <flipped op> rest
            op = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}[op]
            bound = rest
        else:  # t + rest <op> 0  <=>  t <op> -rest
            bound = -rest
        if op == "ge":
            found.lower.append(bound)
        elif op == "gt":
            found.lower.append(bound + 1)
        elif op == "lt":
            found.upper.append(bound)
        else:
            found.upper.append(bound + 1)
    return found
