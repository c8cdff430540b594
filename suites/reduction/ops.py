"""Reductions: sum, mean, amax, amin, prod over the last dim, all dims and a middle dim."""

import torch

from harness.spec import OpSpec

REDUCE_TOL = dict(rtol=1e-4, atol=1e-4)  # summation order differs from ATen's

SPECS = [
    OpSpec("sum_all", lambda x: x.sum(), inputs=["N"], summed=("N",), **REDUCE_TOL),
    OpSpec("sum_last", lambda x: x.sum(-1), inputs=["M,N"], summed=("N",), **REDUCE_TOL),
    OpSpec("sum_last_lowp", lambda x: x.sum(-1), inputs=["M,N"], dtypes=("f16", "bf16"), summed=("N",)),
    OpSpec("mean_last", lambda x: x.mean(-1), inputs=["M,N"], **REDUCE_TOL),
    OpSpec("amax_last", lambda x: x.amax(-1), inputs=["M,N"]),
    OpSpec("amin_all", lambda x: x.amin(), inputs=["M,N"]),
    OpSpec("prod_last", lambda x: x.prod(-1), inputs=["M,N"], values="unit", rtol=1e-3, atol=1e-5),
    OpSpec("sum_middle", lambda x: x.sum(1), inputs=["B,M,N"], summed=("M",), **REDUCE_TOL),
    OpSpec("sum_last_i32", lambda x: x.sum(-1), inputs=["M,N"], dtypes=("i32",)),
    # reductions over a static dim (its tile is the whole, fixed extent)
    OpSpec("sum_static_pairs", lambda x: x.sum(-1), inputs=["M,N,2"], **REDUCE_TOL),
    OpSpec("amax_static_96", lambda x: x.amax(-1), inputs=["N,96"]),
    OpSpec("mean_view_pairs", lambda x: x.view(x.shape[0], -1, 2).mean(-1), inputs=["M,N,2"], **REDUCE_TOL),
    # accuracy of long sums against float64: partial sums keep a few ulps where one running
    # float drifts eps * n (CONTRACTS.md section 1)
    OpSpec("mean_sq_vs_f64", lambda x: (x * x).mean(), inputs=["N"], reference="float64", rtol=1e-6, atol=0.0),
    OpSpec("sum_vs_f64", lambda x: x.sum(-1), inputs=["M,N"], reference="float64", rtol=1e-5, atol=1e-5),
]
