"""max_pool2d and avg_pool2d on the NPU: the conv template's depthwise path without weights.

Inductor lowers pooling to a pointwise kernel over the output with one masked load per window
element; its output index mixes the graph output's `Max(1, Wo)` strides with the flattened
range, which the emitter cannot prove affine (refused as a scatter). Inside the backend's codegen
scope (`pool_lowerings()`) `prims._low_memory_max_pool_with_offsets` (what Inductor decomposes
`max_pool2d` into) and `aten.avg_pool2d` become a `ConvBuffer` whose emitter (`PoolEmitter`)
runs the depthwise loop nest of compiler/conv.py: per tap, the window rows of TN channels by
DMA (the parts outside the image hold -inf for max, 0 for avg), then a vector max or add; avg
divides by the window's size (count_include_pad) or by its in-image part.
The offsets (indices) of a max pool stay Inductor's own kernel, removed when unused (its
indices do not lower yet: an index computed from a loaded offset). ceil_mode takes the output
size Dynamo traced; the windows hanging over the image's end hold the pad value.

adaptive_avg_pool2d to a fixed grid (OH, OW) is `aten._adaptive_avg_pool2d` lowered to an
`AdaptivePoolBuffer` (`AdaptivePoolEmitter`): Inductor's own lowering guards on the image size
(`guard_int`, so every size compiles again) and falls back to aten past 25 window elements. Here
the windows are computed at run time in the kernel, start = floor(i*H/OH), end = ceil((i+1)*H/OH).
"""

from __future__ import annotations

import contextlib
import math
import operator

import sympy
import torch
from mlir import ir
from torch._inductor.virtualized import V
from torch.utils._sympy.functions import FloorDiv
from mlir.dialects import arith, memref, scf

from compiler.conv import ConvBuffer, ConvEmitter, ConvKernel, ConvParams, _fixed, _static_ints, conv_metadata
from compiler.emitter import elem_bits, storage_type
from compiler.errors import UnsupportedOp
from compiler.inductor_lowerings import inductor_lowering, lowerings_replaced
from compiler.matmul import STACK_BUDGET_BYTES, SystolicEmitter, _dict_attr, choose_tiles
from compiler.printer import IndexPrinter, const_i64, const_index, to_i64, to_index

POOL_OPS = {"max": "max_pool2d", "avg": "avg_pool2d"}
ADAPTIVE_OP = "adaptive_avg_pool2d"


class PoolBuffer(ConvBuffer):
    def __init__(self, layout, inputs, *, params: ConvParams, mode: str, count_include_pad: bool,
                 divisor_override: int | None, ceil_mode: bool = False):
        self.mode = mode
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override
        super().__init__(layout, inputs, params=params, has_bias=False)
        self.make_kernel_render = _make_kernel_render


def _pool(mode: str, x, kernel_size, stride, padding, dilation, ceil_mode, count_include_pad=True,
          divisor_override=None):
    from torch._inductor import ir as inductor_ir

    op = POOL_OPS[mode]
    spatial = max(len(v) if isinstance(v, (list, tuple)) else 1 for v in (kernel_size, stride, padding, dilation))
    if spatial > 2:  # prims' max pool serves max_pool3d too (an unbatched (C, D, H, W) input is 4-D)
        raise UnsupportedOp(op.replace("2d", f"{spatial}d"), "a pool over more than 2 spatial dims")
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
    if ceil_mode:  # the traced output size: Dynamo's meta decided whether the last window starts in the image
        out = _traced_output_size()
    else:
        out = [batch, channels] + [FloorDiv(size + 2 * p - d * (k - 1) - 1, s) + 1
                                   for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation)]
    x = _fixed(x)
    layout = inductor_ir.FixedLayout(x.get_device(), dtype, out, inductor_ir.FlexibleLayout.contiguous_strides(out))
    buffer = PoolBuffer(layout, [x], params=params, mode=mode, count_include_pad=bool(count_include_pad),
                        divisor_override=None if divisor_override is None else int(divisor_override),
                        ceil_mode=bool(ceil_mode))
    return inductor_ir.TensorBox.create(buffer)


def _traced_output_size() -> list:
    """The output size of the node being lowered, as Dynamo's fake tensor traced it (sympy over the
    graph's size symbols)."""
    value = V.graph.current_node.meta["val"]
    value = value[0] if isinstance(value, (tuple, list)) else value
    return [V.graph.sizevars.simplify(s.node.expr) if isinstance(s, torch.SymInt) else sympy.Integer(int(s))
            for s in value.shape]


def _max_pool_lowering(original):
    def lower(x, kernel_size, stride, padding, dilation, ceil_mode=False):
        values = _pool("max", x, kernel_size, stride, padding, dilation, ceil_mode)
        # the offsets (for indices) stay Inductor's argmax kernel, scheduled only when used
        offsets_used = any(user.target is not operator.getitem or user.args[1] != 0
                           for user in V.graph.current_node.users)
        if not offsets_used:
            return values, None
        with _ceil_mode_sizes_traced():
            _, offsets = original(x, kernel_size, stride, padding, dilation, ceil_mode)
        return values, offsets

    return lower


@contextlib.contextmanager
def _ceil_mode_sizes_traced():
    """Inductor's pooling_size in ceil mode guards on whether ceil mode changes the output length
    (`(N - 1) // 2 != N // 2`: each parity of N compiled again). Dynamo's traced output size is an
    expression valid for every N, so in ceil mode the offsets' kernel takes it, with the window
    bounds checked as in ceil mode (exact whether or not the last window overhangs)."""
    from torch._inductor import lowering

    inductor_pooling_size = lowering.pooling_size

    def pooling_size(x, i, kernel_size, stride, padding, ceil_mode, *, dilation=None):
        if not ceil_mode:
            return inductor_pooling_size(x, i, kernel_size, stride, padding, ceil_mode, dilation=dilation)
        traced = _traced_output_size()
        return traced[len(traced) - len(kernel_size) + i], True

    lowering.pooling_size = pooling_size
    try:
        yield
    finally:
        lowering.pooling_size = inductor_pooling_size


def lower_avg_pool2d(x, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True,
                     divisor_override=None):
    return _pool("avg", x, kernel_size, stride, padding, 1, ceil_mode, count_include_pad, divisor_override)


def pool_lowerings():
    """Inductor's lowerings of max/avg pooling replaced by ours for the duration; restored after."""
    max_op = torch.ops.prims._low_memory_max_pool_with_offsets.default
    replacements = {torch.ops.aten.avg_pool2d.default: lower_avg_pool2d,
                    torch.ops.aten._adaptive_avg_pool2d.default: lower_adaptive_avg_pool2d}
    original_max = inductor_lowering(max_op)
    if original_max is not None:  # our values, Inductor's offsets (for indices)
        replacements[max_op] = _max_pool_lowering(original_max)
    return lowerings_replaced(replacements)


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
        self.ceil_mode = node.ceil_mode
        super().__init__(spec, config)
        if self.mode == "max":
            self.acc_start = self.pad_value = -math.inf

    def window_overhangs(self) -> bool:
        return self.ceil_mode or super().window_overhangs()

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
            elif self.count_include_pad and not self.ceil_mode:  # every window lies inside the padded image
                divisor = arith.constant(f32, float(kh * kw))
            else:
                pixel = arith.addi(p0, to_i64(i))
                h0 = arith.subi(arith.muli(arith.floordivsi(pixel, out_w), c(sh)), c(ph))
                w0 = arith.subi(arith.muli(arith.remsi(pixel, out_w), c(sw)), c(pw))
                if self.count_include_pad:  # ceil mode: the last window is cut at the padded image's end
                    rows = arith.subi(arith.minsi(arith.addi(h0, c(kh)), arith.addi(height, c(ph))), h0)
                    cols = arith.subi(arith.minsi(arith.addi(w0, c(kw)), arith.addi(width, c(pw))), w0)
                else:
                    rows = arith.subi(arith.minsi(arith.addi(h0, c(kh)), height), arith.maxsi(h0, c(0)))
                    cols = arith.subi(arith.minsi(arith.addi(w0, c(kw)), width), arith.maxsi(w0, c(0)))
                divisor = arith.sitofp(f32, arith.muli(rows, cols))
            memref.store(arith.divf(memref.load(acc, [j, i]), divisor), acc, [j, i])

        self.element_nest(nlen, mlen, divide, {"unit": "vector", "reads": [acc_id], "writes": [acc_id]})



class AdaptivePoolBuffer(ConvBuffer):
    """out[b, c, i, j] = the mean of x[b, c] over the adaptive window of grid cell (i, j)."""

    def __init__(self, layout, inputs, *, params: ConvParams, grid: tuple[int, int]):
        self.grid = grid
        super().__init__(layout, inputs, params=params, has_bias=False)
        self.make_kernel_render = _make_adaptive_render


def lower_adaptive_avg_pool2d(x, output_size):
    from torch._inductor import ir as inductor_ir

    if len(x.get_size()) == 3:  # unbatched (C, H, W), adaptive_avg_pool1d's (C, 1, L): a batch of one
        from torch._inductor.lowering import squeeze, unsqueeze

        return squeeze(lower_adaptive_avg_pool2d(unsqueeze(x, 0), output_size), 0)
    if len(x.get_size()) != 4:
        raise UnsupportedOp(ADAPTIVE_OP, "an input of other than (B, C, H, W) or (C, H, W)")
    dtype = x.get_dtype()
    if not dtype.is_floating_point or dtype == torch.float64:
        raise UnsupportedOp(ADAPTIVE_OP, f"dtype {dtype} (f32/f16/bf16)")
    try:
        grid = _static_ints(output_size, "output size")
        channels = _static_ints([x.get_size()[1]], "channel count")[0]
    except UnsupportedOp as error:
        raise UnsupportedOp(ADAPTIVE_OP, error.detail) from error
    if len(grid) != 2 or min(grid) < 1:
        raise UnsupportedOp(ADAPTIVE_OP, f"an output grid {tuple(grid)} (two sizes >= 1)")
    params = ConvParams(in_channels=channels, out_channels=channels, groups=channels, kernel=(1, 1), stride=(1, 1),
                        padding=(0, 0), dilation=(1, 1), spatial_dims=2)
    out = [x.get_size()[0], channels, *grid]
    x = _fixed(x)
    layout = inductor_ir.FixedLayout(x.get_device(), dtype, out, inductor_ir.FlexibleLayout.contiguous_strides(out))
    return inductor_ir.TensorBox.create(AdaptivePoolBuffer(layout, [x], params=params, grid=tuple(grid)))


def _make_adaptive_render(node: AdaptivePoolBuffer, hint_override=None):
    kernel = AdaptivePoolKernel(node)
    return kernel, kernel.render


class AdaptivePoolKernel(ConvKernel):
    def make_emitter(self, spec):
        spec.name = ADAPTIVE_OP
        return AdaptivePoolEmitter(spec, self.npu_config, self.node.grid)


class AdaptivePoolEmitter(SystolicEmitter):
    """Work item = (image, TN channels, output row i). Its windows span rows [hs, he) and, per
    output column j, columns [ws, we), all computed from H and W at run time. Each window is read
    over a fixed span (the largest window, ceil((H + OH - 1) / OH) rows by ceil((W + OW - 1) / OW)
    columns, clipped to the image), the elements past its end masked out of the sum: the work then
    grows with H and W and never falls (the exact windows' total, H + OH - gcd(H, OH), does).
    Per span row, one DMA (TN channels x up to TM columns) and a vector add into acc[c, j]; the sum
    runs row by row in eager's order and is divided by the window's rows, then its columns, as
    ATen's CPU kernel does (sum / kh / kw, in f32)."""

    def __init__(self, spec, config, grid: tuple[int, int]):
        super().__init__(spec, config)
        self.grid = grid
        self.in_dtype, self.out_dtype = spec.x.dtype, spec.out.dtype
        tiles = choose_tiles(config, elem_bits(self.in_dtype), elem_bits(self.out_dtype), False)
        channels = spec.params.out_channels
        tn = min(tiles.tn, -(-channels // tiles.cols) * tiles.cols)
        self.tiles = type(tiles)(tm=tiles.tm, tn=tn, tk=tiles.tk, rows=tiles.rows, cols=tiles.cols)
        in_bytes, out_bytes = elem_bits(self.in_dtype) // 8, elem_bits(self.out_dtype) // 8
        need = tn * grid[1] * (4 + out_bytes) + tn * tiles.tm * in_bytes
        budget = min(STACK_BUDGET_BYTES, config.scratchpad_bytes // config["scratchpad"]["buffers_per_operand"])
        if need > budget:
            raise UnsupportedOp(ADAPTIVE_OP, f"an output grid {grid} wider than the scratchpad holds ({need} > {budget})")

    def build(self, printer: IndexPrinter) -> None:
        spec, t = self.spec, self.tiles
        grid_h, grid_w = self.grid
        channels = spec.params.out_channels
        f32 = ir.F32Type.get()
        in_type, out_type = storage_type(self.in_dtype), storage_type(self.out_dtype)
        c = const_i64
        batch, height, width = (printer(spec.dims[d]) for d in ("B", "H", "W"))
        x_off, o_off = printer(spec.x.offset), printer(spec.out.offset)
        sxb, sxc, sxh, sxw = (printer(s) for s in spec.x.strides)
        sob, soc, soh, sow = (printer(s) for s in spec.out.strides)
        n_tiles = c(-(-channels // t.tn))
        total = arith.muli(arith.muli(batch, n_tiles), c(grid_h))

        acc, acc_id = self.new_spad(f32, [t.tn, grid_w])
        a_spad, a_id = self.new_spad(in_type, [t.tn, t.tm])
        low_precision = self.out_dtype != torch.float32
        out_spad = out_id = None
        if low_precision:
            out_spad, out_id = self.new_spad(out_type, [t.tn, grid_w])

        def window(index, size, cells):
            """[start, end) of grid cell `index` over `size` elements (i64 values)."""
            start = arith.floordivsi(arith.muli(index, size), c(cells))
            end = arith.floordivsi(arith.addi(arith.muli(arith.addi(index, c(1)), size), c(cells - 1)), c(cells))
            return start, end

        # the largest window: ceil((size + cells - 1) / cells)
        span_h = arith.floordivsi(arith.addi(height, c(2 * grid_h - 2)), c(grid_h))
        span_w = arith.floordivsi(arith.addi(width, c(2 * grid_w - 2)), c(grid_w))

        loop = scf.ForOp(const_index(0), to_index(total), const_index(1))
        loop.attributes["npusim.tile_loop"] = _dict_attr({"dim": "x", "parallel": True})
        with ir.InsertionPoint(loop.body):
            item = to_i64(loop.induction_variable)
            n_index = arith.remsi(item, n_tiles)
            rest = arith.floordivsi(item, n_tiles)
            out_row = arith.remsi(rest, c(grid_h))
            image = arith.floordivsi(rest, c(grid_h))
            c0 = arith.muli(n_index, c(t.tn))
            nlen = to_index(arith.minsi(c(t.tn), arith.subi(c(channels), c0)))
            grid_cols = const_index(grid_w)
            row_from, row_to = window(out_row, height, grid_h)
            rows_read = arith.minsi(span_h, arith.subi(height, row_from))

            zero = arith.constant(f32, 0.0)
            self.element_nest(nlen, grid_cols, lambda j, i: memref.store(zero, acc, [j, i]),
                              {"unit": "vector", "reads": [], "writes": [acc_id]})
            columns = scf.ForOp(const_index(0), grid_cols, const_index(1))
            with ir.InsertionPoint(columns.body):
                out_col_index = columns.induction_variable
                col_from, col_to = window(to_i64(out_col_index), width, grid_w)
                cols_read = arith.minsi(span_w, arith.subi(width, col_from))
                rows = scf.ForOp(to_index(row_from), to_index(arith.addi(row_from, rows_read)), const_index(1))
                rows.attributes["npusim.tile_loop"] = _dict_attr({"dim": "r", "parallel": False})
                with ir.InsertionPoint(rows.body):
                    row = to_i64(rows.induction_variable)
                    # the columns of this row inside the window: none past its last row
                    valid = arith.select(arith.cmpi(arith.CmpIPredicate.slt, row, row_to),
                                         arith.subi(col_to, col_from), c(0))
                    row_at = arith.addi(arith.addi(x_off, arith.muli(image, sxb)),
                                        arith.addi(arith.muli(c0, sxc), arith.muli(row, sxh)))
                    chunks = scf.ForOp(const_index(0), to_index(cols_read), const_index(t.tm))
                    with ir.InsertionPoint(chunks.body):
                        chunk = to_i64(chunks.induction_variable)
                        wlen = to_index(arith.minsi(c(t.tm), arith.subi(cols_read, chunk)))
                        at = arith.addi(row_at, arith.muli(arith.addi(col_from, chunk), sxw))
                        self.dma("load", spec.x, a_spad, a_id, at, nlen, wlen, sxc, sxw)

                        def accumulate(j, i):
                            value = memref.load(a_spad, [j, i])
                            if self.in_dtype != torch.float32:
                                value = arith.extf(f32, value)
                            inside = arith.cmpi(arith.CmpIPredicate.slt, arith.addi(chunk, to_i64(i)), valid)
                            value = arith.select(inside, value, zero)
                            memref.store(arith.addf(memref.load(acc, [j, out_col_index]), value), acc,
                                         [j, out_col_index])

                        self.element_nest(nlen, wlen, accumulate,
                                          {"unit": "vector", "reads": [a_id, acc_id], "writes": [acc_id]})
                        scf.YieldOp([])
                    scf.YieldOp([])
                scf.YieldOp([])

            window_rows = arith.sitofp(f32, arith.subi(row_to, row_from))

            def average(j, i):
                col_from, col_to = window(to_i64(i), width, grid_w)
                window_cols = arith.sitofp(f32, arith.subi(col_to, col_from))
                mean = arith.divf(arith.divf(memref.load(acc, [j, i]), window_rows), window_cols)
                if low_precision:
                    memref.store(arith.truncf(out_type, mean), out_spad, [j, i])
                else:
                    memref.store(mean, acc, [j, i])

            store_spad, store_id = (out_spad, out_id) if low_precision else (acc, acc_id)
            self.element_nest(nlen, grid_cols, average, {"unit": "vector", "reads": [acc_id], "writes": [store_id]})
            out_at = arith.addi(arith.addi(o_off, arith.muli(image, sob)),
                                arith.addi(arith.muli(c0, soc), arith.muli(out_row, soh)))
            self.dma("store", spec.out, store_spad, store_id, out_at, nlen, grid_cols, soc, sow)
            scf.YieldOp([])

    def metadata(self, kernel_hash: str) -> dict:
        return conv_metadata(self, kernel_hash, {"grid": list(self.grid), "depthwise_on_vector_unit": True})
