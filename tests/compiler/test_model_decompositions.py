"""Fused CPU fast paths that model blocks reach are decomposed into npusim kernels, not refused:
nn.TransformerEncoderLayer in eval under no_grad (aten._transformer_encoder_layer_fwd) and
F.scaled_dot_product_attention (aten._scaled_dot_product_flash_attention_for_cpu)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from compiler import find_unsupported
from npusim import runlog


def _compiled_matches_eager(fn, *inputs):
    compiled = torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)
    for args in inputs:
        torch.testing.assert_close(compiled(*args), fn(*args), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("norm_first,activation", [(False, "relu"), (True, "gelu")])
def test_encoder_layer_fast_path_runs_on_npusim(npusim_env, norm_first, activation):
    layer = torch.nn.TransformerEncoderLayer(32, 4, dim_feedforward=48, dropout=0.0, batch_first=True,
                                             norm_first=norm_first, activation=activation).eval()

    def fn(x):
        with torch.no_grad():
            return layer(x)

    _compiled_matches_eager(fn, (torch.randn(3, 7, 32),), (torch.randn(3, 12, 32),))
    # per call: the two attention matmuls (scores, weighted sum) and the four projections on the array
    launched = [e["kernel"] for e in runlog.events("launch", npusim_env)]
    assert launched.count("bmm") == 2 * 2 and launched.count("addmm") == 4 * 2, launched


def test_encoder_layer_fast_path_with_a_mask_is_refused_by_name(npusim_env):
    layer = torch.nn.TransformerEncoderLayer(32, 4, dim_feedforward=48, dropout=0.0, batch_first=True).eval()
    padding = torch.zeros(3, 7, dtype=torch.bool)
    padding[:, -2:] = True

    def fn(x, mask):
        with torch.no_grad():
            return layer(x, src_key_padding_mask=mask)

    with pytest.raises(Exception) as excinfo:
        torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)(torch.randn(3, 7, 32), padding)
    unsupported = find_unsupported(excinfo.value)
    assert unsupported is not None and unsupported.op == "_transformer_encoder_layer_fwd"
    assert "mask" in str(unsupported)


def test_causal_sdpa_runs_on_npusim(npusim_env):
    def fn(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    def inputs(length):
        tensors = tuple(torch.randn(2, 4, length, 16) for _ in range(3))
        for tensor in tensors:  # a model's head size is static (its weights' shape); the lengths are not
            torch._dynamo.mark_static(tensor, 3)
        return tensors

    _compiled_matches_eager(fn, inputs(5), inputs(9))


class CausalBlock(torch.nn.Module):
    """GPT-2's attention: the fused qkv projection split into heads, causal sdpa, the projection."""

    def __init__(self, d=32, heads=4):
        super().__init__()
        self.qkv, self.proj, self.heads = torch.nn.Linear(d, 3 * d), torch.nn.Linear(d, d), heads

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in self.qkv(x).split(d, dim=-1))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


def test_attention_pattern_matcher_does_not_put_the_fused_op_back(npusim_env):
    """Regression: under no_grad, Inductor's attention patterns (fuse_attention.py) turned the
    decomposed causal attention back into _scaled_dot_product_flash_attention_for_cpu, which the
    backend then refused at every length above 1."""
    block = CausalBlock().eval()

    def fn(x):
        with torch.no_grad():
            return block(x)

    _compiled_matches_eager(fn, (torch.randn(2, 5, 32),), (torch.randn(2, 17, 32),))
    compiles = runlog.events("compile", npusim_env)
    assert len({e["kernel_hash"] for e in compiles}) == len(compiles)  # one compile per kernel
    assert "bmm" in [e["kernel"] for e in runlog.events("launch", npusim_env)]
