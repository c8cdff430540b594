"""PyTorch's OpInfo database as a generated suite (see README.md and catalog.py).

Every op of `op_db` (less random and uninitialised-memory ops) with its first
samples; each sample is one op spec whose last dim is swept dynamically. What
does not pass is declared in expectations.yaml (generated, strict).
"""

from compiler.tiling import base_tile
from harness.sizes import Sweep
from harness.spec import DTYPE_BITS
from suites.opinfo import catalog

SPECS = [spec for op in catalog.selected_ops() for spec in catalog.specs_of(op)]


def sweeps_of(spec, dtype, policy, config):
    """The sample's own size, then 1, a prime, tile + 1 and a large size (harness/collect.py hook).
    A sample without a swept dim (or an f16 sample of a swept one) runs once, at its own shape."""
    sizes = catalog.swept_sizes(spec, base_tile(config, DTYPE_BITS[dtype]), dtype)
    if not sizes:
        return [Sweep("", ((),))]
    return [Sweep(catalog.SWEPT, tuple(((catalog.SWEPT, size),) for size, _ in sizes))]
