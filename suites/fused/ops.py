"""Fused chains: several ops Inductor fuses into one kernel."""

import torch
import torch.nn.functional as F

from harness.spec import OpSpec

SPECS = [
    OpSpec("gelu_mul_add", lambda x, y: F.gelu(x) * y + 1, inputs=["N", "N"], atol=1e-5),
    OpSpec("silu_residual", lambda x, r: F.silu(x) + r, inputs=["M,N", "M,N"], atol=1e-5),
    OpSpec("scale_shift_relu", lambda x, s, b: torch.relu(x * s + b), inputs=["M,N", "N", "N"]),
    OpSpec("softmax_scaled", lambda x: torch.softmax(x * 0.125, -1) * 2, inputs=["M,N"], rtol=1e-4, atol=1e-5),
]
