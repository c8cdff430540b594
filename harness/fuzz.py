"""Size fuzzing: a hypothesis test per op that draws sizes and shrinks a failure to the smallest size.

    test_fuzz_add = fuzz_test(spec_named(SPECS, "add"))

The example count is bounded (NPUSIM_FUZZ_EXAMPLES, default 8) so CI stays
fast; a nightly can raise it. One torch.compile serves every drawn size, as
in the case matrix.
"""

from __future__ import annotations

import os
import time

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.checks import check_kernel_launched, check_values
from harness.session import events_since, forget_float_specialisations
from harness.spec import OpSpec

MAX_INNER = 5000  # innermost dim: covers several tiles and tails
MAX_OUTER = 17


def spec_named(specs: list[OpSpec], name: str) -> OpSpec:
    for spec in specs:
        if spec.name == name:
            return spec
    raise KeyError(f"no op spec named {name!r}")


def fuzz_test(spec: OpSpec, dtype: str | None = None):
    dtype = dtype or spec.dtypes[0]
    dims = spec.dims()
    strategy = st.fixed_dictionaries(
        {dim: st.integers(1, MAX_INNER if i == len(dims) - 1 else MAX_OUTER) for i, dim in enumerate(dims)})
    compiled: dict = {}

    @settings(max_examples=int(os.environ.get("NPUSIM_FUZZ_EXAMPLES", "8")), deadline=None,
              derandomize=bool(os.environ.get("CI")), database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(sizes=strategy)
    def test(sizes):
        import compiler  # noqa: F401

        if "fn" not in compiled:
            compiled["fn"] = torch.compile(spec.traced_fn(), backend="npusim", dynamic=True, fullgraph=True)
        inputs = spec.make_inputs(sizes, dtype, seed=len(sizes) + sum(sizes.values()))
        started = time.time()
        forget_float_specialisations()
        actual = compiled["fn"](*spec.call_inputs(inputs))
        check_kernel_launched(events_since(started), events_since(started, kind="graph_call"), actual)
        check_values(actual, spec.expected(inputs), *spec.tolerance(dtype, sizes))

    test.__name__ = f"test_fuzz_{spec.name}_{dtype}"
    return test
