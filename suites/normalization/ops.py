"""Fused normalisations over the last dim: softmax, log_softmax, layer_norm."""

import torch
import torch.nn.functional as F

from harness.spec import OpSpec

NORM_TOL = dict(rtol=1e-4, atol=1e-5)

SPECS = [
    OpSpec("softmax", lambda x: torch.softmax(x, -1), inputs=["M,N"], **NORM_TOL),
    OpSpec("softmax_lowp", lambda x: torch.softmax(x, -1), inputs=["M,N"], dtypes=("f16", "bf16")),
    OpSpec("layer_norm_lowp", lambda x: F.layer_norm(x, x.shape[-1:]), inputs=["M,N"], dtypes=("f16", "bf16")),
    OpSpec("log_softmax", lambda x: torch.log_softmax(x, -1), inputs=["M,N"], rtol=1e-4, atol=1e-4),
    OpSpec("layer_norm", lambda x: F.layer_norm(x, x.shape[-1:]), inputs=["M,N"], rtol=1e-4, atol=1e-4),
    # normalisations over a static dim, as nn.LayerNorm(96) and reshape(-1, 8) give
    OpSpec("layer_norm_static_96", lambda x, w, b: F.layer_norm(x, (96,), w, b), inputs=["B,N,96", "96", "96"],
           rtol=1e-4, atol=1e-4),
    OpSpec("softmax_static_8", lambda x: torch.softmax(x, -1), inputs=["N,8"], **NORM_TOL),
    OpSpec("rms_norm_static_64", lambda x, w: F.rms_norm(x, (64,), w), inputs=["N,64", "64"], rtol=1e-4, atol=1e-4),
    OpSpec("layer_norm_affine", lambda x, w, b: F.layer_norm(x, x.shape[-1:], w, b), inputs=["M,N", "N", "N"],
           rtol=1e-4, atol=1e-4),
]
