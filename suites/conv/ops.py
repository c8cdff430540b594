"""Convolution and pooling: conv2d 3x3 / 1x1 / stride 2 / depthwise / dilated / grouped, conv1d
(implicit GEMM on the systolic array, compiler/conv.py), max/avg/adaptive pooling and batch norm
in eval. Batch, height and width sweep one at a time over small images including 1, odd and prime
sizes (`size_tile="image"`); channels and kernel sizes are static (literal dims). The window sum
is static (Cin*kh*kw), so a fixed atol against a float64 reference bounds it, and
`conv_macs` gives the physical-limit floor its systolic term."""

import torch
import torch.nn.functional as F

from harness.spec import OpSpec

FLOATS = ("f32", "bf16")
CIN, COUT = 8, 16


def conv_macs(cout: int, cin_per_group: int, kernel: tuple, stride: tuple = (1, 1), padding: tuple = (0, 0),
              dilation: tuple = (1, 1)):
    """B * Cout * Ho * Wo * Cin_g * kh * kw multiply-accumulates (a conv1d has no H)."""
    def out(size, k, s, p, d):
        return max(0, (size + 2 * p - d * (k - 1) - 1) // s + 1)

    def macs(sizes: dict[str, int]) -> int:
        ho = out(sizes.get("H", 1), kernel[0], stride[0], padding[0], dilation[0])
        wo = out(sizes["W"], kernel[-1], stride[-1], padding[-1], dilation[-1])
        return sizes["B"] * cout * ho * wo * cin_per_group * kernel[0] * kernel[-1]

    return macs


# float64 reference: the tolerance bounds our own f32 accumulation of Cin*kh*kw products
CONV = dict(size_tile="image", reference="float64", atol=5e-5)
IMG = f"B,{CIN},H,W"

SPECS = [
    OpSpec("conv2d_3x3", lambda x, w, b: F.conv2d(x, w, b, padding=1), inputs=[IMG, f"{COUT},{CIN},3,3", f"{COUT}"],
           dtypes=FLOATS, macs=conv_macs(COUT, CIN, (3, 3), padding=(1, 1)), **CONV),
    OpSpec("conv2d_1x1", lambda x, w: F.conv2d(x, w), inputs=[IMG, f"{COUT},{CIN},1,1"],
           macs=conv_macs(COUT, CIN, (1, 1)), **CONV),
    OpSpec("conv2d_stride2", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
           inputs=[IMG, f"{COUT},{CIN},3,3", f"{COUT}"],
           macs=conv_macs(COUT, CIN, (3, 3), stride=(2, 2), padding=(1, 1)), **CONV),
    OpSpec("conv2d_depthwise", lambda x, w: F.conv2d(x, w, padding=1, groups=CIN), inputs=[IMG, f"{CIN},1,3,3"],
           dtypes=FLOATS, macs=conv_macs(CIN, 1, (3, 3), padding=(1, 1)), **CONV),
    OpSpec("conv2d_dilated", lambda x, w: F.conv2d(x, w, padding=2, dilation=2), inputs=[IMG, f"{COUT},{CIN},3,3"],
           macs=conv_macs(COUT, CIN, (3, 3), padding=(2, 2), dilation=(2, 2)), **CONV),
    OpSpec("conv2d_groups", lambda x, w: F.conv2d(x, w, padding=(1, 0), groups=2), inputs=[IMG, f"{COUT},4,3,1"],
           macs=conv_macs(COUT, CIN // 2, (3, 1), padding=(1, 0)), **CONV),
    OpSpec("conv1d", lambda x, w, b: F.conv1d(x, w, b, padding=2), inputs=[f"B,{CIN},W", f"{COUT},{CIN},5", f"{COUT}"],
           dtypes=FLOATS, macs=conv_macs(COUT, CIN, (5,), padding=(2,)), **CONV),
    OpSpec("batch_norm_eval", lambda x, m, v, g, b: F.batch_norm(x, m, v, g, b, training=False),
           inputs=[IMG, f"{CIN}", f"{CIN}", f"{CIN}", f"{CIN}"], values=["normal", "normal", "positive", "normal",
                                                                          "normal"], size_tile="image"),
    OpSpec("adaptive_avg_pool2d_1x1", lambda x: F.adaptive_avg_pool2d(x, 1), inputs=[IMG], size_tile="image",
           summed=("H", "W")),
    # to a fixed grid: the windows' bounds computed in the kernel from H and W (compiler/pool.py),
    # one compile for every image size; (7, 7) is larger than the small images (windows of one)
    OpSpec("adaptive_avg_pool2d_7x7", lambda x: F.adaptive_avg_pool2d(x, 7), inputs=[IMG], dtypes=FLOATS,
           size_tile="image"),
    OpSpec("adaptive_avg_pool2d_2x3", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), inputs=[IMG], dtypes=FLOATS,
           size_tile="image"),
    # max/avg pooling: the conv template's depthwise path without weights (compiler/pool.py)
    OpSpec("max_pool2d_3x3_s2", lambda x: F.max_pool2d(x, 3, 2, 1), inputs=[IMG], size_tile="image"),
    # padded: an unpadded 2x2 pool maps an image of 3 to an output of 1 (Dynamo specialises it)
    OpSpec("max_pool2d_2x2", lambda x: F.max_pool2d(x, 2, 2, 1), inputs=[IMG], dtypes=FLOATS, size_tile="image"),
    OpSpec("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1), inputs=[IMG], dtypes=FLOATS, size_tile="image"),
    OpSpec("avg_pool2d_exclude_pad", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), inputs=[IMG],
           size_tile="image"),
    # ceil mode: the last window hangs over the image's end (at odd sizes here; at even ones for the
    # 3x3 stride-2 padded max); none starts past the image, so the output size has no parity guard
    OpSpec("max_pool2d_2x2_ceil", lambda x: F.max_pool2d(x, 2, 2, ceil_mode=True), inputs=[IMG], dtypes=FLOATS,
           size_tile="image"),
    OpSpec("max_pool2d_3x3_s2_ceil", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), inputs=[IMG],
           size_tile="image"),
    OpSpec("avg_pool2d_4x4_s2_ceil", lambda x: F.avg_pool2d(x, 4, 2, 1, ceil_mode=True), inputs=[IMG],
           dtypes=FLOATS, size_tile="image"),
    OpSpec("avg_pool2d_4x4_s2_ceil_exclude_pad",
           lambda x: F.avg_pool2d(x, 4, 2, 1, ceil_mode=True, count_include_pad=False), inputs=[IMG],
           size_tile="image"),
]
