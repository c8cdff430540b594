"""Accurate erfc / erfcx for the ops handler (compiler/overrides.py).

Inductor's OpDecompositions give erfc(x) = 1 - erf(x) and erfcx(x) = exp(x^2) * erfc(x): the
subtraction cancels for x above about 3 (erfc(8) comes out 0, eager gives 1.1e-29), and
special.log_ndtr / erfcx built on them gave -inf and 0 where eager gives finite values (found by
the OpInfo suite, issue 17). Here both come from one exp of a Chebyshev fit (Numerical Recipes'
erfcc, fractional error below 1.2e-7 for every x >= 0):

    z = |x|, t = 1 / (1 + z/2), p(t) = the fit below
    erfcx(z) = t * exp(p(t)),  erfc(z) = t * exp(p(t) - z^2)
    x < 0:  erfc(x) = 2 - erfc(z),  erfcx(x) = 2 exp(x^2) - erfcx(z)
"""

from __future__ import annotations

import torch
from torch._inductor.virtualized import ops

# p(t) coefficients, lowest power first (Numerical Recipes in C, 2nd ed., section 6.2, erfcc)
_FIT = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
        -0.82215223, 0.17087277)


def _constant(value: float):
    return ops.constant(value, torch.float32)


def _parts(x):
    """(z, t, p(t)) of x."""
    z = ops.abs(x)
    t = ops.truediv(_constant(1.0), ops.add(_constant(1.0), ops.mul(_constant(0.5), z)))
    p = _constant(_FIT[-1])
    for coefficient in reversed(_FIT[:-1]):
        p = ops.add(_constant(coefficient), ops.mul(t, p))
    return z, t, p


def erfc(x):
    z, t, p = _parts(x)
    positive = ops.mul(t, ops.exp(ops.sub(p, ops.mul(z, z))))
    return ops.where(ops.ge(x, _constant(0.0)), positive, ops.sub(_constant(2.0), positive))


def erfcx(x):
    _, t, p = _parts(x)
    positive = ops.mul(t, ops.exp(p))
    negative = ops.sub(ops.mul(_constant(2.0), ops.exp(ops.mul(x, x))), positive)
    return ops.where(ops.ge(x, _constant(0.0)), positive, negative)
