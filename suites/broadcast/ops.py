"""Broadcasting where a dim is 1: literal 1s that broadcast, and dynamic dims whose sweep passes
through 1 (Dynamo specialises size 1: CONTRACTS.md section 7). An attention mask of shape
(B, 1, T) once gave silently wrong values; every spec here must give eager's."""

import torch

from harness.spec import OpSpec


def masked_softmax(scores, keep):
    return torch.softmax(scores.masked_fill(~keep, float("-inf")), -1)


def keep_mask(scores, keep_logits):
    """The mask as a bool from a float input (the harness draws floats): true where >= 0."""
    return masked_softmax(scores, keep_logits >= 0)


SPECS = [
    OpSpec("mask_broadcast_rows", keep_mask, inputs=["B,T,N", "B,1,N"], rtol=1e-4, atol=1e-5),
    OpSpec("mask_broadcast_batch", keep_mask, inputs=["B,T,N", "1,T,N"], rtol=1e-4, atol=1e-5),
    OpSpec("add_column", lambda a, b: a + b, inputs=["M,N", "M,1"]),
    OpSpec("add_row", lambda a, b: a + b, inputs=["M,N", "1,N"]),
    OpSpec("mul_outer", lambda a, b: a * b, inputs=["M,1", "1,N"]),
    OpSpec("where_scalar_column", lambda c, a, b: torch.where(c > 0, a, b), inputs=["M,1", "M,N", "1,N"]),
    OpSpec("bias_scale_3d", lambda x, w, b: x * w + b, inputs=["B,M,N", "1,1,N", "B,1,1"]),
    OpSpec("add_broadcast_lowp", lambda a, b: a + b, inputs=["M,N", "M,1"], dtypes=("f16", "bf16")),
]
