"""The sweep checks on hand-made points: each must fail on the fault it exists for."""

import pytest
import torch

from harness import checks
from harness.sizes import dim_sizes, sweeps
from npusim import config


def test_monotonic_passes_flat_and_rising():
    checks.check_monotonic([(1, 10), (7, 10), (1024, 50), (2048, 90)], "cycles", "N")


def test_monotonic_fails_when_bigger_is_cheaper():
    with pytest.raises(AssertionError, match="cycles fell as N grew: N=1024 -> 50, N=2048 -> 40"):
        checks.check_monotonic([(1024, 50), (2048, 40), (1, 10)], "cycles", "N")


def test_monotonic_fails_when_metric_missing():
    with pytest.raises(AssertionError, match="no cycles recorded"):
        checks.check_monotonic([(1, 10), (2, None)], "cycles", "N")


def test_trace_scaling_needs_more_records_for_more_tiles():
    checks.check_trace_scaling([(1000, 14), (1024, 14), (1025, 21), (2048, 21)], 1024, "N")
    with pytest.raises(AssertionError, match="did not grow with the tile count"):
        checks.check_trace_scaling([(1024, 14), (1025, 14)], 1024, "N")


def test_compile_once():
    first = [{"kernel": "k", "kernel_hash": "a" * 64, "ts": 1.0}]
    checks.check_compile_once(first, first_case_end=2.0)
    with pytest.raises(AssertionError, match="compiles after the first size"):
        checks.check_compile_once(first + [{"kernel": "k", "kernel_hash": "b" * 64, "ts": 3.0}], 2.0)
    with pytest.raises(AssertionError, match="more than once"):
        checks.check_compile_once(first + [{"kernel": "k", "kernel_hash": "a" * 64, "ts": 1.5}], 2.0)


def test_same_kernel_twice_in_one_graph_is_one_compile():
    """An encoder layer's two LayerNorms emit one kernel twice while its graph compiles: not a
    recompile. The same kernel compiled again for a second graph is."""
    twice = [{"kernel": "norm", "kernel_hash": "a" * 64, "ts": t} for t in (1.1, 1.2)]
    checks.check_compile_once(twice, first_case_end=2.0, graph_starts=[1.0])
    with pytest.raises(AssertionError, match="more than once"):
        checks.check_compile_once(twice, first_case_end=2.0, graph_starts=[1.0, 1.15])


def test_size_policy_covers_tile_edges():
    tile = config.load().tile_elems(32)
    smoke = dim_sizes(tile, "smoke")
    assert {1, tile - 1, tile, tile + 1} <= set(smoke)
    nightly = dim_sizes(tile, "nightly")
    assert set(smoke) - {2 * tile + 3} <= set(nightly) and max(nightly) >= 16 * tile
    assert any(n > 2 and all(n % p for p in range(2, n)) for n in nightly if n < tile)  # a prime


def test_sweeps_vary_one_dim_at_a_time():
    lines = sweeps(["M", "N"], config.load(), "smoke")
    assert [s.dim for s in lines] == ["N", "M"]
    for line in lines:
        fixed = [{k: v for k, v in p.items() if k != line.dim} for p in line.sizes()]
        assert all(f == fixed[0] for f in fixed)


@pytest.mark.parametrize("policy", ["smoke", "nightly"])
def test_image_sweeps_keep_batch_below_the_conv_guard_and_skip_size_two(policy):
    """A conv's batch stays below 16 (Dynamo's oneDNN guard) and H, W skip 2 (a stride-2 window
    maps it to an output of 1, which Dynamo specialises); every dim still takes 1 and a prime."""
    lines = {s.dim: [p[s.dim] for p in s.sizes()] for s in sweeps(["B", "H", "W"], config.load(), policy,
                                                                   size_tile="image")}
    assert set(lines) == {"B", "H", "W"}
    assert max(lines["B"]) < 16 and 1 in lines["B"]
    for dim in ("H", "W"):
        assert 2 not in lines[dim] and 1 in lines[dim] and 31 in lines[dim]


def test_op_scope_groups_cases_of_one_op_and_dtype():
    from harness.scheduling import op_scope

    assert op_scope("suites/a/ops.py::add[f32-N=7]") == op_scope("suites/a/ops.py::add[f32-sweep-N]")
    assert op_scope("suites/a/ops.py::add[f32-N=7]") != op_scope("suites/a/ops.py::add[i32-N=7]")
    assert op_scope("suites/a/ops.py::add[f32-N=7]") != op_scope("suites/b/ops.py::add[f32-N=7]")
    assert op_scope("tests/test_x.py::test_y[1-2]") == "tests/test_x.py::test_y[1-2]"


def test_case_seed_is_the_same_in_another_process():
    import subprocess
    import sys

    from harness.spec import case_seed

    here = case_seed("add", "f32", {"M": 3, "N": 1025})
    code = "from harness.spec import case_seed; print(case_seed('add', 'f32', {'N': 1025, 'M': 3}))"
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert int(there) == here


def test_sum_tolerance_grows_with_the_summed_length_and_still_catches_a_wrong_element():
    """Regression: a wide f32 sum drifts about eps * n from eager (CI saw 1.7e-4 at n = 9000
    against a fixed 1e-4); the spec's atol grows with the summed dims only."""
    import torch

    from harness.spec import OpSpec

    total = OpSpec("sum_last", lambda x: x.sum(-1), inputs=["M,N"], summed=("N",), rtol=1e-4, atol=1e-4)
    mean = OpSpec("mean_last", lambda x: x.mean(-1), inputs=["M,N"], rtol=1e-4, atol=1e-4)
    wide = {"M": 3, "N": 131079}
    rtol, atol = total.tolerance("f32", wide)
    assert rtol == 1e-4 and atol == pytest.approx(torch.finfo(torch.float32).eps * 131079)
    assert total.tolerance("f32", {"M": 3, "N": 7}) == (1e-4, 1e-4)  # short rows keep the spec's atol
    assert total.tolerance("f32") == (1e-4, 1e-4)
    assert total.tolerance("i32", wide) == (1e-4, 1e-4)  # integer sums are exact: no growth
    assert mean.tolerance("f32", wide) == (1e-4, 1e-4)  # a mean is not a long running sum

    x = torch.randn(3, 131079, generator=torch.Generator().manual_seed(0))
    expected = x.double().sum(-1).float()
    drifted = expected + 5e-3  # the size of the rounding drift at this length
    checks.check_values(drifted, expected, rtol, atol)
    wrong = expected.clone()
    wrong[1] += 1.0  # one element counted twice or dropped moves a row's sum by about |x|
    with pytest.raises(AssertionError):
        checks.check_values(wrong, expected, rtol, atol)


def test_kernel_launched_needs_every_scheduled_kernel():
    launch = {"kernel_hash": "a" * 64}
    call = {"graph": "1-0-main", "kernels": ["a" * 64, "b" * 64]}
    checks.check_kernel_launched([launch], [{"graph": "1-0-main", "kernels": ["a" * 64]}])
    with pytest.raises(AssertionError, match=r"did not launch \(graph 1-0-main: bbbbbbbbbbbb\)"):
        checks.check_kernel_launched([launch], [call])
    with pytest.raises(AssertionError, match="launched no npusim kernel"):
        checks.check_kernel_launched([], [call])


def test_a_view_of_an_input_needs_no_kernel_but_a_new_tensor_does():
    """squeeze/transpose compile to a view of the input (no data moves): no launch needed. An output
    in its own storage with no kernel launched came from the host (OpInfo triage, issue 17)."""
    x = torch.randn(3, 1, 4)
    no_kernels = [{"graph": "1-0-main", "kernels": []}]
    checks.check_kernel_launched([], no_kernels, x.squeeze(1), [x])
    checks.check_kernel_launched([], no_kernels, (x.transpose(0, 2), x[0]), [x])
    with pytest.raises(AssertionError, match="launched no npusim kernel"):
        checks.check_kernel_launched([], no_kernels, x.squeeze(1).clone(), [x])
    with pytest.raises(AssertionError, match="launched no npusim kernel"):  # one view, one host value
        checks.check_kernel_launched([], no_kernels, (x.squeeze(1), x.sum()), [x])


def test_a_function_returning_no_tensor_needs_no_kernel():
    """torch.broadcast_shapes returns a shape: no tensor, no kernel scheduled, nothing to verify
    (the OpInfo survey counted it as no-kernel, issue 17). A tensor out with no kernel still fails."""
    no_kernels = [{"graph": "1-0-main", "kernels": []}]
    checks.check_kernel_launched([], no_kernels, outputs=torch.Size([3, 4]), inputs=[])
    checks.check_kernel_launched([], no_kernels, outputs=(3, 4), inputs=[])
    with pytest.raises(AssertionError, match="launched no npusim kernel"):
        checks.check_kernel_launched([], no_kernels, outputs=torch.ones(2), inputs=[])
    with pytest.raises(AssertionError, match="launched no npusim kernel"):  # a computed number (x.sum().item())
        checks.check_kernel_launched([], no_kernels, outputs=(3, 2.5), inputs=[])
