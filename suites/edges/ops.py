"""Edge values: NaN, infinities, signed zeros, float extremes, integer minimum and maximum, and
reductions over a 0-length dim. Semantics follow eager ATen on x86-64; where npusim follows
Inductor's decomposition instead, the spec says so."""

import torch
import torch.nn.functional as F

from harness.spec import OpSpec

SPECS = [
    OpSpec("relu_edges", torch.relu, inputs=["M,N"], values="edge"),
    OpSpec("abs_neg_edges", lambda x: -x.abs(), inputs=["M,N"], values="edge"),
    OpSpec("maximum_edges", torch.maximum, inputs=["M,N", "M,N"], values="edge"),
    OpSpec("isnan_isinf", lambda x: x.isnan() | x.isinf(), inputs=["M,N"], values="edge"),
    OpSpec("exp_edges", torch.exp, inputs=["M,N"], values="edge"),
    OpSpec("sigmoid_edges", torch.sigmoid, inputs=["M,N"], values="edge"),
    OpSpec("tanh_gelu_edges", lambda x: F.gelu(x, approximate="tanh"), inputs=["M,N"], values="edge"),
    OpSpec("amax_edges", lambda x: x.amax(-1), inputs=["M,N"], values="edge"),
    OpSpec("to_int32", lambda x: x.to(torch.int32), inputs=["M,N"], values="edge"),
    OpSpec("to_int8", lambda x: x.to(torch.int8), inputs=["M,N"], values="edge"),
    OpSpec("to_int64", lambda x: x.to(torch.int64), inputs=["M,N"], values="edge"),
    OpSpec("int_extremes_add", lambda a, b: a + b, inputs=["M,N", "M,N"], dtypes=("i32", "i64"), values="edge"),
    OpSpec("int_extremes_max", lambda x: x.amax(-1), inputs=["M,N"], dtypes=("i32",), values="edge"),
    OpSpec("lowp_edges", lambda x: x * 2 + 1, inputs=["M,N"], dtypes=("f16", "bf16"), values="edge"),
    # reductions over a 0-length dim: sum 0, prod 1, mean NaN, softmax of nothing
    OpSpec("sum_empty", lambda x: x.sum(-1), inputs=["M,0"]),
    OpSpec("prod_empty", lambda x: x.prod(-1), inputs=["M,0"]),
    OpSpec("mean_empty", lambda x: x.mean(-1), inputs=["M,0"]),
    OpSpec("softmax_empty", lambda x: torch.softmax(x, -1), inputs=["M,0"]),
]
