"""Layout: views, transposes, permutes, expands, strided slices, cat, stack and pad.

Inductor's dimensions are kept as loop dims (CONTRACTS.md section 1), so each of these is a
strided DMA per row of its outer dims, not an element gather/scatter. Pure data movement is
bit-exact (rtol = atol = 0). Padding and shifted slices are masked loads (a masked-off element is
never read)."""

import torch
import torch.nn.functional as F

from harness.spec import OpSpec

EXACT = dict(rtol=0.0, atol=0.0)


def shift_right(x):
    out = torch.zeros_like(x)
    out[:, 1:] = x[:, :-1] * 2
    return out


SPECS = [
    OpSpec("pad_both", lambda x: F.pad(x, (1, 2)), inputs=["N"]),
    OpSpec("pad_value_left", lambda x: F.pad(x, (5, 0), value=-2.5), inputs=["N"]),
    OpSpec("pad_2d", lambda x: F.pad(x, (1, 2)), inputs=["M,N"]),
    OpSpec("pad_rows_and_cols", lambda x: F.pad(x, (1, 2, 2, 1), value=0.5), inputs=["M,N"], **EXACT),
    OpSpec("pad_dynamic_width", lambda x: F.pad(x, (0, x.shape[-1] // 2)), inputs=["M,N"], **EXACT),
    OpSpec("pad_lowp", lambda x: F.pad(x, (3, 3)), inputs=["N"], dtypes=("f16", "bf16")),
    OpSpec("shift_right", shift_right, inputs=["M,N"]),
    # "* 2" (exact) so that a size of 1 still has a kernel (a bare .contiguous() of a transposed
    # vector is a view); .contiguous() so that the output is stored transposed (Inductor gives a
    # pointwise op of a transposed view the view's strides)
    OpSpec("transpose", lambda x: (x.t() * 2).contiguous(), inputs=["M,N"], **EXACT),
    OpSpec("view_t", lambda x: (x.view(x.shape[0], -1, 2).transpose(1, 2) * 2).contiguous(), inputs=["M,N,4"],
           **EXACT),
    OpSpec("permute_3d", lambda x: (x.permute(2, 0, 1) * 2).contiguous(), inputs=["B,M,N"], **EXACT),
    OpSpec("transpose_last_3d", lambda x: (x.transpose(1, 2) * 2).contiguous(), inputs=["B,M,N"], **EXACT),
    OpSpec("reshape_of_transpose", lambda x: x.t().reshape(-1) * 2, inputs=["M,N"], **EXACT),
    OpSpec("expand_row", lambda a, b: torch.where(a > 0, b.expand(a.shape[0], -1), a), inputs=["M,N", "1,N"],
           **EXACT),
    OpSpec("expand_col_3d", lambda a, b: a + b.expand(-1, -1, a.shape[2]), inputs=["B,M,N", "B,M,1"]),
    OpSpec("slice_step", lambda x: x[:, 1::2] * 2, inputs=["M,N"], **EXACT),
    OpSpec("slice_step_3d", lambda x: x[:, ::2, 1:].contiguous(), inputs=["B,M,N"], **EXACT),
    OpSpec("cat_last", lambda a, b: torch.cat([a, b * 2], -1), inputs=["M,N", "M,N"], **EXACT),
    OpSpec("cat_first", lambda a, b: torch.cat([a, b], 0), inputs=["M,N", "M,N"], **EXACT),
    OpSpec("cat_middle_3d", lambda a, b: torch.cat([a, b * 2], 1), inputs=["B,M,N", "B,M,N"], **EXACT),
    OpSpec("stack_middle", lambda a, b: torch.stack([a, b], 1), inputs=["M,N", "M,N"], **EXACT),
]
