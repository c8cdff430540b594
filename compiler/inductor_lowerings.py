"""Inductor's lowering table, swapped for one compile.

Each capability module (matmul, conv, pool, linalg, scatter, special functions, symbolic sizes) puts
its own lowerings in place of Inductor's while the backend compiles and restores Inductor's after,
so a later compile for another backend in the same process sees Inductor's table unchanged. The
backend holds its lock around the whole swap (compiler/backend.py npusim_lowerings).
"""

from __future__ import annotations

import contextlib
from typing import Callable


def inductor_lowering(op) -> Callable | None:
    """Inductor's current lowering of `op` (None if it has none): the original our lowering wraps."""
    from torch._inductor.lowering import lowerings

    return lowerings.get(op)


@contextlib.contextmanager
def lowerings_replaced(replacements: dict):
    """`replacements` ({op overload: lowering}) in Inductor's table for the duration; each op's entry
    restored after, or removed where Inductor had none."""
    from torch._inductor.lowering import lowerings

    saved = {op: lowerings[op] for op in replacements if op in lowerings}
    lowerings.update(replacements)
    try:
        yield
    finally:
        for op in replacements:
            if op in saved:
                lowerings[op] = saved[op]
            else:
                lowerings.pop(op, None)
