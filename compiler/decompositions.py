"""Decompositions of the fused host ops that model blocks reach, so their parts lower to npusim kernels.

Eager PyTorch takes fused CPU fast paths that Inductor would run on the host as one extern kernel
(refused by the backend): `F.scaled_dot_product_attention` becomes
`_scaled_dot_product_flash_attention_for_cpu`, and `nn.TransformerEncoderLayer` in eval under
no_grad calls `_transformer_encoder_layer_fwd`. Both are expressed here in the ops they are made
of (linear, softmax, layer norm, ...), as a user would write the layer.

Inductor's joint-graph pattern matcher (fx_passes/fuse_attention.py) then recognises the math
attention (softmax(q k^T * scale + mask) v, a causal GPT-2 block under no_grad) and puts the fused
op back; `refuse_fused_attention_again` runs after it and decomposes what it put back.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from compiler.errors import UnsupportedOp

aten = torch.ops.aten


def transformer_encoder_layer_fwd(src, embed_dim, num_heads, qkv_weight, qkv_bias, proj_weight, proj_bias,
                                  use_gelu, norm_first, eps, norm_weight_1, norm_bias_1, norm_weight_2,
                                  norm_bias_2, ffn_weight_1, ffn_bias_1, ffn_weight_2, ffn_bias_2, mask=None,
                                  mask_type=None):
    """ATen's transformer_encoder_layer_forward (native/transformers/transformer.cpp): self-attention
    with a residual, then the feed-forward network with a residual, each normalised before
    (norm_first) or after."""
    if mask is not None:
        # The fast path's merged masks (mask_type 0/1/2) are not decomposed yet: refusing keeps
        # the layer off the host rather than guessing their broadcast.
        raise UnsupportedOp("_transformer_encoder_layer_fwd",
                            f"the fused encoder layer with a mask (mask_type {mask_type}) is not decomposed")

    def norm(x, weight, bias):
        return F.layer_norm(x, (embed_dim,), weight, bias, eps)

    x = norm(src, norm_weight_1, norm_bias_1) if norm_first else src
    x = _self_attention(x, embed_dim, num_heads, qkv_weight, qkv_bias, proj_weight, proj_bias) + src
    if not norm_first:
        x = norm(x, norm_weight_1, norm_bias_1)
    residual = x
    if norm_first:
        x = norm(x, norm_weight_2, norm_bias_2)
    hidden = F.linear(x, ffn_weight_1, ffn_bias_1)
    hidden = F.gelu(hidden) if use_gelu else F.relu(hidden)
    x = F.linear(hidden, ffn_weight_2, ffn_bias_2) + residual
    if not norm_first:
        x = norm(x, norm_weight_2, norm_bias_2)
    return x


def _self_attention(x, embed_dim, num_heads, qkv_weight, qkv_bias, proj_weight, proj_bias):
    """_native_multi_head_attention with query = key = value and no mask: one qkv projection, the
    query scaled by 1/sqrt(head_dim) before the scores, softmax, weighted sum, output projection."""
    batch, length = x.shape[0], x.shape[1]
    head_dim = embed_dim // num_heads
    qkv = F.linear(x, qkv_weight, qkv_bias).view(batch, length, 3, num_heads, head_dim).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0] * (1.0 / math.sqrt(head_dim)), qkv[1], qkv[2]
    weights = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
    out = (weights @ v).transpose(1, 2).reshape(batch, length, embed_dim)
    return F.linear(out, proj_weight, proj_bias)


_ATTENTION_PASS = None


def refuse_fused_attention_again(graph: torch.fx.Graph) -> None:
    """Inductor's joint_custom_post_pass: every `_scaled_dot_product_flash_attention_for_cpu` the
    attention patterns created is traced back into its math decomposition."""
    global _ATTENTION_PASS
    if _ATTENTION_PASS is None:
        _ATTENTION_PASS = _attention_pass()
    _ATTENTION_PASS.apply(graph)


def _attention_pass():
    from torch._decomp import decomposition_table
    from torch._inductor.pattern_matcher import CallFunctionVarArgs, PatternMatcherPass, register_graph_pattern

    fused = aten._scaled_dot_product_flash_attention_for_cpu.default
    decomposition = decomposition_table[fused]
    found = PatternMatcherPass(pass_name="npusim_attention_decomposition")

    @register_graph_pattern(CallFunctionVarArgs(fused), pass_dict=found)
    def decompose(match, *args, **kwargs):
        node_keys = [i for i, a in enumerate(args) if isinstance(a, torch.fx.Node)]
        node_kwargs = [k for k, v in kwargs.items() if isinstance(v, torch.fx.Node)]

        def replacement(*values):
            call_args = list(args)
            for i, value in zip(node_keys, values):
                call_args[i] = value
            call_kwargs = dict(kwargs)
            call_kwargs.update(zip(node_kwargs, values[len(node_keys):]))
            return decomposition(*call_args, **call_kwargs)

        match.replace_by_example(replacement, [args[i] for i in node_keys] + [kwargs[k] for k in node_kwargs])

    return found


def model_decompositions() -> dict:
    """op -> decomposition, for the backend's table (added to Inductor's)."""
    from torch._decomp import get_decompositions

    table = get_decompositions([aten._scaled_dot_product_flash_attention_for_cpu])
    table[aten._transformer_encoder_layer_fwd.default] = transformer_encoder_layer_fwd
    return table
