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


def run_block(module, x):
    with torch.no_grad():
        return module(x)


def block(name, factory, inputs=("B,T,%d" % D,), dtypes=("f32", "bf16"), sizes=sequence_sizes, **kwargs):
    """A block spec: f32 at the default tolerance, bf16 at bf16's own (harness/spec.py TOLERANCES)."""
    return OpSpec(name, run_block, inputs=list(inputs), dtypes=dtypes, module=factory, sizes=sizes,
                  host_values_above=HOST_VALUES_ABOVE, **kwargs)


CONV_GAP = ("convolution", "convolution lowers with the conv template (issue 13)")
SCATTER_GAP = ("scatter", "rotate_half's cat stores through a non-affine index: the scatter DMA (issue 12)")

SPECS = [
    block("mlp", blocks.MLP),
    block("gpt2_block", blocks.GPT2Block),
    block("llama_block", blocks.LlamaBlock, xfail={"*": SCATTER_GAP}),
    block("transformer_encoder_layer", blocks.encoder_layer),
    block("resnet_basic_block", blocks.ResNetBasicBlock, inputs=("B,8,H,H",), sizes=image_sizes,
          xfail={"*": CONV_GAP}),
    block("vit_patch_embedding", blocks.ViTPatchEmbedding, inputs=("B,3,H,H",), sizes=image_sizes,
          xfail={"*": CONV_GAP}),
]
