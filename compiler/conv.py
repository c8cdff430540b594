"""Convolution on the systolic array: aten.convolution (conv1d / conv2d) as an implicit GEMM.

Inside the backend's codegen scope (`conv_lowerings()`, beside the matmul ones), Inductor's
lowering of `aten.convolution` (an extern kernel) is replaced by a `ConvBuffer` template,
rendered by `ConvKernel` through the matmul template's building blocks (`SystolicEmitter`).
Per group g the GEMM is C[p, n] = sum_k A[p, k] * B[k, n] with p an output pixel of one image
(P = Ho * Wo), n an output channel of the group and k = (tap (i, j), input channel c):

    for t in 0 .. batch * groups * ceil(P/TM) * ceil(Cout_g/TN)   parallel tile loop "x"
      acc[TN x TM] (f32) = 0, or the bias                           vector compute
      for ks in 0 .. k_steps * TK step TK                           tile loop "r": a tap group x channel chunk
        A^T = 0 (only when the conv pads)                           vector compute
        for each tap of the group, for each output row in the tile:
          DMA x[b, c0 + c, hi, wi(wo)] -> A^T[tap*clen + c, p]      clamped to the image: padding stays 0
        DMA w[n0 + n, c0 + c, i, j] -> B[tap*clen + c, n]           per tap
        acc += A @ B                                                compute {unit = "systolic"}
      DMA acc (narrowed to the output dtype) -> out[b, g*Cout_g + n, p]

A and acc are held transposed (pixel-minor), so the input and output DMAs run along the
image's contiguous width. When the group has fewer input channels than the array has rows,
several taps share one K step (a 3x3 conv of 64 channels fills a 128-row array with 2 taps).
Channels, kernel size, stride, padding, dilation and groups are static; batch, height and
width are runtime sizes. Depthwise (groups = channels) runs through the same template.
A transposed conv1d/conv2d is the stride-1 conv of its zero-inserted input with flipped weights
(`_transposed_as_conv`); 3-D convolutions are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
import torch
from torch.utils._sympy.functions import FloorDiv, ModularIndexing
from mlir import ir
from mlir.dialects import arith, memref, scf
from torch._inductor import ir as inductor_ir
from torch._inductor.virtualized import V

from compiler.emitter import ABI_VERSION, elem_bits, storage_type
from compiler.errors import UnsupportedOp
from compiler.inductor_lowerings import lowerings_replaced
from compiler.matmul import (STACK_BUDGET_BYTES, Operand, SystolicEmitter, TemplateKernel, _dict_attr, _fixed,
                             choose_tiles)
from compiler.printer import IndexPrinter, const_i64, const_index, to_i64, to_index
from npusim.config import NpuConfig

OP_NAME = "aten.convolution"


@dataclass(frozen=True)
class ConvParams:
    """The static part of a convolution (2-D; a conv1d is a 2-D conv of height 1)."""

    in_channels: int
    out_channels: int
    groups: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    spatial_dims: int  # 1 (conv1d) or 2

    @property
    def group_in(self) -> int:
        return self.in_channels // self.groups

    @property
    def group_out(self) -> int:
        return self.out_channels // self.groups

    def as_dict(self) -> dict:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels, "groups": self.groups,
                "kernel": list(self.kernel), "stride": list(self.stride), "padding": list(self.padding),
                "dilation": list(self.dilation), "spatial_dims": self.spatial_dims}


class ConvBuffer(inductor_ir.TemplateBuffer):
    """out = conv(x, w) (+ bias), NCHW / NCL output; rendered by ConvKernel."""

    def __init__(self, layout, inputs, *, params: ConvParams, has_bias: bool):
        self.params = params
        self.has_bias = has_bias
        super().__init__(layout=layout, inputs=inputs, make_kernel_render=_make_kernel_render)


def _static_ints(values, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(V.graph.sizevars.guard_int(v)) if isinstance(v, sympy.Expr) else int(v) for v in values)
    except Exception as error:  # a symbolic stride/padding: the template's loops are built for constants
        raise UnsupportedOp(OP_NAME, f"a dynamic {what} ({values})") from error


def lower_convolution(x, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    from torch._inductor.kernel.conv import conv_layout

    rank = len(weight.get_size())
    if rank not in (3, 4):
        raise UnsupportedOp(OP_NAME, f"a {rank - 2}-D convolution (conv1d and conv2d run on the systolic array)")
    if transposed:
        if len(x.get_size()) != rank:
            raise UnsupportedOp(OP_NAME, "an unbatched input (add the batch dim)")
        x, weight, stride, padding, dilation, output_padding = _transposed_as_conv(
            x, weight, stride, padding, dilation, output_padding, groups)
    if len(x.get_size()) != rank:
        raise UnsupportedOp(OP_NAME, "an unbatched input (add the batch dim)")
    dtype = x.get_dtype()
    for node in (x, weight) + ((bias,) if bias is not None else ()):
        if node.get_dtype() != dtype or not dtype.is_floating_point or dtype == torch.float64:
            raise UnsupportedOp(OP_NAME, f"operands of dtype {node.get_dtype()} (f32/f16/bf16, all alike)")
    n_spatial = rank - 2
    out_channels, group_in, *kernel = _static_ints(weight.get_size(), "weight shape")
    in_channels = _static_ints([x.get_size()[1]], "input channel count")[0]
    (groups,) = _static_ints([groups], "groups")
    stride, padding, dilation = (_static_ints(v, name) for v, name in
                                 ((stride, "stride"), (padding, "padding"), (dilation, "dilation")))
    if len(stride) == 1 and n_spatial == 2:
        stride, padding, dilation = stride * 2, padding * 2, dilation * 2
    if in_channels != group_in * groups:
        raise UnsupportedOp(OP_NAME, f"{in_channels} input channels in {groups} groups of {group_in}")

    def two_d(values):
        return (1, *values) if n_spatial == 1 else tuple(values)

    params = ConvParams(in_channels=in_channels, out_channels=out_channels, groups=groups,
                        kernel=(1, kernel[0]) if n_spatial == 1 else tuple(kernel), stride=two_d(stride),
                        padding=(0, padding[0]) if n_spatial == 1 else tuple(padding), dilation=two_d(dilation),
                        spatial_dims=n_spatial)
    x, weight = _fixed(x), _fixed(weight)
    inferred = conv_layout(x, weight, None, stride=stride, padding=padding, dilation=dilation, transposed=False,
                           output_padding=tuple(output_padding), groups=groups)
    size = list(inferred.size)
    # the output layout eager gives (channels-last for a channels-last input), else contiguous: an
    # output row of pixels is one DRAM run. Either way the pixels (ho, wo) flatten to one stride.
    strides = inductor_ir.FlexibleLayout.contiguous_strides(size)
    if n_spatial == 2 and V.graph.sizevars.statically_known_equals(inferred.stride[1], 1):
        strides = list(inferred.stride)
    layout = inductor_ir.FixedLayout(x.get_device(), dtype, size, strides)
    inputs = [x, weight] + ([_fixed(bias)] if bias is not None else [])
    return inductor_ir.TensorBox.create(ConvBuffer(layout, inputs, params=params, has_bias=bias is not None))


def _transposed_as_conv(x, weight, stride, padding, dilation, output_padding, groups):
    """A transposed convolution as the stride-1 convolution it equals, on the systolic array like any other:
    the input with stride - 1 zeros between its elements and d*(k - 1) - padding zeros at each border (plus
    output_padding at the far end; a negative count crops), convolved with the weights flipped along every
    spatial dim and with input and output channels swapped per group (w[g*Cin_g + ci, co] -> w2[g*Cout_g + co,
    ci]). Both rewrites are pointwise npusim kernels; the zeros cost MACs (stride^dims of them per input
    element) but keep one GEMM template and its trace."""
    from torch._inductor.virtualized import ops

    n_spatial = len(weight.get_size()) - 2
    in_channels, group_out, *kernel = _static_ints(weight.get_size(), "weight shape")
    (groups,) = _static_ints([groups], "groups")

    def per_dim(values, name):
        values = _static_ints(values, name)
        return values * n_spatial if len(values) == 1 else values

    stride, padding, dilation, output_padding = (per_dim(v, name) for v, name in (
        (stride, "stride"), (padding, "padding"), (dilation, "dilation"), (output_padding, "output padding")))
    if in_channels % groups:
        raise UnsupportedOp(OP_NAME, f"{in_channels} input channels in {groups} groups")
    group_in = in_channels // groups
    before = [d * (k - 1) - p for d, k, p in zip(dilation, kernel, padding)]
    sizes = list(x.get_size())
    spatial = sizes[2:]
    inserted = [(n - 1) * s + 1 for n, s in zip(spatial, stride)]
    out_spatial = [n + 2 * b + o for n, b, o in zip(inserted, before, output_padding)]
    x_loader = x.make_loader()

    def zero_inserted(index):
        batch, channel, *positions = index
        source, mask = [], None
        for position, s, b, n in zip(positions, stride, before, inserted):
            shifted = position - b
            source.append(FloorDiv(shifted, s) if s > 1 else shifted)
            conds = [ops.ge(ops.index_expr(shifted, torch.int64), ops.constant(0, torch.int64)),
                     ops.lt(ops.index_expr(shifted, torch.int64), ops.index_expr(n, torch.int64))]
            if s > 1:
                conds.append(ops.eq(ops.index_expr(ModularIndexing(shifted, 1, s), torch.int64),
                                    ops.constant(0, torch.int64)))
            for cond in conds:
                mask = cond if mask is None else ops.and_(mask, cond)
        return ops.masked(mask, lambda: x_loader([batch, channel, *source]), 0.0)

    x = inductor_ir.Pointwise.create(device=x.get_device(), dtype=x.get_dtype(), inner_fn=zero_inserted,
                                     ranges=[*sizes[:2], *out_spatial])
    w_loader = weight.make_loader()

    def flipped(index):
        out_channel, in_channel, *taps = index
        return w_loader([FloorDiv(out_channel, group_out) * group_in + in_channel,
                         ModularIndexing(out_channel, 1, group_out), *(k - 1 - t for k, t in zip(kernel, taps))])

    weight = inductor_ir.Pointwise.create(device=weight.get_device(), dtype=weight.get_dtype(), inner_fn=flipped,
                                          ranges=[sympy.Integer(groups * group_out), sympy.Integer(group_in),
                                                  *(sympy.Integer(k) for k in kernel)])
    ones, zeros = [1] * n_spatial, [0] * n_spatial
    return x, weight, ones, zeros, list(dilation), zeros


def conv_lowerings():
    """Inductor's lowering of aten.convolution replaced by ours for the duration; restored after."""
    return lowerings_replaced({torch.ops.aten.convolution.default: lower_convolution})


def _make_kernel_render(node: ConvBuffer, hint_override=None):
    kernel = ConvKernel(node)
    return kernel, kernel.render


def _spatial(strides_or_sizes, n_spatial: int, fill):
    """(batch, channel, h, w) of a 3-D or 4-D layout; a conv1d's missing h gets `fill`."""
    values = list(strides_or_sizes)
    return values if n_spatial == 2 else [values[0], values[1], fill, values[2]]


def _taps_contiguous(strides, kernel: tuple[int, int], channels: int) -> bool:
    """Whether w[n, c0:c0 + channels, :, :] is one DRAM run per output channel n (strides
    (co, c, i, j)). A conv1d's missing height has stride 0 and is not a dim of the run."""
    if any(not sympy.sympify(s).is_Integer for s in strides):
        return False
    _, swc, swh, sww = (int(s) for s in strides)
    kh, kw = kernel
    return sww == 1 and (kh == 1 or swh == kw) and (channels == 1 or swc == kh * kw)


@dataclass
class ConvSpec:
    name: str
    params: ConvParams
    dims: dict          # B, H, W, Ho, Wo: sympy over the kernel's size args
    x: Operand          # strides (b, c, h, w)
    w: Operand          # strides (co, c, i, j)
    bias: Operand | None
    out: Operand        # strides (b, c, h, w), contiguous
    tensor_args: list = None
    numels: dict = None
    size_args: list = None


class ConvKernel(TemplateKernel):
    def render(self) -> str:
        node: ConvBuffer = self.node
        params = node.params
        x_node = node.inputs[0]
        operands = {"x": x_node, "out": node}
        if len(node.inputs) > 1:  # a pooling has no weights
            operands["w"] = node.inputs[1]
        if node.has_bias:
            operands["bias"] = node.inputs[2]
        names = self.bind_args([n.get_name() for key, n in operands.items() if key != "out"], node.get_name())
        rename = self.rename_indexing
        zero = sympy.Integer(0)

        def operand(key):
            if key not in operands:
                return None
            layout = operands[key].get_layout()
            strides = layout.stride if key == "bias" else _spatial(layout.stride, params.spatial_dims, zero)
            return Operand(names[operands[key].get_name()], layout.dtype, rename(sympy.sympify(layout.offset)),
                           tuple(rename(sympy.sympify(s)) for s in strides))

        batch, _, h, w = _spatial(x_node.get_size(), params.spatial_dims, sympy.Integer(1))
        _, _, ho, wo = _spatial(node.get_size(), params.spatial_dims, sympy.Integer(1))
        dims = {"B": rename(batch), "H": rename(h), "W": rename(w), "Ho": rename(ho), "Wo": rename(wo)}
        spec = ConvSpec(name=f"conv{params.spatial_dims}d", params=params, dims=dims, x=operand("x"),
                        w=operand("w"), bias=operand("bias"), out=operand("out"))
        return self.publish(self.make_emitter(self.finish_spec(spec)))

    def make_emitter(self, spec):
        return ConvEmitter(spec, self.npu_config)


def conv_metadata(emitter, kernel_hash: str, conv_extra: dict) -> dict:
    """kernel.json of a conv-like template kernel (conv, pooling): B, H and W as size roles and the
    window parameters in a `conv` section, with what the kernel adds in `conv_extra`."""
    spec = emitter.spec
    args = [{"name": name, "kind": kind, "dtype": str(dtype).replace("torch.", ""), "elem_bits": elem_bits(dtype),
             "numel": str(spec.numels[name])} for name, dtype, kind in spec.tensor_args]
    roles = {str(spec.dims[d]): d for d in ("B", "H", "W")}
    for name in spec.size_args:
        args.append({"name": name, "kind": "size", "dtype": "int64", "role": roles.get(name, "size")})
    return {"abi_version": ABI_VERSION, "name": spec.name, "hash": kernel_hash, "entry": "kernel",
            "args": args, "size_args": list(spec.size_args),
            "tiles": {"m": emitter.tiles.tm, "n": emitter.tiles.tn, "k": emitter.tiles.tk},
            "xnumel": None, "rnumel": None,
            "conv": {**spec.params.as_dict(), **{d: str(e) for d, e in spec.dims.items()}, **conv_extra},
            "config": emitter.config.name}


class ConvEmitter(SystolicEmitter):
    def __init__(self, spec: ConvSpec, config: NpuConfig):
        super().__init__(spec, config)
        self.in_dtype = spec.x.dtype
        self.out_dtype = spec.out.dtype
        tiles = choose_tiles(config, elem_bits(self.in_dtype), elem_bits(self.out_dtype), spec.bias is not None)
        # N = the group's output channels (static): no wider than the array columns it needs
        columns = -(-spec.params.group_out // tiles.cols) * tiles.cols
        self.tiles = type(tiles)(tm=tiles.tm, tn=min(tiles.tn, columns), tk=tiles.tk, rows=tiles.rows,
                                 cols=tiles.cols)
        p, tk = spec.params, self.tiles.tk
        taps = p.kernel[0] * p.kernel[1]
        if p.group_in >= tk:  # one tap per K step, its channels in chunks of the array rows
            self.taps_per_step, self.channel_chunk = 1, tk
        else:  # whole channel sets of several taps per K step
            self.taps_per_step, self.channel_chunk = tk // p.group_in, p.group_in
        self.channel_chunks = -(-p.group_in // self.channel_chunk)
        self.tap_groups = -(-taps // self.taps_per_step)
        self.k_steps = self.tap_groups * self.channel_chunks
        self.weight_slab = spec.w is not None and self._slab_fits(taps)
        # Depthwise (one input and one output channel per group): a per-group GEMM would be 1 x taps
        # on a 128x128 array, so it runs on the vector unit, TN channels of the image at a time,
        # one tap per K step: acc[c, p] += window_tap[c, p] * w[c, tap]
        self.depthwise = spec.w is None or (  # a pooling (compiler/pool.py) is depthwise without weights
            p.groups > 1 and p.group_in == 1 and p.group_out == 1 and
            _taps_contiguous(spec.w.strides, p.kernel, p.group_in))
        if self.depthwise:
            columns = -(-p.out_channels // self.tiles.cols) * self.tiles.cols
            self.tiles = type(tiles)(tm=tiles.tm, tn=min(tiles.tn, columns), tk=tiles.tk, rows=tiles.rows,
                                     cols=tiles.cols)
            self.taps_per_step, self.channel_chunk, self.channel_chunks = 1, 1, 1
            self.tap_groups = self.k_steps = taps
            self.weight_slab = spec.w is not None

    def _slab_fits(self, taps: int) -> bool:
        """Whether the weights of a channel chunk, all taps (w[n, c0:c0 + clen, :, :], one DRAM run
        per output channel when w is contiguous), fit the scratchpad beside the other buffers: one
        transfer instead of one element-strided DMA per tap (a burst per weight)."""
        spec, t = self.spec, self.tiles
        if not _taps_contiguous(spec.w.strides, spec.params.kernel, self.channel_chunk):
            return False
        in_bytes, out_bytes = elem_bits(self.in_dtype) // 8, elem_bits(self.out_dtype) // 8
        others = t.tn * t.tm * 4 + t.tk * t.tm * in_bytes + t.tn * in_bytes + t.tn * t.tm * out_bytes
        budget = min(STACK_BUDGET_BYTES, self.config.scratchpad_bytes // self.config["scratchpad"]["buffers_per_operand"])
        return others + t.tn * self.channel_chunk * taps * in_bytes <= budget

    def build(self, printer: IndexPrinter) -> None:
        spec, p, t = self.spec, self.spec.params, self.tiles
        f32 = ir.F32Type.get()
        in_type, out_type = storage_type(self.in_dtype), storage_type(self.out_dtype)
        c = const_i64
        batch, height, width, out_h, out_w = (printer(spec.dims[d]) for d in ("B", "H", "W", "Ho", "Wo"))
        x_off, o_off = printer(spec.x.offset), printer(spec.out.offset)
        sxb, sxc, sxh, sxw = (printer(s) for s in spec.x.strides)
        w_off = swo = swc = swh = sww = None
        if spec.w is not None:
            w_off = printer(spec.w.offset)
            swo, swc, swh, sww = (printer(s) for s in spec.w.strides)
        sob, soc, _, sow = (printer(s) for s in spec.out.strides)  # dense: pixel p = ho * Wo + wo at p * sow
        pixels = arith.muli(out_h, out_w)
        tm, tn = c(t.tm), c(t.tn)
        m_tiles = arith.floordivsi(arith.addi(pixels, c(t.tm - 1)), tm)
        dw = self.depthwise
        # a depthwise item spans TN channels of all groups; otherwise TN output channels of one group
        n_extent, item_groups = (p.out_channels, 1) if dw else (p.group_out, p.groups)
        n_tiles = c(-(-n_extent // t.tn))
        total = arith.muli(arith.muli(batch, c(item_groups)), arith.muli(m_tiles, n_tiles))

        acc, acc_id = self.new_spad(f32, [t.tn, t.tm])       # transposed: [n, p]
        a_spad, a_id = self.new_spad(in_type, [t.tn if dw else t.tk, t.tm])  # transposed: [k, p]
        taps = p.kernel[0] * p.kernel[1]
        b_spad = b_id = None
        if dw:  # w[c, 0, i, j] of the item's channels
            if spec.w is not None:
                b_spad, b_id = self.new_spad(in_type, [t.tn, taps])
        elif self.weight_slab:  # B[k, n] read in place from w[n, c, i, j] of the chunk
            b_spad, b_id = self.new_spad(in_type, [t.tn, self.channel_chunk * taps])
        else:
            b_spad, b_id = self.new_spad(in_type, [t.tk, t.tn])
        bias_spad = bias_id = None
        if spec.bias is not None:
            bias_spad, bias_id = self.new_spad(in_type, [1, t.tn])
        out_spad = out_id = None
        low_precision = self.out_dtype != torch.float32
        if low_precision:
            out_spad, out_id = self.new_spad(out_type, [t.tn, t.tm])
        pads = any(p.padding)

        loop = scf.ForOp(const_index(0), to_index(total), const_index(1))
        loop.attributes["npusim.tile_loop"] = _dict_attr({"dim": "x", "parallel": True})
        with ir.InsertionPoint(loop.body):
            tile = to_i64(loop.induction_variable)
            n_index = arith.remsi(tile, n_tiles)
            rest = arith.floordivsi(tile, n_tiles)
            m_index = arith.remsi(rest, m_tiles)
            rest = arith.floordivsi(rest, m_tiles)
            group = arith.remsi(rest, c(item_groups))
            image = arith.floordivsi(rest, c(item_groups))
            p0, n0 = arith.muli(m_index, tm), arith.muli(n_index, tn)
            mlen_i64 = arith.minsi(tm, arith.subi(pixels, p0))
            mlen = to_index(mlen_i64)
            nlen = to_index(arith.minsi(tn, arith.subi(c(n_extent), n0)))
            out_channel0 = arith.addi(arith.muli(group, c(p.group_out)), n0)

            # the accumulator: the bias of each output channel, or zeros
            if spec.bias is not None:
                (sbias,) = (printer(s) for s in spec.bias.strides)
                bias_at = arith.addi(printer(spec.bias.offset), arith.muli(out_channel0, sbias))
                self.dma("load", spec.bias, bias_spad, bias_id, bias_at, const_index(1), nlen, c(0), sbias)

                def init(j, i):
                    value = memref.load(bias_spad, [const_index(0), j])
                    memref.store(arith.extf(f32, value) if low_precision else value, acc, [j, i])

                self.element_nest(nlen, mlen, init, {"unit": "vector", "reads": [bias_id], "writes": [acc_id]})
            else:
                zero_f32 = arith.constant(f32, self.acc_start)
                self.element_nest(nlen, mlen, lambda j, i: memref.store(zero_f32, acc, [j, i]),
                                  {"unit": "vector", "reads": [], "writes": [acc_id]})

            if dw:
                self.depthwise_taps(printer, image, n0, p0, mlen_i64, mlen, nlen, a_spad, a_id, b_spad, b_id, acc,
                                    acc_id, (height, width, out_w), (x_off, sxb, sxc, sxh, sxw),
                                    None if w_off is None else arith.addi(w_off, arith.muli(n0, swo)), swo)
                self.finish_acc(acc, acc_id, p0, mlen, nlen, (height, width, out_w))
            else:
                k_loop = scf.ForOp(const_index(0), const_index(self.k_steps * t.tk), const_index(t.tk))
                k_loop.attributes["npusim.tile_loop"] = _dict_attr({"dim": "r", "parallel": False})
                with ir.InsertionPoint(k_loop.body):
                    step = arith.floordivsi(to_i64(k_loop.induction_variable), c(t.tk))
                    # channel chunk major: a chunk's weight slab serves its tap groups in a row
                    tap_group = arith.remsi(step, c(self.tap_groups))
                    c0 = arith.muli(arith.floordivsi(step, c(self.tap_groups)), c(self.channel_chunk))
                    first_tap = arith.muli(tap_group, c(self.taps_per_step))
                    n_taps = arith.minsi(c(self.taps_per_step), arith.subi(c(p.kernel[0] * p.kernel[1]), first_tap))
                    clen_i64 = arith.minsi(c(self.channel_chunk), arith.subi(c(p.group_in), c0))
                    clen = to_index(clen_i64)
                    klen = to_index(arith.muli(n_taps, clen_i64))
                    if pads:  # padding is zeros: the window rows outside the image are never loaded
                        zero_in = arith.constant(in_type, 0.0)
                        self.element_nest(klen, mlen, lambda k, i: memref.store(zero_in, a_spad, [k, i]),
                                          {"unit": "vector", "reads": [], "writes": [a_id]})
                    in_channel0 = arith.addi(arith.muli(group, c(p.group_in)), c0)
                    if self.weight_slab:
                        slab_at = arith.addi(w_off, arith.addi(arith.muli(out_channel0, swo), arith.muli(c0, swc)))
                        first_of_chunk = arith.cmpi(arith.CmpIPredicate.eq, tap_group, c(0))
                        load_slab = scf.IfOp(first_of_chunk, [], has_else=False)
                        with ir.InsertionPoint(load_slab.then_block):
                            self.dma("load", spec.w, b_spad, b_id, slab_at, nlen, to_index(arith.muli(clen_i64, c(taps))),
                                     swo, c(1))
                            scf.YieldOp([])
                    tap_loop = scf.ForOp(const_index(0), to_index(n_taps), const_index(1))
                    with ir.InsertionPoint(tap_loop.body):
                        tap_local = to_i64(tap_loop.induction_variable)
                        tap = arith.addi(first_tap, tap_local)
                        ki, kj = arith.floordivsi(tap, c(p.kernel[1])), arith.remsi(tap, c(p.kernel[1]))
                        k_row = to_index(arith.muli(tap_local, clen_i64))
                        self.window_rows(printer, image, in_channel0, ki, kj, p0, mlen_i64, clen, k_row, a_spad, a_id,
                                         (height, width, out_w), (x_off, sxb, sxc, sxh, sxw))
                        if not self.weight_slab:
                            w_at = arith.addi(w_off, arith.addi(arith.muli(out_channel0, swo), arith.muli(c0, swc)))
                            w_at = arith.addi(w_at, arith.addi(arith.muli(ki, swh), arith.muli(kj, sww)))
                            self.dma("load", spec.w, b_spad, b_id, w_at, clen, nlen, swc, swo, (k_row, const_index(0)))
                        scf.YieldOp([])
                    b_at = None
                    if self.weight_slab:
                        clen_index, taps_index, first_tap_index = clen, const_index(taps), to_index(first_tap)

                        def b_at(k, j):  # B[k, n] with k = (tap - first_tap) * clen + channel
                            tap_index = arith.addi(first_tap_index, arith.divui(k, clen_index))
                            return [j, arith.addi(arith.muli(arith.remui(k, clen_index), taps_index), tap_index)]
                    self.systolic(a_spad, a_id, b_spad, b_id, acc, acc_id, mlen, nlen, klen, transposed=True, b_at=b_at)
                    scf.YieldOp([])

            store_spad, store_id = acc, acc_id
            if low_precision:
                def narrow(j, i):
                    memref.store(arith.truncf(out_type, memref.load(acc, [j, i])), out_spad, [j, i])

                self.element_nest(nlen, mlen, narrow, {"unit": "vector", "reads": [acc_id], "writes": [out_id]})
                store_spad, store_id = out_spad, out_id
            out_at = arith.addi(o_off, arith.addi(arith.muli(image, sob), arith.muli(out_channel0, soc)))
            self.dma("store", spec.out, store_spad, store_id, arith.addi(out_at, arith.muli(p0, sow)), nlen, mlen,
                     soc, sow)
            scf.YieldOp([])

    def depthwise_taps(self, printer, image, c0, p0, mlen_i64, mlen, nlen, a_spad, a_id, w_spad, w_id, acc, acc_id,
                       sizes, x_addressing, w_at, swo) -> None:
        """The depthwise K loop: the item's weights once, then per tap the window of its nlen
        channels (one DMA per output row, channels as DMA rows) and a vector multiply-add."""
        p, spec = self.spec.params, self.spec
        c = const_i64
        taps = p.kernel[0] * p.kernel[1]
        f32 = ir.F32Type.get()
        in_type = storage_type(self.in_dtype)
        widen = self.in_dtype != torch.float32
        if spec.w is not None:
            self.dma("load", spec.w, w_spad, w_id, w_at, nlen, const_index(taps), swo, c(1))
        k_loop = scf.ForOp(const_index(0), const_index(taps), const_index(1))
        k_loop.attributes["npusim.tile_loop"] = _dict_attr({"dim": "r", "parallel": False})
        with ir.InsertionPoint(k_loop.body):
            tap_index = k_loop.induction_variable
            tap = to_i64(tap_index)
            ki, kj = arith.floordivsi(tap, c(p.kernel[1])), arith.remsi(tap, c(p.kernel[1]))
            if self.window_overhangs():
                fill = arith.constant(in_type, self.pad_value)
                self.element_nest(nlen, mlen, lambda j, i: memref.store(fill, a_spad, [j, i]),
                                  {"unit": "vector", "reads": [], "writes": [a_id]})
            self.window_rows(printer, image, c0, ki, kj, p0, mlen_i64, nlen, const_index(0), a_spad, a_id, sizes,
                             x_addressing)

            def multiply_add(j, i):
                x = memref.load(a_spad, [j, i])
                w = memref.load(w_spad, [j, tap_index]) if w_spad is not None else None
                if widen:
                    x, w = arith.extf(f32, x), (w if w is None else arith.extf(f32, w))
                memref.store(self.combine(memref.load(acc, [j, i]), x, w), acc, [j, i])

            weights = [w_id] if w_id is not None else []
            self.element_nest(nlen, mlen, multiply_add,
                              {"unit": "vector", "reads": [a_id, *weights, acc_id], "writes": [acc_id]})
            scf.YieldOp([])

    # what a pooling (compiler/pool.py) changes in the depthwise path
    acc_start = 0.0  # the accumulator's start without a bias
    pad_value = 0.0  # what the window holds outside the image

    def combine(self, acc_value, x, w):
        return arith.addf(acc_value, arith.mulf(x, w))

    def window_overhangs(self) -> bool:
        """Whether a window can reach outside the image (its parts there hold pad_value)."""
        return any(self.spec.params.padding)

    def finish_acc(self, acc, acc_id, p0, mlen, nlen, sizes) -> None:
        pass

    def window_rows(self, printer, image, in_channel0, ki, kj, p0, mlen, clen, k_row, a_spad, a_id, sizes,
                    x_addressing) -> None:
        """One tap's input window for the output pixels p0 .. p0 + mlen: per output row, one DMA of
        the in-image part of the row (clen channels x the valid output columns) into A^T at
        (k_row, pixel); the parts outside the image stay zero."""
        p, spec = self.spec.params, self.spec
        c = const_i64
        height, width, out_w = sizes
        x_off, sxb, sxc, sxh, sxw = x_addressing
        (sh, sw), (ph, pw), (dh, dw) = p.stride, p.padding, p.dilation
        first_row = arith.floordivsi(p0, out_w)
        end_row = arith.addi(arith.floordivsi(arith.subi(arith.addi(p0, mlen), c(1)), out_w), c(1))
        col_shift = arith.subi(arith.muli(kj, c(dw)), c(pw))  # input column = wo * sw + col_shift
        # valid output columns: 0 <= wo * sw + col_shift < W
        wo_from = arith.floordivsi(arith.addi(arith.subi(c(0), col_shift), c(sw - 1)), c(sw))
        wo_to = arith.addi(arith.floordivsi(arith.subi(arith.subi(width, c(1)), col_shift), c(sw)), c(1))
        rows = scf.ForOp(to_index(first_row), to_index(end_row), const_index(1))
        with ir.InsertionPoint(rows.body):
            row = to_i64(rows.induction_variable)
            row_start = arith.muli(row, out_w)
            seg_from = arith.maxsi(p0, row_start)
            seg_to = arith.minsi(arith.addi(p0, mlen), arith.addi(row_start, out_w))
            in_row = arith.addi(arith.subi(arith.muli(row, c(sh)), c(ph)), arith.muli(ki, c(dh)))
            row_inside = arith.andi(arith.cmpi(arith.CmpIPredicate.sge, in_row, c(0)),
                                    arith.cmpi(arith.CmpIPredicate.slt, in_row, height))
            lo = arith.maxsi(arith.subi(seg_from, row_start), wo_from)
            hi = arith.minsi(arith.subi(seg_to, row_start), wo_to)
            count = arith.select(row_inside, arith.maxsi(arith.subi(hi, lo), c(0)), c(0))
            some = arith.cmpi(arith.CmpIPredicate.sgt, count, c(0))
            at = arith.addi(arith.addi(x_off, arith.muli(image, sxb)), arith.muli(in_channel0, sxc))
            at = arith.addi(at, arith.addi(arith.muli(in_row, sxh),
                                           arith.muli(arith.addi(arith.muli(lo, c(sw)), col_shift), sxw)))
            at = arith.select(some, at, x_off)  # an empty transfer still has an in-bounds descriptor
            pixel = arith.select(some, arith.subi(arith.addi(row_start, lo), p0), c(0))
            self.dma("load", spec.x, a_spad, a_id, at, clen, to_index(count), sxc, arith.muli(sxw, c(sw)),
                     (k_row, to_index(pixel)))
            scf.YieldOp([])

    def metadata(self, kernel_hash: str) -> dict:
        return conv_metadata(self, kernel_hash, {"taps_per_k_step": self.taps_per_step, "k_steps": self.k_steps,
                                                 "weight_slab": self.weight_slab,
                                                 "depthwise_on_vector_unit": self.depthwise})


def select_conv_backend_by_hint() -> None:
    """Keep eager's CPU conv-kernel choice out of Dynamo's guards (process-wide, once).

    Fake-tensor propagation of aten.convolution asks `torch._C._select_conv_backend` which CPU kernel
    eager would run (mkldnn or the native one: `N*C*H*W > 20480` among others) only to pick the output's
    memory format. On symbolic sizes that question becomes a guard, so a conv1d/conv2d recompiled
    when its input crossed 20480 elements, into the very same npusim kernel (our lowering ignores the
    CPU kernel). Here the choice is made on the sizes' hints (concrete tensors: no guard); the
    memory format it gives depends on the input's layout, not on that threshold."""
    if getattr(torch._C._select_conv_backend, "npusim_by_hint", False):
        return
    by_symbol = torch._C._select_conv_backend

    def hinted(tensor):
        if not isinstance(tensor, torch.Tensor) or not any(isinstance(s, torch.SymInt)
                                                           for s in (*tensor.shape, *tensor.stride())):
            return tensor
        from torch.fx.experimental.symbolic_shapes import guarding_hint_or_throw

        return torch.empty_strided([guarding_hint_or_throw(s) for s in tensor.shape],
                                   [guarding_hint_or_throw(s) for s in tensor.stride()], dtype=tensor.dtype,
                                   device=tensor.device)

    def select_by_hint(input_, weight, *args, **kwargs):
        if "bias" in kwargs:
            kwargs["bias"] = hinted(kwargs["bias"])
        return by_symbol(hinted(input_), hinted(weight), *args, **kwargs)

    select_by_hint.npusim_by_hint = True
    torch._C._select_conv_backend = select_by_hint  # fake_impls.conv looks it up at each call
