"""The scatter-accumulate family (issue 17d): scatter_reduce prod/amax/amin/mean, index_reduce,
index_add in bf16, index_put by a bool mask, masked_scatter.

Every one ends in an npusim scatter (compiler/indirect.py `IndirectStore`): an element-wise loop
after the tile's compute that reads, combines and writes DRAM one element at a time, in the index's
order, on one core (the `scatter_add` DMA of the trace: a read and a write per element). Duplicate
indices therefore combine in eager's serial order: a float sum within rounding of eager's, and
prod/amax/amin exactly as eager's loop (NaN-propagating max/min).

* prod/amax/amin: Inductor lowers only sum (`atomic_add`, and not for int64) and falls back to ATen
  for the rest; the lowering here is Inductor's own scatter_reduce_ with the combining store modes
  `npusim_prod`, `npusim_amax`, `npusim_amin` (and `atomic_add` for every sum and scatter_add). include_self=False first writes the reduction's identity (1, -inf,
  +inf or the integer limits) at every scattered position, as eager does.
* mean: a sum and a count, both scatter_adds; eager's mean divides by the count (plus one with
  include_self), floor-dividing integers; a position nothing scatters to keeps self.
* index_reduce(dim, index, source): scatter_reduce with the index broadcast along `dim`.
* index_add in bf16: Inductor's own decomposition (index_put accumulate) is turned off for bf16
  because of CUDA atomics; ours adds serially in float, rounding once per add as eager's does.
* index_put with one bool mask (x[mask] = v): a where(), or masked_scatter when v has a row per
  selected row (`index_put_by_mask`).
* masked_scatter: a cumsum of the mask gives each position its source element, a gather reads it
  (`masked_scatter` below); the scan is not fused into the gather's kernel (compiler/scheduling.py).
"""

from __future__ import annotations

import torch

from compiler.inductor_lowerings import inductor_lowering, lowerings_replaced

aten = torch.ops.aten

# sum too: Inductor sends an int64 or bool sum to ATen (GPU atomics); the serial scatter adds any integer
MODES = {"sum": "atomic_add", "prod": "npusim_prod", "amax": "npusim_amax", "amin": "npusim_amin"}


def _identity(reduce: str, dtype: torch.dtype):
    if reduce in ("sum", "prod"):
        return int(reduce == "prod")
    if dtype.is_floating_point:
        return -float("inf") if reduce == "amax" else float("inf")
    if dtype == torch.bool:
        return reduce != "amax"
    info = torch.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def scatter_reduce_mean(self, dim, index, src, reduce, *, include_self=True):
    """scatter_reduce "mean" as eager computes it (ATen's scatter_reduce_two: sum, count, divide);
    other reductions go on to the lowering."""
    if reduce != "mean":
        return NotImplemented
    if include_self:
        total, count = self, torch.ones_like(self)
    else:
        total, count = self.scatter(dim, index, 0), torch.zeros_like(self)
    total = total.scatter_add(dim, index, src)
    count = count.scatter_add(dim, index, torch.ones_like(src))
    divisor = count.clamp(min=1)
    mean = total / divisor if self.dtype.is_floating_point else torch.div(total, divisor, rounding_mode="floor")
    return torch.where(count > 0, mean, self).to(self.dtype)


def index_reduce(self, dim, index, source, reduce, *, include_self=True):
    """index_reduce: scatter_reduce with the 1-D index broadcast along `dim` of source."""
    if self.dim() == 0:
        return index_reduce(self.reshape(1), 0, index.reshape(1), source.reshape(1), reduce,
                            include_self=include_self).reshape(())
    dim = dim % self.dim()
    shape = [1] * source.dim()
    shape[dim] = -1
    expanded = index.reshape(shape).expand(source.shape)
    if reduce == "mean":
        return scatter_reduce_mean(self, dim, expanded, source, reduce, include_self=include_self)
    return self.scatter_reduce(dim, expanded, source, reduce, include_self=include_self)


def index_add(x, dim, index, tensor, *, alpha=1):
    from torch._decomp.decompositions import _index_add

    return _index_add(x, dim, index, tensor, inplace=False, alpha=alpha)


def masked_scatter(self, mask, source):
    """The source element of a position is the mask's running count there minus one (a cumsum),
    gathered with the gather's own bounds check: a source shorter than the mask's count raises,
    as eager does. Inductor's form masks the gather with the mask loaded in the same tile, which
    the gather (issued before the tile's compute) cannot read; the index is clamped at 0 instead,
    and the where() keeps self where the mask is off."""
    self, mask = aten.broadcast_tensors([self, mask])
    if source.numel() == 0:
        return self.clone()
    flat_mask = mask.reshape(-1)
    position = (flat_mask.cumsum(0) - 1).clamp(min=0)
    gathered = source.reshape(-1)[position]
    return torch.where(flat_mask, gathered, self.reshape(-1)).view(self.shape)


def index_put_by_mask(self, indices, values, accumulate=False):
    """x[mask] = values (or +=) with one bool mask over x's leading dims: Inductor sends it to ATen
    (the count of selected rows is data-dependent). Values that broadcast over the selected rows
    are a where(); values with one row per selected row are masked_scatter's (their order is the
    mask's)."""
    if len(indices) != 1 or indices[0] is None or indices[0].dtype not in (torch.bool, torch.uint8):
        return NotImplemented
    mask = indices[0].bool()
    k = mask.dim()
    rest = self.shape[k:]
    if k == 0 or mask.shape != self.shape[:k] or values.dim() > len(rest) + 1:
        return NotImplemented
    full_mask = mask.reshape(mask.shape + (1,) * len(rest)).expand(self.shape)
    if values.dim() <= len(rest) or values.shape[0] == 1:  # the same values for every selected row
        row = values.reshape(values.shape[1:]) if values.dim() == len(rest) + 1 else values
        row = row.to(self.dtype).expand(rest)
        row = row.reshape((1,) * k + tuple(rest)).expand(self.shape)
        return torch.where(full_mask, self + row if accumulate else row, self)
    selected = values.to(self.dtype).expand((values.shape[0], *rest))
    if accumulate:
        return self + masked_scatter(torch.zeros_like(self), full_mask, selected)
    return masked_scatter(self, full_mask, selected)


def scatter_decompositions() -> dict:
    """op -> decomposition, for the backend's table."""
    return {aten.scatter_reduce.two: scatter_reduce_mean, aten.index_reduce.default: index_reduce,
            aten.index_add.default: index_add, aten.masked_scatter.default: masked_scatter,
            aten.index_put.default: index_put_by_mask}


def scatter_lowerings():
    """scatter_reduce(_) sum/prod/amax/amin and scatter_add(_) lowered as a combining npusim scatter
    for the duration (Inductor's lowerings restored after)."""
    from torch._inductor import ir, lowering
    from torch._inductor.virtualized import ops

    inductor_inplace = inductor_lowering(aten.scatter_reduce_.two)

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        if reduce not in MODES or not isinstance(src, ir.TensorBox) or index.get_numel() == 0:
            return inductor_inplace(self, dim, index, src, reduce, include_self=include_self)
        ndim = len(self.get_size())
        if ndim == 0:
            self = lowering.view(self, [1])
        if len(src.get_size()) == 0:
            src = lowering.view(src, [1])
        if len(index.get_size()) == 0:
            index = lowering.view(index, [1])
        dim = lowering._validate_dim(self, dim)
        self.realize()
        index_loader, src_loader = index.make_loader(), src.make_loader()
        dtype = self.get_dtype()

        def output_indexer(idx):
            shape = self.get_size()
            target = list(idx)
            target[dim] = ops.indirect_indexing(index_loader(idx), shape[dim], wrap_neg=False)
            return target

        def scatter(inner_fn, mode):
            buffer = ir.ComputedBuffer(name=None, layout=ir.MutationLayoutSHOULDREMOVE(self),
                                       data=ir.Scatter(device=self.get_device(), dtype=dtype, inner_fn=inner_fn,
                                                       ranges=index.get_size(), output_indexer=output_indexer,
                                                       scatter_mode=mode))
            buffer.name = lowering.V.graph.register_buffer(buffer)
            lowering.V.graph.register_operation(buffer)

        if not include_self:
            identity = _identity(reduce, dtype)
            scatter(lambda idx: ops.constant(identity, dtype), None)
        scatter(src_loader, MODES[reduce])
        return lowering.view(self, []) if ndim == 0 else self

    def scatter_reduce(x, dim, index, src, reduce, **kwargs):
        return scatter_reduce_(lowering.clone(x), dim, index, src, reduce, **kwargs)

    def scatter_add_(x, dim, index, src):
        return scatter_reduce_(x, dim, index, src, "sum")

    def scatter_add(x, dim, index, src):
        return scatter_reduce_(lowering.clone(x), dim, index, src, "sum")

    return lowerings_replaced({aten.scatter_reduce_.two: scatter_reduce_, aten.scatter_add_.default: scatter_add_,
                               aten.scatter_add.default: scatter_add, aten.scatter_reduce.two: scatter_reduce})
