"""Layout: padding and shifted slices, lowered as masked loads (a masked-off element is never
read). Transposes, cat and strided stores need the scatter DMA and are still in suites/gaps."""

import torch
import torch.nn.functional as F

from harness.spec import OpSpec


def shift_right(x):
    out = torch.zeros_like(x)
    out[:, 1:] = x[:, :-1] * 2
    return out


SPECS = [
    OpSpec("pad_both", lambda x: F.pad(x, (1, 2)), inputs=["N"]),
    OpSpec("pad_value_left", lambda x: F.pad(x, (5, 0), value=-2.5), inputs=["N"]),
    OpSpec("pad_2d", lambda x: F.pad(x, (1, 2)), inputs=["M,N"]),
    OpSpec("pad_lowp", lambda x: F.pad(x, (3, 3)), inputs=["N"], dtypes=("f16", "bf16")),
    OpSpec("shift_right", shift_right, inputs=["M,N"]),
]
