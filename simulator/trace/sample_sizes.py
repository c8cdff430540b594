"""Size args of a cost sample, derived from one consistent assignment of the graph's symbols.

A kernel's size args are not independent: a precomputed one depends on others
(`ks0` = `s0 // 4` beside `ks2` = `s0`). Setting each to 1 and growing one
gives a sample the kernel was never compiled for, whose indices can run far
outside its buffers (a silent out-of-bounds write on bare-metal Spike). So
the sample assigns the graph symbols (kernel.json records each size arg's
`expr` over them) and evaluates every size arg from that one assignment.
"""

from __future__ import annotations

import sympy

MAX_SYMBOL = 1 << 40


def _graph_expressions(meta: dict) -> dict[str, sympy.Expr] | None:
    sizes = [a for a in meta.get("args", []) if a.get("kind") == "size"]
    if not sizes or any("expr" not in a for a in sizes):
        return None  # older metadata (or a static kernel): the caller's per-arg rule applies
    return {a["name"]: sympy.sympify(a["expr"]) for a in sizes}


def _evaluate(expr: sympy.Expr, values: dict[sympy.Symbol, int]) -> int:
    return int(sympy.floor(expr.subs(values)))


def consistent_shape_args(meta: dict, full: bool) -> dict[str, int] | None:
    """Size args for the full-tile sample (each tiled extent covers one tile) or the small one
    (each tiled extent at least 1, graph symbols as small as that allows); None when the
    metadata has no size-arg expressions."""
    expressions = _graph_expressions(meta)
    if expressions is None:
        return None
    names = list(meta.get("size_args") or expressions)
    size_symbols = {sympy.Symbol(n): expressions[n] for n in names}
    # in the order the size args first use them: the last one grows (the innermost dim, as before)
    graph_symbols = list(dict.fromkeys(s for n in names for s in sorted(expressions[n].free_symbols, key=str)))
    values = {s: 1 for s in graph_symbols}
    extents = {}
    for dim in ("x", "r"):
        text = meta.get(f"{dim}numel")
        if text:  # over size args -> over graph symbols
            extents[dim] = sympy.sympify(str(text), locals={n: sympy.Symbol(n) for n in names}).subs(size_symbols)
    tiles = meta.get("tiles") or {}

    def reaches(extent: sympy.Expr, at_least: int) -> bool:
        return _evaluate(extent, values) >= at_least

    def shrink(symbol: sympy.Symbol, extent: sympy.Expr, at_least: int) -> None:
        """The smallest value of `symbol` that still keeps `extent` at `at_least`."""
        low, high = 0, values[symbol]
        while low + 1 < high:
            values[symbol] = (low + high) // 2
            low, high = (low, values[symbol]) if reaches(extent, at_least) else (values[symbol], high)
        values[symbol] = high

    def grow_until(extent: sympy.Expr, at_least: int) -> None:
        """Grow the last free symbol (the innermost dim); when that alone cannot get there (s1 * (s0 // 4)
        with s0 < 4), grow all of them together, then shrink each back as far as it goes."""
        free = [s for s in graph_symbols if s in extent.free_symbols]
        if not free or reaches(extent, at_least):
            return
        last, start = free[-1], values[free[-1]]
        while not reaches(extent, at_least) and values[last] <= max(start, at_least) * 64:
            values[last] *= 2
        if reaches(extent, at_least):
            shrink(last, extent, at_least)
            return
        values[last] = start
        while not reaches(extent, at_least):
            for symbol in free:
                values[symbol] *= 2
            if max(values.values()) > MAX_SYMBOL:
                raise ValueError(f"no size makes {extent} reach {at_least}")
        for symbol in free:
            shrink(symbol, extent, at_least)

    for dim, extent in extents.items():
        grow_until(extent, 1)  # a precomputed divisor (s0 // 4) must not leave an empty dim
        if full and int(tiles.get(dim, 1)) > 1:
            grow_until(extent, int(tiles[dim]))
    for expr in expressions.values():  # every size arg at least 1 (no empty buffer to sample)
        grow_until(expr, 1)
    return {n: _evaluate(expressions[n], values) for n in names}
