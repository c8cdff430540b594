"""The compiler's acceptance cases with values from Spike and cycles from the trace simulator.

One ELF and one trace.so per kernel serve every size; cycles grow with the size.
"""

from __future__ import annotations

import math

import pytest
import torch

from compiler.tiling import base_tile
from npusim import config, runlog

pytestmark = pytest.mark.spike


def events(log, kind):
    return runlog.events(kind, log)


def test_dynamic_add_one_elf_one_compile_cycles_grow(spike_env):
    fn = lambda a, b: a + b  # noqa: E731
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    sizes = [1024, 2048, 1000, 100, 7, 1, 4096, 65536]
    for n in sizes:
        a, b = torch.randn(n), torch.randn(n)
        torch.testing.assert_close(compiled(a, b), a + b)
    # one kernel for every size >= 2, and Dynamo's size-1 specialisation (CONTRACTS.md section 7)
    assert len(events(spike_env, "compile")) == 2
    launches = events(spike_env, "launch")
    assert [e["functional"] for e in launches] == ["spike"] * len(sizes)
    generic = [e for e in launches if e["shape_args"]]
    assert len(generic) == len(sizes) - 1
    assert len({e["elf"] for e in generic}) == 1 and generic[0]["elf"].endswith("kernel.elf")
    launches = generic
    assert all(e["instret"] > 0 for e in launches)
    by_n = {e["shape_args"][next(iter(e["shape_args"]))]: e for e in launches}
    cycles = {n: e["cycles"] for n, e in by_n.items()}
    assert cycles[1024] < cycles[2048] < cycles[4096] < cycles[65536]
    assert cycles[100] < cycles[1000] <= cycles[1024]
    tile = base_tile(config.load(), 32)
    records = {n: e["trace_records"] for n, e in by_n.items()}
    assert records[65536] > records[4096] >= records[1024]
    assert math.ceil(65536 / tile) > math.ceil(4096 / tile)


@pytest.mark.parametrize("op", ["sum_last", "softmax", "layer_norm"])
def test_reductions_and_normalizations_on_spike(spike_env, op):
    fns = {"sum_last": lambda x: x.sum(-1), "softmax": lambda x: torch.softmax(x, -1),
           "layer_norm": lambda x: torch.nn.functional.layer_norm(x, x.shape[-1:])}
    compiled = torch.compile(fns[op], backend="npusim", dynamic=True)
    for shape in [(3, 1000), (5, 1), (2, 9000), (17, 65)]:
        x = torch.randn(shape)
        # The float64 reference leaves only our kernel's rounding. The sum keeps partials
        # (CONTRACTS.md section 1): a fixed 1e-4 holds at n = 9000, where a single running
        # float drifted 1.7e-4 (CI saw it).
        torch.testing.assert_close(compiled(x), fns[op](x.double()).float(), rtol=1e-4, atol=1e-4)
    # the general kernel, and Dynamo's specialisation for N = 1 (CONTRACTS.md section 7)
    assert len(events(spike_env, "compile")) == 2
    launches = events(spike_env, "launch")
    per_elf = {}
    for event in launches:
        per_elf.setdefault(event["elf"], []).append(event)
    assert sorted(len(v) for v in per_elf.values()) == [1, 3], per_elf.keys()
    cycles = {tuple(e["shape_args"].values()): e["cycles"] for e in launches}
    assert all(c > 0 for c in cycles.values())


def test_config_sensitivity_of_a_compiled_add(npusim_env):
    """The compiler's own add on the shipped configs: memory bound, parallel over cores, lanes matter."""
    import copy
    import json

    from npusim import cache
    from simulator import trace

    compiled = torch.compile(lambda a, b: a + b, backend="npusim", dynamic=True)
    a = torch.randn(100)
    compiled(a, a)
    (event,) = events(npusim_env, "compile")
    kernel_dir = cache.entry(event["kernel_hash"]).dir
    meta = json.loads((kernel_dir / "kernel.json").read_text())
    shape = {meta["size_args"][0]: 1 << 22}
    base = config.load("tpuv3-1core")
    half_bandwidth = copy.deepcopy(base.data)
    half_bandwidth["dram"]["gbps_per_channel"] /= 2
    narrow = copy.deepcopy(base.data)  # the kernel's tiles fill one vector op of the base lanes
    narrow["vector"]["lanes"] //= 2
    one = trace.simulate(kernel_dir, meta, shape, base)
    assert trace.simulate(kernel_dir, meta, shape, base).cycles == one.cycles  # deterministic
    assert trace.simulate(kernel_dir, meta, shape, half_bandwidth).cycles >= 1.5 * one.cycles
    # a large add is DRAM-bound and the cores share DRAM: a second core may not help, never hurts
    assert trace.simulate(kernel_dir, meta, shape, config.load("tpuv3-2core")).cycles <= one.cycles
    assert trace.simulate(kernel_dir, meta, shape, narrow).busy_cycles["vector"] > one.busy_cycles["vector"]
