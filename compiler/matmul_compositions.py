"""Ops that ATen computes with its own CPU kernels but that are a matmul or a reduction over
differences: addbmm, _trilinear (nn.functional.bilinear), _cdist_forward (cdist) and
_pdist_forward (pdist), written as the ops they are made of, so each part runs as an npusim
kernel (the matmul template of compiler/matmul.py, or an Inductor reduction).

* addbmm: sum_b batch1[b] @ batch2[b] is one mm whose K runs over (b, k): the batch sum happens
  in the matmul's accumulator, as the array would do it.
* _trilinear: the product of three unsqueezed operands summed over `sumdim`, as an einsum of
  the three (contracted pairwise into bmm, as ATen's sumproduct_pair does).
* _cdist_forward: p = 2 by matmul where ATen takes that path (`_euclidean_dist`: |x|^2 + |y|^2 -
  2 x.y, clamped at 0, then sqrt), every other p as a reduction over the pairs' differences.
* _pdist_forward: the same reduction over the pairs i < j of the rows, in ATen's row-major order.
* linear_cross_entropy's chunked ops (torch_nn::): the logits by one matmul, then the cross entropy.
"""

from __future__ import annotations

import math

import torch

aten = torch.ops.aten

# ATen's cdist compute modes (Distance.cpp): 0 uses the matmul when a side has more than 25 rows.
_MM_IF_NECESSARY, _MM_ALWAYS, _MM_NEVER = 0, 1, 2
_MM_MIN_ROWS = 25


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    batches, n, k = batch1.shape
    p = batch2.shape[2]
    a = batch1.permute(1, 0, 2).reshape(n, batches * k)
    b = batch2.reshape(batches * k, p)
    return aten.addmm(input, a, b, beta=beta, alpha=alpha)


def trilinear(i1, i2, i3, expand1, expand2, expand3, sumdim, unroll_dim=1):
    total = i1.dim() + len(expand1)
    letters = "abcdefghijklmnopqrstuvwxyz"[:total]

    def subscripts(expanded):
        return "".join(letters[d] for d in range(total) if d not in expanded)

    operands = ((i1, expand1), (i2, expand2), (i3, expand3))
    # a dim every operand expands is 1 in the result (summed away if in sumdim): no einsum letter
    absent = [d for d in range(total) if all(d in expanded for _, expanded in operands)]
    kept = [d for d in range(total) if d not in sumdim and d not in absent]
    equation = ",".join(subscripts(expanded) for _, expanded in operands) + "->" + "".join(letters[d] for d in kept)
    result = torch.einsum(equation, i1, i2, i3)
    for position, d in enumerate(d for d in range(total) if d not in sumdim):
        if d in absent:
            result = result.unsqueeze(position)
    return result


def _pair_distance(diff, p: float):
    """The p-norm of each row of pairwise differences `diff` (..., m), as ATen's direct kernels."""
    if p == 0:
        return (diff != 0).sum(-1).to(diff.dtype)
    absolute = diff.abs()
    if p == 1:
        return absolute.sum(-1)
    if p == 2:
        return (diff * diff).sum(-1).sqrt()
    if math.isinf(p):
        return absolute.amax(-1)
    return absolute.pow(p).sum(-1).pow(1.0 / p)


def _euclidean_dist(x1, x2):
    x1_norm = x1.pow(2).sum(-1, keepdim=True)
    x2_norm = x2.pow(2).sum(-1, keepdim=True)
    x1_ = torch.cat([x1.mul(-2), x1_norm, torch.ones_like(x1_norm)], -1)
    x2_ = torch.cat([x2, torch.ones_like(x2_norm), x2_norm], -1)
    return x1_.matmul(x2_.mT).clamp_min(0).sqrt()


def cdist_forward(x1, x2, p, compute_mode=None):
    mode = _MM_IF_NECESSARY if compute_mode is None else compute_mode
    rows1, rows2 = x1.shape[-2], x2.shape[-2]
    if p == 2 and (mode == _MM_ALWAYS or (mode == _MM_IF_NECESSARY and (rows1 > _MM_MIN_ROWS or rows2 > _MM_MIN_ROWS))):
        return _euclidean_dist(x1, x2)
    return _pair_distance(x1.unsqueeze(-2) - x2.unsqueeze(-3), p)


def _pair_rows(n, device):
    """Row indices (i, j), i < j, of the n(n-1)/2 pairs in row-major order, computed from the pair's
    position k (triu_indices would specialise n, a recompile per row count): row i starts at
    s(i) = i(2n - i - 1)/2, so i = floor(((2n - 1) - sqrt((2n - 1)^2 - 8k)) / 2) in float64, corrected
    by one step either way where rounding crossed a row start."""
    k = torch.arange(n * (n - 1) // 2, device=device, dtype=torch.int64)
    b = 2 * n - 1
    i = ((b - (b * b - 8 * k).to(torch.float64).sqrt()) / 2).floor().to(torch.int64)

    def start(row):
        return row * (2 * n - row - 1) // 2

    i = torch.where(start(i) > k, i - 1, i)
    i = torch.where(start(i + 1) <= k, i + 1, i)
    return i, k - start(i) + i + 1


def pdist_forward(input, p=2):
    first, second = _pair_rows(input.shape[0], input.device)
    return _pair_distance(input[first] - input[second], p)


def _linear_cross_entropy_rows(input, linear_weight, target, linear_bias, weight, ignore_index, acc_dtype):
    """Per row n: (its class weight, -log_softmax(input[n] @ W^T + b)[target[n]]), logits in
    acc_dtype; an ignored row has weight 0 (its target read as class 0, as eager's chunks do)."""
    logits = input.to(acc_dtype) @ linear_weight.to(acc_dtype).T
    if linear_bias is not None:
        logits = logits + linear_bias.to(acc_dtype)
    ignored = target == ignore_index
    target = torch.where(ignored, 0, target)
    shifted = logits - logits.amax(1, keepdim=True)
    per_row = shifted.exp().sum(1).log() - shifted.gather(1, target.unsqueeze(1)).squeeze(1)
    row_weight = torch.ones_like(per_row) if weight is None else weight.to(acc_dtype)[target]
    return torch.where(ignored, 0, row_weight), per_row


def linear_cross_entropy_chunked(input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
                                 label_smoothing, batch_chunk_size, acc_policy, acc_dtype, allow_retain_graph,
                                 compute_input_grad, compute_linear_weight_grad, compute_linear_bias_grad):
    """torch.nn.functional.linear_cross_entropy's chunked op (mean/sum): one matmul for the logits
    (the chunks only bound eager's memory) and the cross entropy as reductions. Its gradients,
    which eager precomputes in the forward, are not built here."""
    from compiler.errors import UnsupportedOp

    if compute_input_grad or compute_linear_weight_grad or compute_linear_bias_grad or label_smoothing != 0:
        raise UnsupportedOp("_linear_cross_entropy_batch_chunked",
                            "gradients precomputed in the forward, or label smoothing")
    row_weight, per_row = _linear_cross_entropy_rows(input, linear_weight, target, linear_bias, weight,
                                                     ignore_index, acc_dtype)
    loss = (row_weight * per_row).sum()
    if reduction == "mean":  # 0 / 0 = NaN when every row is ignored, as eager
        loss = loss / row_weight.sum()
    empty = input.new_empty((0, 0))
    return loss.to(input.dtype), empty, empty.clone(), input.new_empty((0,))


def linear_cross_entropy_chunked_no_reduction(input, linear_weight, target, linear_bias, weight, ignore_index,
                                              batch_chunk_size, acc_policy, acc_dtype):
    row_weight, per_row = _linear_cross_entropy_rows(input, linear_weight, target, linear_bias, weight,
                                                     ignore_index, acc_dtype)
    return (row_weight * per_row).to(input.dtype)


def matmul_composition_decompositions() -> dict:
    import torch.nn.modules.linear_cross_entropy  # noqa: F401  (registers the torch_nn ops)

    torch_nn = torch.ops.torch_nn
    return {
        aten.addbmm.default: addbmm,
        aten._trilinear.default: trilinear,
        aten._cdist_forward.default: cdist_forward,
        aten._pdist_forward.default: pdist_forward,
        torch_nn._linear_cross_entropy_batch_chunked.default: linear_cross_entropy_chunked,
        torch_nn._linear_cross_entropy_batch_chunked_no_reduction.default: linear_cross_entropy_chunked_no_reduction,
    }
