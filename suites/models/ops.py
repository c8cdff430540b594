"""Model blocks (suites/models/blocks.py) as users run them: weights as module parameters, eval(),
torch.no_grad(). Swept over the sequence length T around the systolic array's rows (1, 7, a prime,
rows - 1, rows, rows + 1) and the batch B (1 and odd); an image block over its height and width.
Every case records its kernels with their cycles (npusim.kernels): the report's per-model breakdown
and `npusim diff` name the kernel that dominates or moved."""

import torch

from harness.spec import OpSpec
from suites.models import blocks

D = blocks.D_MODEL
# Past this many B*T positions a case takes its values from the host JIT (cycles still from the
# trace simulator): attention's T x T scores on Spike grow with the square of the sequence.
HOST_VALUES_ABOVE = 400


def sequence_sizes(config, policy: str) -> dict[str, tuple[int, ...]]:
    """T around the systolic array's rows (the matmul tile of every projection), B at 1 and odd."""
    rows = config["systolic"]["rows"]
    seq = [1, 7, 31, rows - 1, rows, rows + 1]
    batch = [1, 3, 5]
    if policy == "nightly":
        seq += [2, 2 * rows + 1]
        batch += [2]
    return {"B": tuple(batch), "T": tuple(seq)}


def image_sizes(config, policy: str) -> dict[str, tuple[int, ...]]:
    return {"B": (1, 3), "H": (4, 8, 17, 32)}


def patch_image_sizes(config, policy: str) -> dict[str, tuple[int, ...]]:
    """From two patches a side: at one patch (H = 4) the token grid is 1 x 1, a size Inductor
    specialises inside the graph, so the first general size would recompile."""
    return {"B": (1, 3), "H": (8, 12, 17, 32)}


def block_macs(per_position: int, attention: bool = True):
    """Multiply-accumulates of a block at sizes B, T: its projections' weights once per position,
    plus attention's scores and weighted sum (T x T x d each, the masked half included: the kernels
    compute it). The systolic term of the case's physical floor."""
    def macs(sizes: dict[str, int]) -> int:
        positions = sizes["B"] * sizes["T"]
        return positions * per_position + (2 * positions * sizes["T"] * D if attention else 0)
    return macs


def run_block(module, x):
    with torch.no_grad():
        return module(x)


def block(name, factory, inputs=("B,T,%d" % D,), dtypes=("f32", "bf16"), sizes=sequence_sizes, **kwargs):
    """A block spec: f32 at the default tolerance, bf16 at bf16's own (harness/spec.py TOLERANCES)."""
    return OpSpec(name, run_block, inputs=list(inputs), dtypes=dtypes, module=factory, sizes=sizes,
                  host_values_above=HOST_VALUES_ABOVE, **kwargs)


SPECS = [
    block("mlp", blocks.MLP, macs=block_macs(2 * D * 4 * D, attention=False)),
    # qkv 3d^2, output d^2, MLP 2 x 4d^2
    block("gpt2_block", blocks.GPT2Block, macs=block_macs(12 * D * D)),
    # q and o d^2 each, k and v d^2 / 2 each (2 of 4 heads), SwiGLU 3 x 2d^2
    block("llama_block", blocks.LlamaBlock, macs=block_macs(9 * D * D)),
    # qkv 3d^2, output d^2, feed-forward 2 x 2d^2
    block("transformer_encoder_layer", blocks.encoder_layer, macs=block_macs(8 * D * D)),
    block("resnet_basic_block", blocks.ResNetBasicBlock, inputs=("B,8,H,H",), sizes=image_sizes),
    block("vit_patch_embedding", blocks.ViTPatchEmbedding, inputs=("B,3,H,H",), sizes=patch_image_sizes),
]
