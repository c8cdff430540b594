"""Elementwise ops: unary, binary, broadcast and scalar operands."""

import torch
import torch.nn.functional as F

from harness.spec import OpSpec

SPECS = [
    # binary
    OpSpec("add", lambda a, b: a + b, inputs=["N", "N"], dtypes=("f32", "i32", "f16", "bf16")),
    OpSpec("sub", lambda a, b: a - b, inputs=["N", "N"]),
    OpSpec("mul", lambda a, b: a * b, inputs=["N", "N"], dtypes=("f32", "f16", "bf16")),
    OpSpec("div", lambda a, b: a / b, inputs=["N", "N"], values=["normal", "positive"]),
    OpSpec("maximum", torch.maximum, inputs=["N", "N"]),
    OpSpec("minimum", torch.minimum, inputs=["N", "N"]),
    OpSpec("pow", lambda a, b: torch.pow(a, b), inputs=["N", "N"], values=["positive", "normal"], rtol=1e-3),
    OpSpec("where_gt", lambda a, b: torch.where(a > b, a, b * 2), inputs=["N", "N"]),
    OpSpec("compare", lambda a, b: (a < b).float() + (a >= b * 0.5).float() + (a == a).float(),
           inputs=["N", "N"]),
    # unary
    OpSpec("neg", lambda a: -a, inputs=["N"]),
    OpSpec("abs", torch.abs, inputs=["N"]),
    OpSpec("relu", torch.relu, inputs=["N"]),
    OpSpec("sigmoid", torch.sigmoid, inputs=["N"], rtol=1e-4, atol=1e-5),
    OpSpec("tanh", torch.tanh, inputs=["N"], atol=1e-5),
    OpSpec("exp", torch.exp, inputs=["N"], dtypes=("f32", "f16", "bf16")),
    OpSpec("log", torch.log, inputs=["N"], values="positive"),
    OpSpec("sqrt", torch.sqrt, inputs=["N"], values="positive"),
    OpSpec("rsqrt", torch.rsqrt, inputs=["N"], values="positive"),
    OpSpec("erf", torch.erf, inputs=["N"], atol=1e-5),
    OpSpec("gelu", F.gelu, inputs=["N"], atol=1e-5),
    OpSpec("cast_int", lambda a: (a * 10).to(torch.int32), inputs=["N"]),
    # broadcast and scalar operands
    OpSpec("add_broadcast_row", lambda a, b: a + b, inputs=["M,N", "N"]),
    OpSpec("mul_broadcast_col", lambda a, b: a * b, inputs=["M,N", "M,1"]),
    OpSpec("scalar_affine", lambda a: a * 2.5 - 1.0, inputs=["M,N"]),
    OpSpec("add_3d", lambda a, b: a + b, inputs=["B,M,N", "B,M,N"]),
]
