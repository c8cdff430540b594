"""The sort family as npusim kernels (compiler/sort.py, compiler/scan.py): values bit-exact against
eager on Spike, ties in eager's stable order, NaN as eager orders it, one compile across sizes."""

from __future__ import annotations

import pytest
import torch

from npusim import runlog

pytestmark = pytest.mark.spike

NAN, INF = float("nan"), float("inf")


def compiled(fn):
    return torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)


def rows(n: int, dtype=torch.float32) -> torch.Tensor:
    """3 rows of n: few distinct values (many ties), a NaN or two, signed zeros and infinities."""
    x = torch.randint(-3, 4, (3, n)).to(dtype)
    if dtype.is_floating_point:
        x[0, n // 2] = NAN
        x[1, 0] = -0.0
        x[2, n - 1] = -INF
        x[1, n - 1] = NAN
        x[2, 0] = INF
    return x


def assert_compiled_once(log) -> None:
    """One Dynamo graph for every size, each of its kernels compiled once."""
    compiles, graphs = runlog.events("compile", log), runlog.events("dynamo_graph", log)
    assert compiles and len(graphs) == 1, (len(compiles), len(graphs))
    assert len({e["kernel_hash"] for e in compiles}) == len(compiles), "a kernel compiled twice"


def assert_rows_like_eager(fn, lengths, log) -> None:
    """fn's (values, indices) of rows of each length, compiled once: values bit-exact, indices equal."""
    compiled_fn = compiled(fn)
    for n in lengths:
        x = rows(n)
        values, indices = compiled_fn(x)
        expected = fn(x)
        assert bits_equal(values, expected.values), (n, values, expected.values)
        assert torch.equal(indices, expected.indices), (n, indices, expected.indices)
    assert_compiled_once(log)


def bits_equal(a: torch.Tensor, b: torch.Tensor, signed_zeros: bool = True) -> bool:
    """Equal values, NaN where eager has NaN, and (signed_zeros) the same sign of zero."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.is_floating_point():
        nan_a, nan_b = torch.isnan(a), torch.isnan(b)
        return torch.equal(nan_a, nan_b) and torch.equal(a[~nan_a].view(-1), b[~nan_b].view(-1)) and \
            (not signed_zeros or torch.equal(torch.signbit(a[~nan_a]), torch.signbit(b[~nan_b])))
    return torch.equal(a, b)


@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_values_and_indices_like_eager_one_compile(spike_env, descending):
    """Ties keep their index order, NaN sorts as the largest value, -0.0 == 0.0 (stable keeps their
    order); rows of 37, 5 and 130 (padded to 64, 8 and 256) share one kernel."""
    fn = lambda t: torch.sort(t, dim=-1, descending=descending, stable=True)  # noqa: E731
    assert_rows_like_eager(fn, (37, 5, 130), spike_env)
    cycles = [e["cycles"] for e in runlog.events("launch", spike_env)]
    assert cycles[1] < cycles[0] < cycles[2], cycles  # n log^2 n compare-exchanges per row


def test_sort_of_one_element_and_low_precision_and_integers(spike_env):
    cases = [(lambda t: torch.sort(t, stable=True), rows(1)),
             (lambda t: torch.sort(t, descending=True, stable=True), rows(19, torch.float16)),
             (lambda t: torch.sort(t, stable=True), rows(23, torch.bfloat16)),
             (lambda t: torch.sort(t, descending=True, stable=True), torch.randint(-9, 9, (4, 29), dtype=torch.int32)),
             (lambda t: torch.argsort(t, dim=0, stable=True), rows(6).t().contiguous()),
             (lambda t: torch.msort(t), rows(9).t())]
    for fn, x in cases:
        torch._dynamo.reset()
        result, expected = compiled(fn)(x), fn(x)
        for got, want in zip(torch.utils._pytree.tree_leaves(result), torch.utils._pytree.tree_leaves(expected)):
            assert bits_equal(got, want), (x.dtype, x.shape, got, want)


def selects_same(x, dim, got, want) -> bool:
    """An index eager leaves unspecified among equal values must pick an equal value."""
    if got.ndim < x.ndim:
        got, want = got.unsqueeze(dim), want.unsqueeze(dim)
    picked, expected = x.gather(dim, got), x.gather(dim, want)
    return bits_equal(picked, expected, signed_zeros=False)


@pytest.mark.parametrize("op", ["topk", "topk_smallest", "kthvalue", "median", "nanmedian", "mode"])
def test_sort_family_values_exact_and_indices_valid_one_compile(spike_env, op):
    fn = {"topk": lambda t: torch.topk(t, 3, dim=-1),
          "topk_smallest": lambda t: torch.topk(t, 2, dim=-1, largest=False),
          "kthvalue": lambda t: torch.kthvalue(t, 2, dim=-1),
          "median": lambda t: torch.median(t, dim=-1),
          "nanmedian": lambda t: torch.nanmedian(t, dim=-1),
          "mode": lambda t: torch.mode(t, dim=-1)}[op]
    compiled_fn = compiled(fn)
    for n in (37, 5, 130):
        x = rows(n)
        if op == "nanmedian":
            x[2, :] = NAN  # a row of NaN: nanmedian gives NaN
        if op == "mode":  # eager's mode sorts with `<`, which NaN breaks: its answer is then no mode at all
            x = torch.nan_to_num(x, nan=2.0)
        values, indices = compiled_fn(x)
        expected = fn(x)
        # which of tied -0.0 and 0.0 eager picks is unspecified (it is not a stable sort)
        assert bits_equal(values, expected[0], signed_zeros=False), (op, n, values, expected[0])
        assert selects_same(x, -1, indices, expected[1]), (op, n, indices, expected[1])
    assert_compiled_once(spike_env)


def test_median_of_a_row_with_nan_is_that_nan_and_its_index(spike_env):
    """Inductor's own decomposition takes sorted[(n - 1) // 2], a number; eager gives the NaN."""
    x = torch.tensor([[1.0, 5.0, NAN, 2.0, NAN], [3.0, 1.0, 2.0, 0.0, 4.0]])
    values, indices = compiled(lambda t: torch.median(t, 1))(x)
    expected = torch.median(x, 1)
    assert bits_equal(values, expected.values) and torch.equal(indices, expected.indices), (values, indices)
    torch._dynamo.reset()
    assert bits_equal(compiled(torch.median)(x), torch.median(x))


@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_cummax_cummin_values_and_indices_like_eager(spike_env, op):
    """A scan of (value, index): the last index of an equal extreme, a NaN propagates with its index."""
    fn = lambda t: getattr(torch, op)(t, dim=-1)  # noqa: E731
    assert_rows_like_eager(fn, (37, 5, 1031), spike_env)


def test_a_row_longer_than_the_row_buffer_is_reported(npusim_env):
    from compiler.sort import ROW_CAPACITY
    from simulator.functional.errors import KernelIndexError

    x = torch.randn(1, ROW_CAPACITY + 1)
    with pytest.raises(KernelIndexError, match=rf"index {ROW_CAPACITY + 1} is out of bounds .* size {ROW_CAPACITY}"):
        compiled(lambda t: torch.sort(t).values)(x)
