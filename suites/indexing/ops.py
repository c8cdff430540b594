"""Indexing: argmax/argmin (index results, bit-exact; values="int" draws many ties, the first
index must win), over the last, a middle and every dim."""

import torch

from harness.spec import OpSpec

SPECS = [
    OpSpec("argmax_last", lambda x: x.argmax(-1), inputs=["M,N"], values="int"),
    OpSpec("argmin_last", lambda x: x.argmin(-1), inputs=["M,N"], values="int"),
    OpSpec("argmax_last_lowp", lambda x: x.argmax(-1), inputs=["M,N"], dtypes=("f16", "bf16", "i32")),
    OpSpec("argmax_middle", lambda x: x.argmax(1), inputs=["B,M,N"], values="int"),
    OpSpec("argmin_all", lambda x: x.argmin(), inputs=["M,N"]),
    OpSpec("argmax_edges", lambda x: x.argmax(-1), inputs=["M,N"], values="edge"),  # NaN wins, like eager
]
