"""argmax/argmin, scans and indirect indexing (issue 12, part B): values from Spike, bit-exact
where eager's are exact (indices, data movement, a sequential f32 scan); cycles from the trace."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from npusim import runlog

pytestmark = pytest.mark.spike


@pytest.fixture
def spike_env(npusim_env, monkeypatch):
    monkeypatch.setenv("NPUSIM_FUNCTIONAL", "spike")
    monkeypatch.setenv("NPUSIM_TRACE", "1")
    return npusim_env


def compiled(fn):
    return torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)


def launches(log):
    return runlog.events("launch", log)


def test_argmax_argmin_ties_nan_and_inf_like_eager(spike_env):
    """First index on ties, the first NaN wins, a row of -inf (argmax) / +inf (argmin) gives 0."""
    nan, inf = float("nan"), float("inf")
    x = torch.tensor([[1.0, 3.0, 3.0, 2.0, 3.0],
                      [1.0, nan, 5.0, nan, 9.0],
                      [-inf, -inf, -inf, -inf, -inf],
                      [inf, inf, inf, inf, inf],
                      [2.0, 2.0, 2.0, 2.0, 2.0],
                      [-1.0, -7.0, -7.0, 9.0, 9.0]])
    for fn in (lambda t: t.argmax(-1), lambda t: t.argmin(-1), lambda t: t.argmax(0), lambda t: t.argmin(0)):
        torch._dynamo.reset()
        result = compiled(fn)(x)
        assert result.dtype == torch.int64
        assert torch.equal(result, fn(x)), (result, fn(x))
    assert all(e["cycles"] > 0 for e in launches(spike_env))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.int32])
def test_argmax_low_precision_and_integer_rows_with_tails(spike_env, dtype):
    fn = lambda t: t.argmax(-1)  # noqa: E731
    compiled_fn = compiled(fn)
    for n in (1031, 7, 2):  # values from a small range: many ties
        x = torch.randint(-4, 5, (3, n)).to(dtype)
        assert torch.equal(compiled_fn(x), fn(x))


def test_argmax_over_everything_and_cycles_grow(spike_env):
    fn = lambda t: t.argmin()  # noqa: E731
    compiled_fn = compiled(fn)
    for n in (5, 1023, 1025, 4099):
        x = torch.randn(n)
        x[n // 2] = x.min()  # a tie with the earlier minimum
        assert torch.equal(compiled_fn(x), fn(x))
    cycles = [e["cycles"] for e in launches(spike_env)]
    assert cycles == sorted(cycles), cycles


def test_argmin_over_a_view_with_inductors_own_index(spike_env):
    """x.argmin() of a (3, 1) tensor: Inductor hands the reduction (value, index), not the value
    alone (it was refused as 'reduction:argmin')."""
    fn = lambda t: t.argmin()  # noqa: E731
    x = torch.tensor([[2.0], [-1.0], [-1.0]])
    assert torch.equal(compiled(fn)(x), fn(x))
