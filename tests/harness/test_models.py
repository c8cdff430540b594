"""Model specs (suites/models): a module built once with seeded weights, explicit size sweeps, the
per-kernel breakdown recorded on every multi-kernel case, big sizes' values from the host JIT."""

from __future__ import annotations

import json

import pytest
import torch

from harness.sizes import explicit_sweeps
from harness.spec import OpSpec
from tests.harness.test_plugin import junit_cases, project, run  # noqa: F401  (the project fixture)


def _linear():
    return torch.nn.Linear(8, 8)


def test_module_is_built_once_per_dtype_with_seeded_weights():
    spec = OpSpec("lin", lambda m, x: m(x), inputs=["N,8"], module=_linear, module_seed=3)
    again = OpSpec("lin", lambda m, x: m(x), inputs=["N,8"], module=_linear, module_seed=3)
    other = OpSpec("lin", lambda m, x: m(x), inputs=["N,8"], module=_linear, module_seed=4)
    first = spec.instance(torch.float32)
    assert spec.instance(torch.float32) is first and not first.training
    assert torch.equal(first.weight, again.instance(torch.float32).weight)
    assert not torch.equal(first.weight, other.instance(torch.float32).weight)
    assert spec.instance(torch.bfloat16).weight.dtype == torch.bfloat16
    x = torch.randn(5, 8)
    torch.testing.assert_close(spec.expected([x]), first(x))


def test_explicit_sweeps_fix_other_dims_at_their_first_general_size():
    sweeps = explicit_sweeps({"B": (1, 3, 5), "T": (1, 7, 31)})
    assert [s.dim for s in sweeps] == ["B", "T"]
    assert sweeps[0].sizes() == [{"B": 1, "T": 7}, {"B": 3, "T": 7}, {"B": 5, "T": 7}]
    assert sweeps[1].sizes() == [{"B": 3, "T": 1}, {"B": 3, "T": 7}, {"B": 3, "T": 31}]
    with pytest.raises(ValueError, match="must differ"):
        explicit_sweeps({"B": (1, 7), "T": (7, 9)})


def test_big_cases_take_host_values():
    spec = OpSpec("lin", lambda m, x: m(x), inputs=["B,T,8"], module=_linear, host_values_above=100)
    assert spec.functional_for({"B": 3, "T": 33}) is None
    assert spec.functional_for({"B": 3, "T": 34}) == "host"


BLOCK = '''
import torch.nn.functional as F


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = torch.nn.LayerNorm(16)
        self.fc = torch.nn.Linear(16, 16)

    def forward(self, x):
        return x + F.gelu(self.fc(self.norm(x)))


def run_block(module, x):
    with torch.no_grad():
        return module(x)


SPECS = [OpSpec("block", run_block, inputs=["B,T,16"], module=Block,
                sizes=lambda config, policy: {"B": (1, 3, 5), "T": (6, 9)})]
'''


def test_model_spec_runs_and_records_its_kernels(project):
    pytester = project(BLOCK)
    result = run(pytester)
    result.assert_outcomes(passed=6)  # B=1,3,5 at T=6, B=3 at T=9, a sweep over B and one over T
    cases = junit_cases(pytester)
    case = cases["block[f32-B=3-T=9]"]
    kernels = json.loads(case["npusim.kernels"])
    assert len(kernels) >= 2 and all(k["kernel"] and k["cycles"] > 0 for k in kernels)
    assert sum(k["cycles"] for k in kernels) == int(case["npusim.cycles"])
    assert cases["block[f32-sweep-T]"]["npusim.status"] == "pass"
