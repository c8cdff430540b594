"""max_pool2d and avg_pool2d on the NPU: the conv template's depthwise path without weights.

Inductor lowers pooling to a pointwise kernel over the output with one masked load per window
element; its output index mixes the graph output's `Max(1, Wo)` strides with the flattened
range, which the emitter cannot prove affine (refused as a scatter). Inside the backend's codegen
scope (`pool_lowerings()`) `prims._low_memory_max_pool_with_offsets` (what Inductor decomposes
`max_pool2d` into) and `aten.avg_pool2d` become a `ConvBuffer` whose emitter (`PoolEmitter`)
runs the depthwise loop nest of compiler/conv.py: per tap, the window rows of TN channels by
DMA (the parts outside the image hold -inf for max, 0 for avg), then a vector max or add; avg
divides by the window's size (count_include_pad) or by its in-image part.
The offsets (indices) of a max pool stay Inductor's own kernel, removed when unused.
"""

from __future__ import annotations

import contextlib
import math

import torch
from mlir import ir
from torch.utils._sympy.functions import FloorDiv
from mlir.dialects import arith, memref

from compiler.conv import ConvBuffer, ConvEmitter, ConvKernel, ConvParams, _fixed, _static_ints
from compiler.errors import UnsupportedOp
from compiler.printer import const_i64, to_i64

POOL_OPS = {"max": "max_pool2d", "avg": "avg_pool2d"}


class PoolBuffer(ConvBuffer):
    def __init__(self, layout, inputs, *, params: ConvParams, mode: str, count_include_pad: bool,
                 divisor_override: int | None):
        self.mode = mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override
        super().__init__(layout, inputs, params=params, has_bias=False)
        self.make_kernel_render = _make_kernel_render


def _pool(mode: str, x, kernel_size, stride, padding, dilation, ceil_mode, count_include_pad=True,
          divisor_override=None):
    from torch._inductor import ir as inductor_ir

    op = POOL_OPS[mode]
    if ceil_mode:
        raise UnsupportedOp(op, "ceil_mode=True")
    if len(x.get_size()) != 4:
        raise UnsupportedOp(op, "an unbatched or non-2-D input (B, C, H, W)")
    dtype = x.get_dtype()
    if not dtype.is_floating_point or dtype == torch.float64:
        raise UnsupportedOp(op, f"dtype {dtype} (f32/f16/bf16)")

    def pair(values, what, default):
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        values = values or [default]
        values = values * 2 if len(values) == 1 else values
        return _static_ints(values, what)

    kernel = pair(kernel_size, "kernel size", None)
    stride = pair(stride, "stride", None) if stride else kernel
    padding, dilation = pair(padding, "padding", 0), pair(dilation, "dilation", 1)
    channels = _static_ints([x.get_size()[1]], "channel count")[0]
    params = ConvParams(in_channels=channels, out_channels=channels, groups=channels, kernel=tuple(kernel),
                        stride=tuple(stride), padding=tuple(padding), dilation=tuple(dilation), spatial_dims=2)
    batch, _, h, w = x.get_size()
    out = [batch, channels] + [FloorDiv(size + 2 * p - d * (k - 1) - 1, s) + 1
                               for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation)]
    x = _fixed(x)
    layout = inductor_ir.FixedLayout(x.get_device(), dtype, out, inductor_ir.FlexibleLayout.contiguous_strides(out))
    buffer = PoolBuffer(layout, [x], params=params, mode=mode, count_include_pad=bool(count_include_pad),
                        divisor_override=None if divisor_override is None else int(divisor_override))
    return inductor_ir.TensorBox.create(buffer)


def _max_pool_lowering(original):
    def lower(x, kernel_size, stride, padding, dilation, ceil_mode=False):
        values = _pool("max", x, kernel_size, stride, padding, dilation, ceil_mode)
        # the offsets (for indices) stay Inductor's argmax kernel: scheduled only when used
        _, offsets = original(x, kernel_size, stride, padding, dilation, ceil_mode)
        return values, offsets

    return lower


def lower_avg_pool2d(x, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True,
                     divisor_override=None):
    return _pool("avg", x, kernel_size, stride, padding, 1, ceil_mode, count_include_pad, divisor_override)


@contextlib.contextmanager
def pool_lowerings():
    """Inductor's lowerings of max/avg pooling replaced by ours for the duration; restored after."""
    from torch._inductor.lowering import lowerings

    max_op = torch.ops.prims._low_memory_max_pool_with_offsets.default
    avg_op = torch.ops.aten.avg_pool2d.default
    saved = {op: lowerings[op] for op in (max_op, avg_op) if op in lowerings}
    if max_op in saved:
        lowerings[max_op] = _max_pool_lowering(saved[max_op])
    lowerings[avg_op] = lower_avg_pool2d
    try:
        yield
    finally:
        lowerings.update(saved)


def _make_kernel_render(node: PoolBuffer, hint_override=None):
    kernel = PoolKernel(node)
    return kernel, kernel.render


class PoolKernel(ConvKernel):
    def make_emitter(self, spec):
        spec.name = POOL_OPS[self.node.mode]
        return PoolEmitter(spec, self.npu_config, self.node)


class PoolEmitter(ConvEmitter):
    def __init__(self, spec, config, node: PoolBuffer):
        self.mode = node.mode
        self.count_include_pad = node.count_include_pad
        self.divisor_override = node.divisor_override
        super().__init__(spec, config)
        if self.mode == "max":
            self.acc_start = self.pad_value = -math.inf

    def combine(self, acc_value, x, w):
        return arith.maximumf(acc_value, x) if self.mode == "max" else arith.addf(acc_value, x)

    def finish_acc(self, acc, acc_id, p0, mlen, nlen, sizes) -> None:
        """avg: each output pixel divided by its window's size (the padded window, or its in-image part)."""
        if self.mode != "avg":
            return
        p = self.spec.params
        (kh, kw), (sh, sw), (ph, pw) = p.kernel, p.stride, p.padding
        height, width, out_w = sizes
        f32 = ir.F32Type.get()
        c = const_i64

        def divide(j, i):
            if self.divisor_override is not None:
                divisor = arith.constant(f32, float(self.divisor_override))
            elif self.count_include_pad:  # floor mode: every window lies inside the padded image
                divisor = arith.constant(f32, float(kh * kw))
            else:
                pixel = arith.addi(p0, to_i64(i))
                h0 = arith.subi(arith.muli(arith.floordivsi(pixel, out_w), c(sh)), c(ph))
                w0 = arith.subi(arith.muli(arith.remsi(pixel, out_w), c(sw)), c(pw))
                rows = arith.subi(arith.minsi(arith.addi(h0, c(kh)), height), arith.maxsi(h0, c(0)))
                cols = arith.subi(arith.minsi(arith.addi(w0, c(kw)), width), arith.maxsi(w0, c(0)))
                divisor = arith.sitofp(f32, arith.muli(rows, cols))
            memref.store(arith.divf(memref.load(acc, [j, i]), divisor), acc, [j, i])

        self.element_nest(nlen, mlen, divide, {"unit": "vector", "reads": [acc_id], "writes": [acc_id]})

