"""Matmul on the systolic array: mm, transposed operands, linear with and without bias, addmm,
bmm with a dynamic batch, batched matmul. Every dim (M, N, K, B) sweeps around the array size
while the others stay small (`size_tile="systolic"`); the K sum grows the tolerance; the MACs
(`gemm_macs`) give the floor its systolic term."""

import torch
import torch.nn.functional as F

from harness.spec import OpSpec

FLOATS = ("f32", "f16", "bf16")


def gemm_macs(sizes: dict[str, int]) -> int:
    """M*N*K multiply-accumulates per matrix (times the batch B when there is one): the systolic
    term of the physical-limit floor."""
    return sizes.get("B", 1) * sizes["M"] * sizes["N"] * sizes["K"]


GEMM = dict(summed=("K",), size_tile="systolic", macs=gemm_macs)

SPECS = [
    OpSpec("mm", lambda a, b: a @ b, inputs=["M,K", "K,N"], dtypes=FLOATS, **GEMM),
    OpSpec("mm_at", lambda a, b: a.t() @ b, inputs=["K,M", "K,N"], **GEMM),
    OpSpec("mm_bt", lambda a, b: a @ b.t(), inputs=["M,K", "N,K"], **GEMM),
    OpSpec("linear_bias", lambda x, w, b: F.linear(x, w, b), inputs=["M,K", "N,K", "N"], dtypes=FLOATS, **GEMM),
    OpSpec("linear", lambda x, w: F.linear(x, w), inputs=["M,K", "N,K"], **GEMM),
    OpSpec("addmm", lambda c, a, b: torch.addmm(c, a, b), inputs=["M,N", "M,K", "K,N"], **GEMM),
    # epilogues fused on the C tile (compiler/epilogue.py)
    OpSpec("linear_relu", lambda x, w, b: torch.relu(F.linear(x, w, b)), inputs=["M,K", "N,K", "N"], **GEMM),
    OpSpec("linear_gelu", lambda x, w, b: F.gelu(F.linear(x, w, b)), inputs=["M,K", "N,K", "N"], dtypes=("f32", "bf16"),
           **GEMM),
    OpSpec("mm_silu_residual", lambda a, b, r: r + F.silu(a @ b), inputs=["M,K", "K,N", "M,N"], **GEMM),
    OpSpec("bmm", torch.bmm, inputs=["B,M,K", "B,K,N"], dtypes=("f32", "bf16"), **GEMM),
    OpSpec("matmul_3d_2d", lambda a, b: a @ b, inputs=["B,M,K", "K,N"], **GEMM),
]
