"""Special functions for the ops handler (compiler/overrides.py), composed of Inductor ops.

erfc/erfcx (below); inverse hyperbolics; the orthogonal polynomials (their n-step recurrence an
scf.while node, `lower_recurrence`); modified Bessel I/K, Bessel J/Y, Airy Ai, ndtri (Cephes fits);
lgamma/digamma/trigamma, Hurwitz zeta (`lower_zeta`) and polygamma; gcd (`lower_gcd`, an aten.gcd
lowering). Each follows eager's algorithm (ATen's Math.h) so special values and branches agree.

Accurate erfc / erfcx.

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

import math

import torch
from torch._inductor.virtualized import ops

from compiler.inductor_lowerings import lowerings_replaced
from compiler.printer import while_loop

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


# --- inverse hyperbolic functions (issue 17) -------------------------------------------------
# Inductor has no decomposition for acosh/asinh/atanh. The textbook log(x + sqrt(x^2 - 1)) loses
# everything near the branch points and overflows x^2 above 1.8e19; these are the cancellation-free
# forms (as in fdlibm's e_acosh/s_asinh/e_atanh), built on an accurate log1p.
_LN2 = 0.6931471805599453
_HUGE = 2.0 ** 28  # above this, x^2 + 1 == x^2 in f32 and acosh(x) = asinh(x) = log(x) + ln 2


def log1p(x):
    """log(1 + x) to a few ulp for tiny x (Goldberg's trick: log(u) * x / (u - 1), u = 1 + x rounded),
    where Inductor's decomposition log(x + 1) loses every digit of x below eps."""
    one = _constant(1.0)
    u = ops.add(x, one)
    corrected = ops.mul(ops.log(u), ops.truediv(x, ops.sub(u, one)))
    # u == 1: x itself; u == inf: inf (the correction would be inf / inf)
    exact = ops.where(ops.eq(u, one), x, ops.where(ops.isinf(u), u, corrected))
    return exact


def expm1(x):
    """exp(x) - 1 to a few ulp for tiny x (Kahan: (u - 1) * x / log(u), u = exp(x) rounded), where
    Inductor's decomposition exp(x) - 1 loses every digit of x below eps. MLIR's math.expm1 lowers
    to the same exp(x) - 1 (simulator/functional/toolchain.py), so it is composed here."""
    one = _constant(1.0)
    u = ops.exp(x)
    um1 = ops.sub(u, one)
    corrected = ops.mul(um1, ops.truediv(x, ops.log(u)))
    # u == 1: x itself; u - 1 == -1: -1; u == inf: inf (the correction would be inf / inf)
    return ops.where(ops.eq(u, one), x, ops.where(ops.eq(um1, _constant(-1.0)), um1,
                                                  ops.where(ops.isinf(u), u, corrected)))


def acosh(x):
    t = ops.sub(x, _constant(1.0))  # exact near 1 (Sterbenz)
    near = log1p(ops.add(t, ops.sqrt(ops.mul(t, ops.add(t, _constant(2.0))))))
    far = ops.add(ops.log(x), _constant(_LN2))
    return ops.where(ops.gt(x, _constant(_HUGE)), far, near)  # x < 1: sqrt of a negative, NaN


def asinh(x):
    a = ops.abs(x)
    a2 = ops.mul(a, a)
    one = _constant(1.0)
    near = log1p(ops.add(a, ops.truediv(a2, ops.add(one, ops.sqrt(ops.add(one, a2))))))
    far = ops.add(ops.log(a), _constant(_LN2))
    return ops.copysign(ops.where(ops.gt(a, _constant(_HUGE)), far, near), x)


def atanh(x):
    a = ops.abs(x)
    # 0.5 * log((1 + a) / (1 - a)) = 0.5 * log1p(2a / (1 - a)); a = 1: inf, a > 1: log1p(< -1) is NaN
    inner = ops.truediv(ops.add(a, a), ops.sub(_constant(1.0), a))
    return ops.copysign(ops.mul(_constant(0.5), log1p(inner)), x)


# --- orthogonal polynomials of degree n (issue 17) -------------------------------------------
# The same case analysis as eager (ATen's Math.h, *_polynomial_*_forward): n is truncated to int64
# as static_cast does (a NaN or out-of-range n gives INT64_MIN, i.e. "n < 0"), end points and, for
# the Chebyshev kinds with |y| < 1 and n above a threshold, the trigonometric closed form; otherwise
# the three-term recurrence, n steps of it. The recurrence runs as an scf.while per element (the
# `recurrence` lowering below), stopping where eager's loop stops (at n, or at a NaN).
# Cost: the trace costs a compute body's ops once per element, so a loop's body is counted once,
# not once per step (simulator/trace/op_classes.py has no trip counts): cycles of these ops are
# an underestimate for n > 2.

# name -> (shifted argument y = 2x - 1, closed form above this n, kind)
CHEBYSHEV = {
    "chebyshev_polynomial_t": (False, 6, "t"), "chebyshev_polynomial_u": (False, 8, "u"),
    "chebyshev_polynomial_v": (False, 8, "v"), "chebyshev_polynomial_w": (False, 8, "w"),
    "shifted_chebyshev_polynomial_t": (True, 6, "t"), "shifted_chebyshev_polynomial_u": (True, 6, "u"),
    "shifted_chebyshev_polynomial_v": (True, 6, "v"), "shifted_chebyshev_polynomial_w": (True, 4, "w"),
}
# recurrence kind -> (first k, step, loop while k <= n (else k < n), stop at a NaN)
RECURRENCES = {
    **{f"chebyshev_{kind}": (2, 1, True, True) for kind in "tuvw"}, "hermite_h": (2, 2, False, False), "hermite_he": (1, 1, False, False),
    "laguerre": (1, 1, False, True), "legendre": (1, 1, False, True),
}
HERMITE_LIMIT = 128  # eager's getHermitianLimit<float>: above it, NaN


def _int(value: int):
    return ops.constant(value, torch.int64)


def _select_chain(default, *cases):
    """where(c0, v0, where(c1, v1, ... default)): the first true condition wins, as eager's ifs."""
    result = default
    for condition, value in reversed(cases):
        result = ops.where(condition, value, result)
    return result


def _degree(n):
    k = ops.to_dtype(n, torch.int64)  # static_cast<int64_t>(n)
    return k, ops.to_dtype(k, torch.float32)


_IN_RECURRENCE = []  # set while a composition asks the ops handler for its recurrence node


def _recurrence(name, y, k, runs):
    """The recurrence's value; it runs only where `runs` (elsewhere its bound is 0: no steps). It goes
    through the ops handler under the op's own name and arity, so Inductor's dtype rule for the op
    types it; `_IN_RECURRENCE` tells the handler method this call is the loop, not the op."""
    bound = ops.where(runs, k, _int(0))
    _IN_RECURRENCE.append(name)
    try:
        return getattr(ops, name)(y, bound)
    finally:
        _IN_RECURRENCE.pop()


def first_term(kind: str, y, add, sub, one):
    """q0 = P_1(y) of recurrence `kind` (p0 = P_0 = 1), built with the given add/sub."""
    return {"chebyshev_t": y, "chebyshev_u": add(y, y), "chebyshev_v": sub(add(y, y), one),
            "chebyshev_w": add(add(y, y), one), "hermite_h": add(y, y), "hermite_he": y,
            "laguerre": sub(one, y), "legendre": y}[kind]


def _chebyshev(name, x, n):
    shifted, threshold, kind = CHEBYSHEV[name]
    one, zero = _constant(1.0), _constant(0.0)
    k, nf = _degree(n)
    y = ops.sub(ops.add(x, x), one) if shifted else x
    top = ops.eq(x, one)  # y = 1
    bottom = ops.eq(x, zero) if shifted else ops.eq(x, _constant(-1.0))  # y = -1
    sign = ops.where(ops.eq(ops.mod(k, _int(2)), _int(0)), one, _constant(-1.0))
    n1 = ops.add(nf, one)
    n21 = ops.add(ops.add(nf, nf), one)
    theta = ops.acos(y)
    half = ops.truediv(theta, _constant(2.0))
    nh = ops.mul(ops.add(nf, _constant(0.5)), theta)
    if kind == "t":
        ends, closed, q0 = (one, sign), ops.cos(ops.mul(nf, theta)), y
    elif kind == "u":
        s = ops.sin(theta)
        closed = ops.where(ops.ne(s, zero), ops.truediv(ops.sin(ops.mul(n1, theta)), s),
                           ops.truediv(ops.mul(n1, ops.cos(ops.mul(n1, theta))), y))
        ends, q0 = (n1, ops.mul(sign, n1)), ops.add(y, y)
    elif kind == "v":
        closed = ops.where(ops.ne(ops.sin(half), one), ops.truediv(ops.cos(nh), ops.cos(half)),
                           ops.mul(sign, n21))
        ends, q0 = (one, ops.mul(sign, n21)), ops.sub(ops.add(y, y), one)
    else:
        # eager's fallback where cos(theta/2) rounds to 1 (y near 1): 2n+1 unshifted, (-1)^n shifted
        fallback = sign if shifted else ops.where(ops.gt(x, zero), n21, sign)
        closed = ops.where(ops.ne(ops.cos(half), one), ops.truediv(ops.sin(nh), ops.sin(half)), fallback)
        ends, q0 = (n21, sign), ops.add(ops.add(y, y), one)
    negative = ops.lt(k, _int(0))
    use_closed = ops.logical_and(ops.gt(k, _int(threshold)), ops.lt(ops.abs(y), one))
    runs = ops.logical_not(ops.logical_or(ops.logical_or(negative, ops.logical_or(top, bottom)),
                                          ops.logical_or(use_closed, ops.lt(k, _int(2)))))
    looped = _recurrence(name, y, k, runs)
    return _select_chain(looped, (negative, zero), (top, ends[0]), (bottom, ends[1]), (use_closed, closed),
                         (ops.eq(k, _int(0)), one), (ops.eq(k, _int(1)), q0))


def _hermite(name, x, n):
    one, zero = _constant(1.0), _constant(0.0)
    k, _ = _degree(n)
    q0 = ops.add(x, x) if name == "hermite_polynomial_h" else x
    negative = ops.lt(k, _int(0))
    too_high = ops.gt(k, _int(HERMITE_LIMIT))
    runs = ops.logical_and(ops.ge(k, _int(2)), ops.logical_not(too_high))
    looped = _recurrence(name, x, k, runs)
    return _select_chain(looped, (negative, zero), (ops.eq(k, _int(0)), one), (ops.eq(k, _int(1)), q0),
                         (too_high, _constant(math.nan)))


def _laguerre(name, x, n):
    one, zero = _constant(1.0), _constant(0.0)
    k, _ = _degree(n)
    q0 = ops.sub(one, x)
    negative, at_zero = ops.lt(k, _int(0)), ops.eq(x, zero)
    runs = ops.logical_and(ops.ge(k, _int(2)), ops.logical_not(at_zero))
    looped = _recurrence(name, x, k, runs)
    return _select_chain(looped, (negative, zero), (at_zero, one), (ops.eq(k, _int(0)), one), (ops.eq(k, _int(1)), q0))


def _legendre(name, x, n):
    one, zero = _constant(1.0), _constant(0.0)
    k, _ = _degree(n)
    negative = ops.lt(k, _int(0))
    end = ops.eq(ops.abs(x), one)
    even = ops.eq(ops.mod(k, _int(2)), _int(0))
    end_value = ops.where(ops.logical_or(ops.gt(x, zero), even), one, _constant(-1.0))
    runs = ops.logical_and(ops.ge(k, _int(2)), ops.logical_not(end))
    looped = _recurrence(name, x, k, runs)
    return _select_chain(looped, (negative, zero), (end, end_value), (ops.eq(k, _int(0)), one), (ops.eq(k, _int(1)), x))


def polynomial(name: str, record):
    """The ops-handler method for polynomial `name`. Called with (x, n) by Inductor; called again by
    the composition itself with (y, bound) for its recurrence, recorded by `record` as one node."""
    build = (_chebyshev if name in CHEBYSHEV else _hermite if name.startswith("hermite")
             else _laguerre if name.startswith("laguerre") else _legendre)

    kind = (f"chebyshev_{CHEBYSHEV[name][2]}" if name in CHEBYSHEV else "laguerre" if name.startswith("laguerre")
            else "legendre" if name.startswith("legendre") else name.replace("_polynomial", ""))

    def method(x, n):
        if _IN_RECURRENCE and _IN_RECURRENCE[-1] == name:
            return record("recurrence", x, n, kind=kind)
        return build(name, x, n)

    method.__name__ = name
    return staticmethod(method)


def lower_recurrence(node, args, cast, mlir_type):
    """scf.while running recurrence `node.attrs['kind']` from (p, q) = (1, P_1(y)) while k is in range
    (and q is no NaN, where eager checks that); args: (y, bound) as (value, dtype) pairs."""
    from mlir import ir
    from mlir.dialects import arith

    start, stride, inclusive, nan_stop = RECURRENCES[node.attrs["kind"]]
    kind = node.attrs["kind"]
    ftype, itype = mlir_type(node.dtype), ir.IntegerType.get_signless(64)
    y = cast(args[0][0], args[0][1], node.dtype)
    bound = cast(args[1][0], args[1][1], torch.int64)
    if kind == "hermite_h":  # for (k = 2; k < n + n; k += 2)
        bound = arith.addi(bound, bound)
    one = arith.constant(ftype, 1.0)
    q0 = first_term(kind, y, arith.addf, arith.subf, one)

    def go(k, p, q):
        below = arith.cmpi(arith.CmpIPredicate.sle if inclusive else arith.CmpIPredicate.slt, k, bound)
        return arith.andi(below, arith.cmpf(arith.CmpFPredicate.ORD, q, q)) if nan_stop else below

    def step(k, p, q):
        kf = arith.sitofp(ftype, k)
        kp = arith.mulf(kf, p)
        if kind.startswith("chebyshev"):  # (y + y) q - p
            r = arith.subf(arith.mulf(arith.addf(y, y), q), p)
        elif kind == "hermite_h":  # (x + x) q - k p
            r = arith.subf(arith.mulf(arith.addf(y, y), q), kp)
        elif kind == "hermite_he":  # x q - k p
            r = arith.subf(arith.mulf(y, q), kp)
        elif kind == "laguerre":  # ((k + k) + (1 - x)) q - k p) / (k + 1)
            r = arith.subf(arith.mulf(arith.addf(arith.addf(kf, kf), arith.subf(one, y)), q), kp)
            r = arith.divf(r, arith.addf(kf, one))
        else:  # legendre: ((k + k + 1) x q - k p) / (k + 1)
            r = arith.subf(arith.mulf(arith.mulf(arith.addf(arith.addf(kf, kf), one), y), q), kp)
            r = arith.divf(r, arith.addf(kf, one))
        return [arith.addi(k, arith.constant(itype, stride)), q, r]

    return while_loop([itype, ftype, ftype], [arith.constant(itype, start), one, q0], go, step)[2]


# --- modified Bessel functions I0, I1, K0, K1 (issue 17) -------------------------------------
# Cephes' Chebyshev expansions (S. L. Moshier, Cephes Math Library: i0.c, i1.c, k0.c, k1.c), the
# coefficients as ATen's Math.h tabulates them, evaluated by Clenshaw's recurrence (Cephes' chbevl)
# in the same order as eager. exp(-x) I(x) on [0, 8] in y = x/2 - 2, exp(-x) sqrt(x) I(x) above 8
# in y = 32/x - 2; K on (0, 2] in y = x^2 - 2 (plus the log(x/2) I(x) term), exp(x) sqrt(x) K(x)
# above 2 in y = 8/x - 2.
I0_A = (-4.4153416464793395e-18, 3.3307945188222384e-17, -2.431279846547955e-16, 1.715391285555133e-15,
        -1.1685332877993451e-14, 7.676185498604936e-14, -4.856446783111929e-13, 2.95505266312964e-12,
        -1.726826291441556e-11, 9.675809035373237e-11, -5.189795601635263e-10, 2.6598237246823866e-09,
        -1.300025009986248e-08, 6.046995022541919e-08, -2.670793853940612e-07, 1.1173875391201037e-06,
        -4.4167383584587505e-06, 1.6448448070728896e-05, -5.754195010082104e-05, 0.00018850288509584165,
        -0.0005763755745385824, 0.0016394756169413357, -0.004324309995050576, 0.010546460394594998,
        -0.02373741480589947, 0.04930528423967071, -0.09490109704804764, 0.17162090152220877,
        -0.3046826723431984, 0.6767952744094761)
I0_B = (-7.233180487874754e-18, -4.830504485944182e-18, 4.46562142029676e-17, 3.461222867697461e-17,
        -2.8276239805165836e-16, -3.425485619677219e-16, 1.7725601330565263e-15, 3.8116806693526224e-15,
        -9.554846698828307e-15, -4.150569347287222e-14, 1.54008621752141e-14, 3.8527783827421426e-13,
        7.180124451383666e-13, -1.7941785315068062e-12, -1.3215811840447713e-11, -3.1499165279632416e-11,
        1.1889147107846439e-11, 4.94060238822497e-10, 3.3962320257083865e-09, 2.266668990498178e-08,
        2.0489185894690638e-07, 2.8913705208347567e-06, 6.889758346916825e-05, 0.0033691164782556943,
        0.8044904110141088)
I1_A = (2.7779141127610464e-18, -2.111421214358166e-17, 1.5536319577362005e-16, -1.1055969477353862e-15,
        7.600684294735408e-15, -5.042185504727912e-14, 3.223793365945575e-13, -1.9839743977649436e-12,
        1.1736186298890901e-11, -6.663489723502027e-11, 3.625590281552117e-10, -1.8872497517228294e-09,
        9.381537386495773e-09, -4.445059128796328e-08, 2.0032947535521353e-07, -8.568720264695455e-07,
        3.4702513081376785e-06, -1.3273163656039436e-05, 4.781565107550054e-05, -0.00016176081582589674,
        0.0005122859561685758, -0.0015135724506312532, 0.004156422944312888, -0.010564084894626197,
        0.024726449030626516, -0.05294598120809499, 0.1026436586898471, -0.17641651835783406,
        0.25258718644363365)
I1_B = (7.517296310842105e-18, 4.414348323071708e-18, -4.6503053684893586e-17, -3.209525921993424e-17,
        2.96262899764595e-16, 3.3082023109209285e-16, -1.8803547755107825e-15, -3.8144030724370075e-15,
        1.0420276984128802e-14, 4.272440016711951e-14, -2.1015418427726643e-14, -4.0835511110921974e-13,
        -7.198551776245908e-13, 2.0356285441470896e-12, 1.4125807436613782e-11, 3.2526035830154884e-11,
        -1.8974958123505413e-11, -5.589743462196584e-10, -3.835380385964237e-09, -2.6314688468895196e-08,
        -2.512236237870209e-07, -3.882564808877691e-06, -0.00011058893876262371, -0.009761097491361469,
        0.7785762350182801)
K0_A = (1.374465435613523e-16, 4.25981614279661e-14, 1.0349695257633842e-11, 1.904516377220209e-09,
        2.5347910790261494e-07, 2.286212103119452e-05, 0.001264615411446926, 0.0359799365153615,
        0.3442898999246285, -0.5353273932339028)
K0_B = (5.300433772686263e-18, -1.6475804301524212e-17, 5.2103915050390274e-17, -1.678231096805412e-16,
        5.512055978524319e-16, -1.848593377343779e-15, 6.3400764774050706e-15, -2.2275133269916698e-14,
        8.032890775363575e-14, -2.9800969231727303e-13, 1.140340588208475e-12, -4.514597883373944e-12,
        1.8559491149547177e-11, -7.957489244477107e-11, 3.577397281400301e-10, -1.69753450938906e-09,
        8.574034017414225e-09, -4.660489897687948e-08, 2.766813639445015e-07, -1.8317555227191195e-06,
        1.39498137188765e-05, -0.00012849549581627802, 0.0015698838857300533, -0.0314481013119645,
        2.4403030820659555)
K1_A = (-7.023863479386288e-18, -2.427449850519366e-15, -6.666901694199329e-13, -1.4114883926335278e-10,
        -2.213387630734726e-08, -2.4334061415659684e-06, -0.0001730288957513052, -0.006975723859639864,
        -0.12261118082265715, -0.3531559607765449, 1.5253002273389478)
K1_B = (-5.756744483665017e-18, 1.7940508731475592e-17, -5.689462558442859e-17, 1.838093544366639e-16,
        -6.057047248373319e-16, 2.038703165624334e-15, -7.019837090418314e-15, 2.4771544244813043e-14,
        -8.976705182324994e-14, 3.3484196660784293e-13, -1.2891739609510289e-12, 5.13963967348173e-12,
        -2.1299678384275683e-11, 9.218315187605006e-11, -4.1903547593418965e-10, 2.015049755197033e-09,
        -1.0345762465678097e-08, 5.7410841254500495e-08, -3.5019606030878126e-07, 2.406484947837217e-06,
        -1.936197974166083e-05, 0.00019521551847135162, -0.002857816859622779, 0.10392373657681724,
        2.7206261904844427)


def chbevl(y, coefficients):
    """Clenshaw's sum of a Chebyshev series at y (Cephes chbevl): 0.5 (b0 - b2)."""
    b0, b1, b2 = _constant(coefficients[0]), _constant(0.0), _constant(0.0)
    for c in coefficients[1:]:
        b2, b1 = b1, b0
        b0 = ops.add(ops.sub(ops.mul(y, b1), b2), _constant(c))
    return ops.mul(_constant(0.5), ops.sub(b0, b2))


def _scaled_i(x, order: int):
    """(|x|, exp(-|x|) I_order(|x|)), the two ranges selected per element."""
    a = ops.abs(x)
    low, high = (I0_A, I0_B) if order == 0 else (I1_A, I1_B)
    near = chbevl(ops.sub(ops.truediv(a, _constant(2.0)), _constant(2.0)), low)
    if order == 1:
        near = ops.mul(near, a)
    far = ops.truediv(chbevl(ops.sub(ops.truediv(_constant(32.0), a), _constant(2.0)), high), ops.sqrt(a))
    return a, ops.where(ops.le(a, _constant(8.0)), near, far)


def _odd(x, value):
    return ops.where(ops.lt(x, _constant(0.0)), ops.neg(value), value)


def i0e(x):
    return _scaled_i(x, 0)[1]


def i0(x):
    a, scaled = _scaled_i(x, 0)
    return ops.mul(ops.exp(a), scaled)


def i1e(x):
    return _odd(x, _scaled_i(x, 1)[1])


def i1(x):
    a, scaled = _scaled_i(x, 1)
    return _odd(x, ops.mul(ops.exp(a), scaled))


def _k(x, order: int, scaled: bool):
    """K_order(x), or exp(x) K_order(x) when `scaled`, for x > 0 (Cephes k0.c/k1.c); K's poles and
    domain: inf at 0, NaN below (as eager)."""
    low, high = (K0_A, K0_B) if order == 0 else (K1_A, K1_B)
    zero = _constant(0.0)
    near_series = chbevl(ops.sub(ops.mul(x, x), _constant(2.0)), low)
    log_half = ops.log(ops.mul(_constant(0.5), x))
    if order == 0:
        near = ops.sub(near_series, ops.mul(log_half, i0(x)))
    else:
        near = ops.add(ops.mul(log_half, i1(x)), ops.truediv(near_series, x))
    far_series = chbevl(ops.sub(ops.truediv(_constant(8.0), x), _constant(2.0)), high)
    if scaled:
        near = ops.mul(near, ops.exp(x))
        far = ops.truediv(far_series, ops.sqrt(x))
    else:
        far = ops.truediv(ops.mul(ops.exp(ops.neg(x)), far_series), ops.sqrt(x))
    value = ops.where(ops.le(x, _constant(2.0)), near, far)
    return _select_chain(value, (ops.eq(x, zero), _constant(math.inf)), (ops.lt(x, zero), _constant(math.nan)))


def scaled_modified_bessel_k0(x):
    return _k(x, 0, scaled=True)


def scaled_modified_bessel_k1(x):
    return _k(x, 1, scaled=True)


def modified_bessel_k0(x):
    return _k(x, 0, scaled=False)


def modified_bessel_k1(x):
    return _k(x, 1, scaled=False)


modified_bessel_i0 = i0
modified_bessel_i1 = i1


def spherical_bessel_j0(x):
    """sin(x) / x; below 1/2 its Taylor series (as eager: no 0/0 at 0); 0 at +-inf."""
    x2 = ops.mul(x, x)
    series = _constant(1.0 / 6227020800.0)
    for c in (-1.0 / 39916800.0, 1.0 / 362880.0, -1.0 / 5040.0, 1.0 / 120.0, -1.0 / 6.0):
        series = ops.add(_constant(c), ops.mul(x2, series))
    series = ops.add(_constant(1.0), ops.mul(x2, series))
    return _select_chain(ops.truediv(ops.sin(x), x), (ops.isinf(x), _constant(0.0)),
                         (ops.lt(ops.abs(x), _constant(0.5)), series))


# --- lgamma, digamma, trigamma (issue 17) ----------------------------------------------------
# Shift x up with the recurrences (a bounded, unrolled loop: at most 10 steps for x >= 0; negative x
# is reflected to 1 - x >= 1 first), then the asymptotic series. digamma follows eager's Cephes
# psi (ATen's Math.h calc_digamma); lgamma uses Stirling's series for x >= 8 (Abramowitz & Stegun
# 6.1.41) and the reflection formula below 0; trigamma is eager's (Math.h trigamma).
_PI = math.pi
_DIGAMMA_ASYMPTOTIC = (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
                       -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
                       8.33333333333333333333E-2)  # Cephes psi.c A[], highest power first
_PSI_10 = 2.25175258906672110764


def _polevl(z, coefficients):
    result = _constant(coefficients[0])
    for c in coefficients[1:]:
        result = ops.add(ops.mul(result, z), _constant(c))
    return result


def _fraction(x):
    """x - trunc(x), exact in floating point (modf's fractional part)."""
    return ops.sub(x, ops.trunc(x))


def _digamma_positive(x):
    """digamma(x) for x > 0 (eager's loop `while (x < 10) result -= 1/x, x += 1`, unrolled)."""
    result = _constant(0.0)
    ten = _constant(10.0)
    for _ in range(10):
        below = ops.lt(x, ten)
        result = ops.where(below, ops.sub(result, ops.truediv(_constant(1.0), x)), result)
        x = ops.where(below, ops.add(x, _constant(1.0)), x)
    z = ops.truediv(_constant(1.0), ops.mul(x, x))
    y = ops.where(ops.lt(x, _constant(1.0e17)), ops.mul(z, _polevl(z, _DIGAMMA_ASYMPTOTIC)), _constant(0.0))
    asymptotic = ops.sub(ops.sub(ops.add(result, ops.log(x)), ops.truediv(_constant(0.5), x)), y)
    return ops.where(ops.eq(x, ten), ops.add(result, _constant(_PSI_10)), asymptotic)


def digamma(x):
    zero = _constant(0.0)
    negative = ops.lt(x, zero)
    reflected = _digamma_positive(ops.where(negative, ops.sub(_constant(1.0), x), x))
    pi_cot = ops.truediv(_constant(_PI), ops.tan(ops.mul(_constant(_PI), _fraction(x))))
    value = ops.where(negative, ops.sub(reflected, pi_cot), reflected)
    # +-0: -+inf; a negative integer (and -inf): NaN
    return _select_chain(value, (ops.eq(x, zero), ops.copysign(_constant(math.inf), ops.neg(x))),
                         (ops.logical_and(negative, ops.eq(x, ops.trunc(x))), _constant(math.nan)))


def trigamma(x):
    one = _constant(1.0)
    reflect = ops.lt(x, _constant(0.5))
    sin_pi_x = ops.sin(ops.mul(_constant(_PI), x))
    result = ops.where(reflect, ops.neg(ops.truediv(_constant(_PI * _PI), ops.mul(sin_pi_x, sin_pi_x))),
                       _constant(0.0))
    x = ops.where(reflect, ops.sub(one, x), x)
    for _ in range(6):
        result = ops.add(result, ops.truediv(one, ops.mul(x, x)))
        x = ops.add(x, one)
    ixx = ops.truediv(one, ops.mul(x, x))
    series = ops.mul(ixx, ops.sub(_constant(1.0 / 30), ops.mul(ixx, _constant(1.0 / 42))))
    series = ops.mul(ixx, ops.sub(_constant(1.0 / 6), series))
    series = ops.add(ops.add(one, ops.truediv(one, ops.add(x, x))), series)
    result = ops.add(result, ops.truediv(series, x))
    return ops.where(reflect, ops.neg(result), result)


_STIRLING = 8.0  # lgamma's series is used from here up (its error there is below 1e-9)


def _lgamma_positive(x):
    """lgamma(x) for x > 0: lgamma(x + m) - log(x (x+1) ... (x+m-1)) with x + m >= 8, Stirling's
    series (x - 1/2) log x - x + log(2 pi)/2 + 1/(12x) - 1/(360x^3) + 1/(1260x^5) - 1/(1680x^7)."""
    one = _constant(1.0)
    product = one
    for _ in range(int(_STIRLING)):
        below = ops.lt(x, _constant(_STIRLING))
        product = ops.where(below, ops.mul(product, x), product)
        x = ops.where(below, ops.add(x, one), x)
    r = ops.truediv(one, x)
    r2 = ops.mul(r, r)
    correction = _constant(-1.0 / 1680)
    for c in (1.0 / 1260, -1.0 / 360, 1.0 / 12):
        correction = ops.add(_constant(c), ops.mul(r2, correction))
    stirling = ops.add(ops.sub(ops.mul(ops.sub(x, _constant(0.5)), ops.log(x)), x),
                       ops.add(_constant(0.5 * math.log(2 * math.pi)), ops.mul(correction, r)))
    return ops.sub(stirling, ops.log(product))


def lgamma(x):
    zero = _constant(0.0)
    negative = ops.lt(x, zero)
    a = ops.where(negative, ops.sub(_constant(1.0), x), x)
    positive = _lgamma_positive(a)
    # x < 0: log(pi / |sin(pi x)|) - lgamma(1 - x), sin(pi x) from x's exact fraction
    sin_pi = ops.abs(ops.sin(ops.mul(_constant(_PI), _fraction(x))))
    reflected = ops.sub(ops.log(ops.truediv(_constant(_PI), sin_pi)), positive)
    value = ops.where(negative, reflected, positive)
    pole = ops.logical_or(ops.eq(x, zero), ops.logical_and(negative, ops.eq(x, ops.trunc(x))))
    return _select_chain(value, (ops.isinf(x), _constant(math.inf)), (pole, _constant(math.inf)))



# --- Hurwitz zeta and polygamma n >= 2 (issue 17) --------------------------------------------
# Cephes zeta.c as eager runs it (ATen's Math.h zeta, in double for float inputs): the sum of
# (q + i)^-x while i < 9 or q + i <= 9, stopping once a term falls below MACHEP of the sum, then
# the Euler-Maclaurin tail with 12 Bernoulli terms. The first loop's length depends on q, so it is
# an scf.while; the tail is unrolled with a `finished` flag for eager's early return. All in f64.
_ZETA_MACHEP = 1.11022302462515654042E-16
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
           -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
           1.8152105401943546773e17, -7.1661652561756670113e18)


def zeta(x, q):
    return _record_op("zeta", x, q)


def lower_zeta(node, args, cast, mlir_type):
    from mlir import ir
    from mlir.dialects import arith
    from mlir.dialects import math as mmath

    f64, i64, i1 = ir.F64Type.get(), ir.IntegerType.get_signless(64), ir.IntegerType.get_signless(1)
    c = lambda v: arith.constant(f64, float(v))  # noqa: E731
    x = cast(args[0][0], args[0][1], torch.float64)
    q = cast(args[1][0], args[1][1], torch.float64)
    one, zero = c(1.0), c(0.0)
    lt = lambda a, b: arith.cmpf(arith.CmpFPredicate.OLT, a, b)  # noqa: E731
    eq = lambda a, b: arith.cmpf(arith.CmpFPredicate.OEQ, a, b)  # noqa: E731
    q_integer = eq(q, mmath.floor(q))
    q_nonpositive = arith.cmpf(arith.CmpFPredicate.OLE, q, zero)
    # eager's order: x = 1: inf; x < 1: NaN; q a non-positive integer: inf; else x not an integer: NaN
    special = [(eq(x, one), math.inf), (lt(x, one), math.nan), (arith.andi(q_nonpositive, q_integer), math.inf),
               (arith.andi(q_nonpositive, arith.xori(eq(x, mmath.floor(x)), arith.constant(i1, 1))), math.nan)]
    # the special cases get q = 1 in the loop: an integer q <= 0 could stall it (q + 1 == q)
    any_special = special[0][0]
    for condition, _ in special[1:]:
        any_special = arith.ori(any_special, condition)
    q = arith.select(any_special, one, q)
    neg_x = arith.negf(x)
    machep = c(_ZETA_MACHEP)

    def small(term, total):  # -MACHEP * s < b < MACHEP * s
        bound = arith.mulf(machep, total)
        return arith.andi(lt(arith.negf(bound), term), lt(term, bound))

    def more(i, a, s, b, done):
        below_nine = arith.ori(arith.cmpi(arith.CmpIPredicate.slt, i, arith.constant(i64, 9)),
                               arith.cmpf(arith.CmpFPredicate.OLE, a, c(9.0)))
        return arith.andi(below_nine, arith.xori(done, arith.constant(i1, 1)))

    def step(i, a, s, b, done):
        a = arith.addf(a, one)
        b = mmath.powf(a, neg_x)
        s = arith.addf(s, b)
        return [arith.addi(i, arith.constant(i64, 1)), a, s, b, small(b, s)]

    _, w, head, b, done = while_loop([i64, f64, f64, f64, i1],
                                     [arith.constant(i64, 0), q, mmath.powf(q, neg_x), zero, arith.constant(i1, 0)],
                                     more, step)
    s = arith.addf(head, arith.divf(arith.mulf(b, w), arith.subf(x, one)))
    s = arith.subf(s, arith.mulf(c(0.5), b))
    a, k, finished = one, zero, done
    for coefficient in _ZETA_A:
        a = arith.mulf(a, arith.addf(x, k))
        b = arith.divf(b, w)
        t = arith.divf(arith.mulf(a, b), c(coefficient))
        s_next = arith.addf(s, t)
        s = arith.select(finished, s, s_next)
        finished = arith.ori(finished, lt(mmath.absf(arith.divf(t, s_next)), machep))
        k = arith.addf(k, one)
        a = arith.mulf(a, arith.addf(x, k))
        b = arith.divf(b, w)
        k = arith.addf(k, one)
    value = arith.select(done, head, s)
    for condition, result in reversed(special):
        value = arith.select(condition, c(result), value)
    return cast(value, torch.float64, node.dtype)


def _record_op(op, *args, **attrs):
    from compiler.overrides import _record

    return _record(op, *args, **attrs)


def polygamma(n, x):
    """polygamma(n, x): digamma (n = 0), trigamma (n = 1), else Hurwitz zeta; n a constant of the graph."""
    node = getattr(n, "node", None)
    order = getattr(node, "value", n if isinstance(n, (int, float)) else None)
    if order == 0:
        return digamma(x)
    if order == 1:
        return trigamma(x)
    if order is None or order != int(order) or order < 0:
        from compiler.errors import UnsupportedOp

        raise UnsupportedOp("polygamma", f"order n = {order!r}: a constant integer n >= 0 is supported")
    # eager's calc_polygamma: (-1)^(n+1) exp(lgamma(n + 1)) zeta(n + 1, x), n! in float
    order = int(order)
    factorial = float(torch.tensor(float(order) + 1.0).lgamma().exp())
    sign = 1.0 if order % 2 else -1.0
    return ops.mul(_constant(sign * factorial), ops.zeta(_constant(float(order + 1)), x))



# --- Bessel functions of the first and second kind, orders 0 and 1 (issue 17) -----------------
# Cephes j0.c/j1.c (S. L. Moshier) as ATen's Math.h runs them: a rational fit in x^2 up to 5 (with
# the first zeros of J factored out; Y adds 2/pi log(x) J), above 5 the Hankel asymptotic form
# sqrt(2/(pi x)) (P cos(x - phase) - 5/x Q sin(x - phase)). Coefficients as Math.h tabulates them.
J0_PP = (0.0007969367292973471, 0.08283523921074408, 1.239533716464143, 5.447250030587687, 8.74716500199817, 5.303240382353949, 1.0,)
J0_PQ = (0.0009244088105588637, 0.08562884743544745, 1.2535274390105895, 5.470977403304171, 8.761908832370695, 5.306052882353947, 1.0,)
J0_QP = (-0.011366383889846916, -1.2825271867050931, -19.553954425773597, -93.20601521237683, -177.68116798048806, -147.07750515495118, -51.41053267665993, -6.050143506007285,)
J0_QQ = (64.3178256118178, 856.4300259769806, 3882.4018360540163, 7240.467741956525, 5930.727011873169, 2062.0933166032783, 242.0057402402914,)
J0_RP = (-4794432209.782018, 1956174919465.5657, -249248344360967.72, 9708622510473064.0,)
J0_RQ = (499.563147152651, 173785.4016763747, 48440965.83399621, 11185553704.535683, 2112775201154.892, 310518229857422.56, 3.1812195594320496e+16, 1.7108629408104315e+18,)
J1_PP = (0.0007621256162081731, 0.07313970569409176, 1.1271960812968493, 5.112079511468076, 8.424045901417724, 5.214515986823615, 1.0,)
J1_PQ = (0.0005713231280725487, 0.06884559087544954, 1.105142326340617, 5.073863861286015, 8.399855543276042, 5.209828486823619, 1.0,)
J1_QP = (0.05108625947501766, 4.982138729512334, 75.82382841325453, 366.7796093601508, 710.8563049989261, 597.4896124006136, 211.68875710057213, 25.207020585802372,)
J1_QQ = (74.23732770356752, 1056.4488603826283, 4986.410583376536, 9562.318924047562, 7997.041604473507, 2826.1927851763908, 336.0936078106983,)
J1_RP = (-899971225.7055594, 452228297998.19403, -72749424522181.83, 3682957328638529.0,)
J1_RQ = (620.8364781180543, 256987.25675774884, 83514679.14319493, 22151159547.97925, 4749141220799.914, 784369607876235.9, 8.952223361846274e+16, 5.322786203326801e+18,)
Y0_YP = (15592.436785523574, -14663929.59039716, 5435264770.518765, -982136065717.9115, 87590639439536.7, -3466283033847297.0, 4.4273326857256984e+16, -1.8495080043698668e+16,)
Y0_YQ = (1041.2835366425984, 626107.330137135, 268919633.39381415, 86400248710.3935, 20297961275010.555, 3171577528429750.5, 2.5059625617265306e+17,)
Y1_YP = (1263204747.9017804, -647355876379.1603, 114509511541823.73, -8127702555013251.0, 2.024394757135949e+17, -7.788771962659501e+17,)
Y1_YQ = (594.3015923461282, 235564.09294306856, 73481194.44597217, 18760131610.870617, 3882312774962.3857, 620557727146953.8, 6.871410873553005e+16, 3.9727060811656064e+18,)
_SQRT_2_OVER_PI = 0.797884560802865355879892119868763737
_TWO_OVER_PI = 0.636619772367581343075535053490057448


def _hankel(x, order: int, second_kind: bool):
    """The x > 5 form; eager squares 5/x as 25/(x x) for order 0 and (5/x)(5/x) for order 1."""
    pp, pq, qp, qq = (J0_PP, J0_PQ, J0_QP, J0_QQ) if order == 0 else (J1_PP, J1_PQ, J1_QP, J1_QQ)
    five = _constant(5.0)
    if order == 0:
        z = ops.truediv(_constant(25.0), ops.mul(x, x))
    else:
        z = ops.mul(ops.truediv(five, x), ops.truediv(five, x))
    p = ops.truediv(_polevl(z, pp), _polevl(z, pq))
    q = ops.mul(ops.truediv(five, x), ops.truediv(_polevl(z, qp), _polevl(z, qq)))
    shifted = ops.sub(x, _constant(0.785398163397448309615660845819875721 if order == 0
                                   else 2.356194490192344928846982537459627163))
    if second_kind:
        value = ops.add(ops.mul(p, ops.sin(shifted)), ops.mul(q, ops.cos(shifted)))
    else:
        value = ops.sub(ops.mul(p, ops.cos(shifted)), ops.mul(q, ops.sin(shifted)))
    return ops.truediv(ops.mul(value, _constant(_SQRT_2_OVER_PI)), ops.sqrt(x))


def bessel_j0(x):
    a = ops.abs(x)
    z = ops.mul(a, a)
    # eager: (z - r1)(z - r2) rp / rq, left to right
    near = ops.truediv(ops.mul(ops.mul(ops.sub(z, _constant(5.78318596294678452118e+00)),
                                       ops.sub(z, _constant(3.04712623436620863991e+01))), _polevl(z, J0_RP)),
                       _polevl(z, J0_RQ))
    tiny = ops.sub(_constant(1.0), ops.truediv(z, _constant(4.0)))
    return _select_chain(_hankel(a, 0, False), (ops.lt(a, _constant(0.00001)), tiny),
                         (ops.le(a, _constant(5.0)), near))


def bessel_j1(x):
    a = ops.abs(x)
    z = ops.mul(a, a)
    near = ops.mul(ops.mul(ops.mul(ops.truediv(_polevl(z, J1_RP), _polevl(z, J1_RQ)), a),
                           ops.sub(z, _constant(1.46819706421238932572e+01))),
                   ops.sub(z, _constant(4.92184563216946036703e+01)))
    value = ops.where(ops.le(a, _constant(5.0)), near, _hankel(a, 1, False))
    return ops.where(ops.lt(x, _constant(0.0)), ops.neg(value), value)


def bessel_y0(x):
    z = ops.mul(x, x)
    near = ops.add(ops.truediv(_polevl(z, Y0_YP), _polevl(z, Y0_YQ)),
                   ops.mul(ops.mul(_constant(_TWO_OVER_PI), ops.log(x)), bessel_j0(x)))
    return _select_chain(_hankel(x, 0, True), (ops.eq(x, _constant(0.0)), _constant(-math.inf)),
                         (ops.lt(x, _constant(0.0)), _constant(math.nan)), (ops.le(x, _constant(5.0)), near))


def bessel_y1(x):
    z = ops.mul(x, x)
    inner = ops.sub(ops.mul(bessel_j1(x), ops.log(x)), ops.truediv(_constant(1.0), x))
    near = ops.add(ops.mul(x, ops.truediv(_polevl(z, Y1_YP), _polevl(z, Y1_YQ))),
                   ops.mul(_constant(_TWO_OVER_PI), inner))
    return _select_chain(_hankel(x, 1, True), (ops.eq(x, _constant(0.0)), _constant(-math.inf)),
                         (ops.lt(x, _constant(0.0)), _constant(math.nan)), (ops.le(x, _constant(5.0)), near))


# --- ndtri, the inverse of the normal CDF (issue 17) -------------------------------------------
# Cephes ndtri.c (S. L. Moshier) as ATen's Math.h calc_ndtri runs it: a rational fit in (y - 1/2)^2
# for exp(-2) < y < 1 - exp(-2), else in 1/sqrt(-2 log y) for the tail (two fits, split at x = 8).
NDTRI_P0 = (-59.96335010141079, 98.00107541859997, -56.67628574690703, 13.931260938727968, -1.2391658386738125,)
NDTRI_Q0 = (1.0, 1.9544885833814176, 4.676279128988815, 86.36024213908905, -225.46268785411937, 200.26021238006066, -82.03722561683334, 15.90562251262117, -1.1833162112133,)
NDTRI_P1 = (4.0554489230596245, 31.525109459989388, 57.16281922464213, 44.08050738932008, 14.684956192885803, 2.1866330685079025, -0.1402560791713545, -0.03504246268278482, -0.0008574567851546854,)
NDTRI_Q1 = (1.0, 15.779988325646675, 45.39076351288792, 41.3172038254672, 15.04253856929075, 2.504649462083094, -0.14218292285478779, -0.03808064076915783, -0.0009332594808954574,)
NDTRI_P2 = (3.2377489177694603, 6.915228890689842, 3.9388102529247444, 1.3330346081580755, 0.20148538954917908, 0.012371663481782003, 0.00030158155350823543, 2.6580697468673755e-06, 6.239745391849833e-09,)
NDTRI_Q2 = (1.0, 6.02427039364742, 3.6798356385616087, 1.3770209948908132, 0.21623699359449663, 0.013420400608854318, 0.00032801446468212774, 2.8924786474538068e-06, 6.790194080099813e-09,)
_EXP_MINUS_2 = 0.13533528323661269189


def ndtri(y0):
    one, zero = _constant(1.0), _constant(0.0)
    upper = ops.gt(y0, ops.sub(one, _constant(_EXP_MINUS_2)))  # eager's code = false: y = 1 - y
    y = ops.where(upper, ops.sub(one, y0), y0)
    c = ops.sub(y, _constant(0.5))
    c2 = ops.mul(c, c)
    central = ops.mul(ops.add(c, ops.mul(c, ops.truediv(ops.mul(c2, _polevl(c2, NDTRI_P0)), _polevl(c2, NDTRI_Q0)))),
                      _constant(2.50662827463100050242E0))
    x = ops.sqrt(ops.mul(_constant(-2.0), ops.log(y)))
    x0 = ops.sub(x, ops.truediv(ops.log(x), x))
    z = ops.truediv(one, x)
    x1 = ops.where(ops.lt(x, _constant(8.0)),
                   ops.truediv(ops.mul(z, _polevl(z, NDTRI_P1)), _polevl(z, NDTRI_Q1)),
                   ops.truediv(ops.mul(z, _polevl(z, NDTRI_P2)), _polevl(z, NDTRI_Q2)))
    tail = ops.sub(x0, x1)
    tail = ops.where(upper, tail, ops.neg(tail))
    value = ops.where(ops.gt(y, _constant(_EXP_MINUS_2)), central, tail)
    return _select_chain(value, (ops.eq(y0, zero), _constant(-math.inf)), (ops.eq(y0, one), _constant(math.inf)),
                         (ops.logical_or(ops.lt(y0, zero), ops.gt(y0, one)), _constant(math.nan)))


# --- Airy Ai (issue 17) -----------------------------------------------------------------------
# Cephes airy.c (S. L. Moshier) as ATen's Math.h airy_ai_forward runs it: the oscillating asymptotic
# form below -2.09, the decaying one above 2.09 (alone above 8.32), else the Maclaurin series f, g
# summed until a term is below eps; |x| < 2.09 ends within 9 terms (checked in f32 on a fine grid),
# unrolled here to %d with eager's stopping test as a flag.
AIRY_AN = (0.346538101525629, 12.007595273964581, 76.27960536152345, 168.08922493463058, 159.75639135016442, 70.53609068404442, 14.026469116338967, 1.0,)
AIRY_AD = (0.5675945326387702, 14.75625625848472, 84.51389701414746, 177.31808814540045, 164.2346928715297, 71.47784008255756, 14.095913560783403, 1.0,)
AIRY_AFN = (-0.1316963234183318, -0.6264565444319123, -0.6931580360369335, -0.2797799815451191, -0.04919001326095003, -0.004062659235948854, -0.0001592764962392621, -2.776491081552329e-06, -1.6778769848911465e-08,)
AIRY_AFD = (13.356042070655324, 32.682503279522464, 26.736704094149957, 9.187074029072596, 1.4752914677166642, 0.11568717379518804, 0.004402916416152112, 7.547203482874142e-05, 4.5185009297058035e-07,)
AIRY_AGN = (0.01973399320916857, 0.39110302961568827, 1.0657989759959559, 0.9391692298166502, 0.35146565610554764, 0.06338889196289255, 0.005858041130483885, 0.000282851600836737, 6.98793669997261e-06, 8.117892395543892e-08, 3.415517847659236e-10,)
AIRY_AGD = (9.30892908077442, 19.835292871831214, 15.564662893286462, 5.476860694229755, 0.9542936116189619, 0.08645808263523921, 0.004126565238242226, 0.00010125908511650914, 1.1716673321441352e-06, 4.9183457006293e-09,)
AIRY_SERIES_TERMS = 12
_F32_EPS = 1.1920928955078125e-07


def airy_ai(x):
    one = _constant(1.0)
    inv_sqrt_pi = _constant(5.64189583547756286948e-01)
    # below -2.09
    neg = ops.neg(x)
    zeta_neg = ops.truediv(ops.mul(ops.mul(_constant(-2.0), x), ops.sqrt(neg)), _constant(3.0))
    z = ops.truediv(one, zeta_neg)
    zz = ops.mul(z, z)
    t = ops.add(zeta_neg, _constant(0.25 * math.pi))
    oscillating = ops.mul(ops.truediv(inv_sqrt_pi, ops.sqrt(ops.sqrt(neg))),
                          ops.sub(ops.mul(ops.sin(t), ops.add(one, ops.truediv(ops.mul(zz, _polevl(zz, AIRY_AFN)),
                                                                                _polevl(zz, AIRY_AFD)))),
                                  ops.mul(ops.cos(t), ops.truediv(ops.mul(z, _polevl(zz, AIRY_AGN)),
                                                                  _polevl(zz, AIRY_AGD)))))
    # from 2.09 up
    zeta = ops.truediv(ops.mul(ops.mul(_constant(2.0), x), ops.sqrt(x)), _constant(3.0))
    w = ops.truediv(one, zeta)
    decaying = ops.truediv(ops.mul(inv_sqrt_pi, ops.truediv(_polevl(w, AIRY_AN), _polevl(w, AIRY_AD))),
                           ops.mul(ops.mul(_constant(2.0), ops.sqrt(ops.sqrt(x))), ops.exp(zeta)))
    # -2.09 <= x < 2.09: the series, on x itself (elsewhere on 0, so its flag stops at once)
    outside = ops.logical_or(ops.lt(x, _constant(-2.09)), ops.ge(x, _constant(2.09)))
    s = ops.where(outside, _constant(0.0), x)  # NaN stays NaN
    f, g, k, m, n, t = one, s, one, one, s, one
    cube = ops.mul(ops.mul(s, s), s)
    for _ in range(AIRY_SERIES_TERMS):
        running = ops.gt(t, _constant(_F32_EPS))
        # eager's order: m = m z / (k+1) / (k+2), n = n z / (k+2) / (k+3), k += 3
        k1, k2 = ops.add(k, one), ops.add(k, _constant(2.0))
        m1 = ops.truediv(ops.truediv(ops.mul(m, cube), k1), k2)
        n1 = ops.truediv(ops.mul(n, cube), k2)
        f1 = ops.add(f, m1)
        k3 = ops.add(k, _constant(3.0))
        n1 = ops.truediv(n1, k3)
        g1 = ops.add(g, n1)
        t1 = ops.abs(ops.truediv(m1, f1))
        f, g, k, m, n, t = (ops.where(running, new, old) for new, old in
                            ((f1, f), (g1, g), (k3, k), (m1, m), (n1, n), (t1, t)))
    series = ops.sub(ops.mul(_constant(0.355028053887817239260), f), ops.mul(_constant(0.258819403792806798405), g))
    value = _select_chain(series, (ops.lt(x, _constant(-2.09)), oscillating), (ops.ge(x, _constant(2.09)), decaying))
    return _select_chain(value, (ops.isinf(x), _constant(math.nan)), (ops.gt(x, _constant(103.892)), _constant(0.0)))


# --- gcd (and lcm, which Inductor decomposes into gcd) (issue 17) -----------------------------
# Inductor runs aten.gcd as a host fallback; here it is a pointwise op `npusim_gcd` lowered to
# eager's Euclid loop (Math.h calc_gcd: a, b = |a|, |b|; while a != 0: a, b = b % a, a) as an
# scf.while per element (at most ~93 steps for int64, Lame's theorem).
GCD_OP = "npusim_gcd"


def _gcd_inner(a, b):
    import warnings

    with warnings.catch_warnings():  # Inductor's CSE proxy warns about an op outside its schema
        warnings.simplefilter("ignore")
        return getattr(ops, GCD_OP)(a, b)


def npusim_gcd(a, b):
    return _record_op("gcd", a, b)


def floor_divide_float(a, b):
    """a // b for floats as eager computes it (ATen's div_floor_floating, Python's semantics): from
    fmod, so 1 // -inf = -1 and inf // 1 = nan, and a quotient that rounds to -0 (1e-45 // -2.5)
    floors to -1; Inductor's floor(a / b) gives -0, inf and -0 there."""
    zero, one = _constant(0.0), _constant(1.0)
    mod = ops.fmod(a, b)
    div = ops.truediv(ops.sub(a, mod), b)
    div = ops.where(ops.and_(ops.ne(mod, zero), ops.ne(ops.lt(b, zero), ops.lt(mod, zero))), ops.sub(div, one), div)
    floor = ops.floor(div)
    floor = ops.where(ops.gt(ops.sub(div, floor), _constant(0.5)), ops.add(floor, one), floor)
    quotient = ops.truediv(a, b)
    result = ops.where(ops.ne(div, zero), floor, ops.copysign(zero, quotient))
    return ops.where(ops.eq(b, zero), quotient, result)  # a / 0: IEEE's inf or nan


def floor_division_lowering():
    """aten.div(rounding_mode="floor") of floats (and floor_divide, which decomposes to it) as
    floor_divide_float for the duration; Inductor's lowering restored after."""
    from torch._inductor import lowering
    from torch._prims_common import ELEMENTWISE_TYPE_PROMOTION_KIND

    inductor_div = lowering.lowerings[torch.ops.aten.div.Tensor_mode]

    def div_mode(a, b, rounding_mode=None):
        if rounding_mode == "floor" and not (lowering.is_integer_type(a) and lowering.is_integer_type(b)):
            return lowering.make_pointwise(floor_divide_float)(a, b)
        return inductor_div(a, b, rounding_mode=rounding_mode)

    ours: dict = {}
    overloads = [torch.ops.aten.div.Tensor, torch.ops.aten.div.Scalar, torch.ops.aten.div.Tensor_mode,
                 torch.ops.aten.div.Scalar_mode]
    lowering._register_lowering(overloads, div_mode, broadcast=True,
                                type_promotion_kind=ELEMENTWISE_TYPE_PROMOTION_KIND.DEFAULT,
                                convert_input_to_bool=False, lowering_dict=ours)
    return lowerings_replaced(ours)


def gcd_lowering():
    """aten.gcd lowered as the pointwise `npusim_gcd` for the duration; Inductor's fallback restored after."""
    from torch._inductor import lowering
    from torch._inductor.utils import register_op_dtype_propagation_rules
    from torch._prims_common import ELEMENTWISE_TYPE_PROMOTION_KIND

    register_op_dtype_propagation_rules(GCD_OP, ELEMENTWISE_TYPE_PROMOTION_KIND.DEFAULT, None)

    def lower_gcd(a, b):
        a, b = lowering.broadcast_tensors(a, b)
        return lowering.make_pointwise(_gcd_inner)(a, b)

    return lowerings_replaced({torch.ops.aten.gcd.default: lower_gcd})


def lower_gcd(node, args, cast, mlir_type):
    from mlir.dialects import arith
    from mlir.dialects import math as mmath

    dtype = node.dtype
    itype = mlir_type(dtype)
    a = mmath.absi(cast(args[0][0], args[0][1], dtype))
    b = mmath.absi(cast(args[1][0], args[1][1], dtype))
    zero = arith.constant(itype, 0)
    _, divisor = while_loop([itype, itype], [a, b], lambda a, b: arith.cmpi(arith.CmpIPredicate.ne, a, zero),
                            lambda a, b: [arith.remsi(b, a), a])
    return divisor


# --- erfinv, hypot, nextafter, frexp (issue 17d) ----------------------------------------------
# erfinv: ATen's calc_erfinv (Math.h; Pavlis' rational fit, then two Newton steps on erf).
ERFINV_A = (0.886226899, -1.645349621, 0.914624893, -0.140543331)
ERFINV_B = (-2.118377725, 1.442710462, -0.329097515, 0.012229801)
ERFINV_C = (-1.970840454, -1.624906493, 3.429567803, 1.641345311)
ERFINV_D = (3.543889200, 1.637067800)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _horner(z, coefficients):
    """coefficients[0] + z * (coefficients[1] + ...), lowest power first (eager's nesting)."""
    value = _constant(coefficients[-1])
    for coefficient in reversed(coefficients[:-1]):
        value = ops.add(ops.mul(value, z), _constant(coefficient))
    return value


def erfinv(y):
    one = _constant(1.0)
    a = ops.abs(y)
    z = ops.mul(y, y)
    central = ops.truediv(ops.mul(y, _horner(z, ERFINV_A)), ops.add(ops.mul(_horner(z, ERFINV_B), z), one))
    w = ops.sqrt(ops.neg(ops.log(ops.truediv(ops.sub(one, a), _constant(2.0)))))
    tail = ops.truediv(ops.copysign(_horner(w, ERFINV_C), y), _horner(w, (1.0, *ERFINV_D)))
    x = ops.where(ops.le(a, _constant(0.7)), central, tail)
    for _ in range(2):  # Newton: x -= (erf(x) - y) / (2/sqrt(pi) * exp(-x^2))
        x = ops.sub(x, ops.truediv(ops.sub(ops.erf(x), y),
                                   ops.mul(_constant(_TWO_OVER_SQRT_PI), ops.exp(ops.neg(ops.mul(x, x))))))
    return _select_chain(x, (ops.eq(a, one), ops.copysign(_constant(math.inf), y)),
                         (ops.gt(a, one), _constant(math.nan)))


def hypot(x, y):
    """sqrt(x^2 + y^2) in f64 (no overflow or underflow of the squares for f32/f16/bf16 operands;
    one rounding to the result, as Sleef's 0.5-ulp hypotf); an infinite operand gives inf, even
    beside a NaN, as C's hypot does."""
    f64 = torch.float64
    wide = ops.sqrt(ops.add(ops.mul(ops.to_dtype(x, f64), ops.to_dtype(x, f64)),
                            ops.mul(ops.to_dtype(y, f64), ops.to_dtype(y, f64))))
    value = ops.to_dtype(wide, torch.float32)
    return ops.where(ops.logical_or(ops.isinf(x), ops.isinf(y)), _constant(math.inf), value)


_INT_OF_WIDTH = {64: torch.int64, 32: torch.int32, 16: torch.int16}


def nextafter(x, y, dtype: torch.dtype):
    """C's nextafter on the bits of `dtype` (eager's: bf16/f16 step by their own ulp): toward y,
    the integer view of |x| steps by one; x == y gives y, x == 0 the smallest subnormal signed
    like y, a NaN operand NaN."""
    itype = _INT_OF_WIDTH[torch.finfo(dtype).bits]
    xd, yd = ops.to_dtype(x, dtype), ops.to_dtype(y, dtype)
    bits = ops.to_dtype_bitcast(xd, itype, dtype)
    one = ops.constant(1, itype)
    zero = _constant(0.0)
    up = ops.eq(ops.lt(x, y), ops.gt(x, zero))  # away from zero when moving further from it
    stepped = ops.to_dtype_bitcast(ops.where(up, ops.add(bits, one), ops.sub(bits, one)), dtype, itype)
    smallest = torch.finfo(dtype).smallest_normal * torch.finfo(dtype).eps  # the smallest subnormal
    tiny = ops.copysign(ops.to_dtype(_constant(smallest), dtype), yd)
    either_nan = ops.logical_or(ops.isnan(x), ops.isnan(y))
    return _select_chain(stepped, (either_nan, ops.add(xd, yd)), (ops.eq(x, y), yd), (ops.eq(x, zero), tiny))


def frexp(x):
    """(mantissa in [0.5, 1) signed like x, int32 exponent) with x = mantissa * 2^exponent, from the
    f32 bits (eager computes f16/bf16 through float, exactly); 0, inf and NaN give (x, 0);
    a subnormal is scaled by 2^24 first."""
    f32, i32 = torch.float32, torch.int32
    xf = ops.to_dtype(x, f32)
    subnormal = ops.lt(ops.abs(xf), _constant(torch.finfo(f32).smallest_normal))
    scaled = ops.where(subnormal, ops.mul(xf, _constant(2.0 ** 24)), xf)
    bits = ops.to_dtype_bitcast(scaled, i32, f32)
    field = ops.bitwise_and(ops.bitwise_right_shift(bits, ops.constant(23, i32)), ops.constant(0xFF, i32))
    exponent = ops.sub(field, ops.where(subnormal, ops.constant(126 + 24, i32), ops.constant(126, i32)))
    mantissa_bits = ops.bitwise_or(ops.bitwise_and(bits, ops.constant(~(0xFF << 23), i32)), ops.constant(126 << 23, i32))
    mantissa = ops.to_dtype_bitcast(mantissa_bits, f32, i32)
    special = ops.logical_or(ops.eq(xf, _constant(0.0)), ops.logical_or(ops.isinf(xf), ops.isnan(xf)))
    return (ops.where(special, xf, mantissa), ops.where(special, ops.constant(0, i32), exponent))
