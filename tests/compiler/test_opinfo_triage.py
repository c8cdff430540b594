"""Small inputs for what the OpInfo suite found (issue 17), kept as tests."""

from __future__ import annotations

import pytest
import torch

from npusim import runlog


@pytest.fixture
def traced_env(npusim_env, monkeypatch):
    """Host values, but the trace simulator on: these bugs were in the cycles path."""
    monkeypatch.setenv("NPUSIM_TRACE", "1")
    return npusim_env


def test_arange_with_a_negative_start_is_simulated(traced_env):
    """OpInfo's arange(-1, 2, 2): Dynamo makes the ints size args, and ks = -1 (the start) reached the
    trace simulator, which refused every negative size arg. Only extents must be non-negative."""
    bounds = [-1, 2, 2]  # read from a list, as OpInfo samples are: Dynamo keeps them symbolic

    def fn(x):
        return x + torch.arange(bounds[0], bounds[1], bounds[2], dtype=torch.float32)

    x = torch.randn(2)
    torch.testing.assert_close(torch.compile(fn, backend="npusim", dynamic=True)(x), fn(x))
    launches = runlog.events("launch", traced_env)
    assert launches and all(e.get("cycles") for e in launches), launches


@pytest.mark.parametrize("fn", [torch.erfc, torch.special.erfcx, torch.special.log_ndtr],
                         ids=["erfc", "erfcx", "log_ndtr"])
def test_erfc_family_keeps_its_tails(npusim_env, fn):
    """Inductor's erfc = 1 - erf(x) cancelled for x above ~3: erfc(8) was 0 (eager 1.1e-29), erfcx(8)
    0 (eager 0.07) and log_ndtr(-10) -inf (eager -53.2). Relative error is what matters in the tails."""
    x = torch.tensor([-30.0, -10.0, -5.0, -2.0, -0.5, 0.0, 1e-3, 1.0, 3.0, 8.0, 9.0, 30.0])
    actual = torch.compile(lambda x: fn(x), backend="npusim", dynamic=True)(x)
    expected = fn(x)
    # relative error in the tails; log_ndtr near 0 (x = 8: -6e-16) is an absolute matter
    tiny = 1e-6 if fn is torch.special.log_ndtr else 0.0
    finite = expected.isfinite() & (expected.abs() > tiny)
    torch.testing.assert_close(actual[~finite], expected[~finite], atol=1e-6, rtol=0)
    torch.testing.assert_close(actual[finite], expected[finite], rtol=1e-4, atol=0)  # the suite's f32 rtol


def test_a_host_node_without_a_kernel_name_is_refused_by_its_node_type():
    """OpInfo's narrow with a tensor start gave `cannot lower op ''` (a DynamicSliceSize node has
    no kernel name): the refusal must name something a user can look up."""
    from compiler.wrapper import op_name

    class DynamicSliceSize:  # stands for the Inductor IR node: no op_overload, an empty kernel name
        python_kernel_name = ""

    assert op_name(DynamicSliceSize()) == "DynamicSliceSize"


def test_batch_norm_running_var_takes_the_unbiased_correction_as_a_float_size(traced_env):
    """OpInfo's _native_batch_norm_legit (training, running stats) updates running_var with
    n / (n - 1.0), a float size expression (FloatTrueDiv of IntTrueDiv): the index printer knew only
    integers and refused `index:FloatTrueDiv`. It is now computed in f64, on Spike and in the trace."""
    def fn(x, weight, bias, mean, var):
        return torch._native_batch_norm_legit(x, weight, bias, mean, var, True, 0.5, 0.6)

    compiled = torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)
    for n in (5, 7):
        inputs = [torch.randn(5, 5, n), torch.randn(5), torch.randn(5), torch.randn(5), torch.rand(5) + 0.5]
        expected_state = [t.clone() for t in inputs]
        torch.testing.assert_close(compiled(*inputs), fn(*expected_state), rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(inputs[3:], expected_state[3:], rtol=1e-4, atol=1e-5)  # running stats
    assert runlog.events("launch", traced_env)


def test_a_gathered_element_s_index_stays_inside_its_gather_loop(npusim_env):
    """OpInfo's interpolate(bilinear, align_corners) of a (2, 3, 4, 1) input: the second gather of a row
    reused the source index computed inside the first gather's loop body (memoised in the outer scope),
    and the kernel failed to verify ("operand #0 does not dominate this use")."""
    def fn(x):
        return torch.nn.functional.interpolate(x, (3, 3), mode="bilinear", align_corners=True)

    x = torch.randn(2, 3, 4, 1)
    torch.testing.assert_close(torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)(x), fn(x))


@pytest.mark.parametrize("mode", ["reflect", "circular", "replicate"])
def test_reflect_padding_indexes_through_abs_and_a_branch(traced_env, mode):
    """OpInfo's pad(mode="reflect") reads x at Where(k - |..| - 1 < 0, 2k - |..| - 1, k - |..| - 1):
    the index printer knew neither Where nor Abs and refused `index:Where`. The cycles path takes
    the same index (trace on)."""
    def fn(x):
        return torch.nn.functional.pad(x, (2, 1), mode=mode)

    compiled = torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)
    for n in (5, 9):
        x = torch.randn(2, 3, n)
        torch.testing.assert_close(compiled(x), fn(x))
    assert all(e.get("cycles") for e in runlog.events("launch", traced_env))


def test_an_unbatched_3d_max_pool_is_refused_by_name(npusim_env):
    """OpInfo's adaptive_max_pool3d of an unbatched (C, D, H, W) input: prims' max pool serves 3-D pools
    too, its input is 4-D like a batched 2-D pool's, and the 2-D pool path unpacked a 3-tap kernel
    ("too many values to unpack"). It is a loud refusal naming max_pool3d."""
    from compiler.errors import UnsupportedOp

    def fn(x):
        return torch.nn.functional.adaptive_max_pool3d(x, (None, None, None))

    with pytest.raises(Exception) as caught:
        torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)(torch.randn(4, 4, 3, 5))
    refusals = [e for e in _causes(caught.value) if isinstance(e, UnsupportedOp)]
    assert refusals and "max_pool3d" in str(refusals[0]), caught.value


def _causes(error):
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


def test_a_data_dependent_output_count_is_refused_by_name(npusim_env):
    """OpInfo's tensor_split(x, torch.tensor(1)): how many tensors it returns is the tensor's value, and
    the decomposition's `.item()` raised GuardOnDataDependentSymNode inside the backend (a crash). It is
    a refusal naming tensor_split."""
    from compiler.errors import UnsupportedOp

    def fn(x, sections):
        return torch.tensor_split(x, sections)

    with pytest.raises(Exception) as caught:
        torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)(torch.randn(5, 5, 5), torch.tensor(1))
    refusals = [e for e in _causes(caught.value) if isinstance(e, UnsupportedOp)]
    assert refusals and refusals[0].op == "tensor_split", caught.value


def test_a_summing_op_that_matches_the_exact_value_is_not_wrong_when_eager_is_off(npusim_env):
    """OpInfo's norm of its (5, 5) sample swept to N = 131079 (host values): the kernel gave 3781.6023,
    the float64 value is 3781.6020, but eager's f32 sum said 3782.1033 (1.3e-4 off, rtol 1e-4): the case
    failed as wrong. A summing op now also matches against the float64 value (catalog.exact_reference)."""
    from harness import checks
    from suites.opinfo import catalog

    op = next(op for op in catalog.op_database() if catalog.full_name(op) == "norm")
    spec = catalog.specs_of(op, samples=1)[0]
    sizes = {catalog.SWEPT: 131079}
    inputs = spec.make_inputs(sizes, "f32", 0)
    rtol, atol = spec.tolerance("f32", sizes)
    actual = torch.compile(spec.fn, backend="npusim", dynamic=True, fullgraph=True)(*[t.clone() for t in inputs])
    exact = spec.exact_reference([t.clone() for t in inputs], "f32")
    assert not checks.values_close(spec.expected([t.clone() for t in inputs]), exact, rtol, atol)  # eager is off
    torch.testing.assert_close(actual, exact, rtol=rtol, atol=atol)
    assert catalog.specs_of(next(o for o in catalog.op_database() if o.name == "abs"), samples=1)[0] \
        .exact_reference(inputs, "f32") is None  # pointwise ops keep eager as their only reference


def test_a_float_size_expression_may_take_a_max(traced_env):
    """OpInfo's native_layer_norm of its (1, 2, 3) sample over all dims, the last swept: the variance's
    divisor is max(0, 2 * N - 0), a float size expression Max(0.0, 2*ks0) the float printer refused
    (`index:Max`). It is now an f64 max, on Spike and in the trace."""
    from suites.opinfo import catalog

    op = next(op for op in catalog.op_database() if catalog.full_name(op) == "native_layer_norm")
    spec = catalog.specs_of(op, samples=1)[0]
    inputs = spec.make_inputs({}, "f32", 0)
    actual = torch.compile(spec.fn, backend="npusim", dynamic=True, fullgraph=True)(*spec.call_inputs(inputs))
    torch.testing.assert_close(actual, spec.expected(inputs), rtol=1e-4, atol=1e-5)
    assert runlog.events("launch", traced_env)


def test_a_diagonal_s_length_stays_a_size_expression(traced_env):
    """OpInfo's diagonal_copy(x, offset=2) of a (5, N) input: Inductor's lowering took the length
    min(5, N - 2) with evaluate_min, guarding 3 <= N <= 6, so N = 1025 compiled a second kernel. The
    length is now the expression Max(0, Min(5, N - 2)): one graph for both sizes, values as eager."""
    def fn(x):
        return torch.diagonal_copy(x, offset=2)

    compiled = torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)
    for n in (5, 1025):
        x = torch.randn(5, n)
        torch._dynamo.mark_static(x, 0)
        torch.testing.assert_close(compiled(x), fn(x))
    assert len(runlog.events("dynamo_graph", traced_env)) == 1


def test_an_empty_output_has_no_roofline_ratio(spike_env):
    """OpInfo's linear of a (0, 3) input on Spike with the trace on: the kernel takes its launch cycles,
    the physical floor of no bytes is 0 cycles, and the harness divided by it (ZeroDivisionError,
    a crash). Run through the harness's own case item, as the suite does."""
    from suites.opinfo import catalog

    op = next(op for op in catalog.op_database() if catalog.full_name(op) == "nn.functional.linear")
    spec = catalog.specs_of(op, samples=2)[1]
    assert spec.tensors[0].shape == (0, 3)
    result = subprocess_pytest(f"suites/opinfo/ops.py::{spec.name}[f32-N=3]", "nn.functional.linear")
    assert result.returncode == 0, result.stdout[-3000:]


def subprocess_pytest(node: str, ops: str):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, NPUSIM_OPINFO="1", NPUSIM_OPINFO_EXPECT="off", NPUSIM_OPINFO_OPS=ops)
    return subprocess.run([sys.executable, "-m", "pytest", node, "-q", "-p", "no:xdist", "-p", "no:cacheprovider"],
                          cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True)


def test_a_low_precision_loss_may_match_the_exact_value_where_eager_overflows(npusim_env):
    """OpInfo's soft_margin_loss in f16: eager's exp overflowed (inf), the kernel computes in f32 and gave
    7.64, the float64 value rounded to f16. The exact reference serves f16 too."""
    def fn(x, y):
        return torch.nn.functional.soft_margin_loss(x, y)

    x = torch.tensor([[-8.0, 3.0, 12.0, -1.0, 0.5]], dtype=torch.float16)
    y = torch.tensor([[9.0, -2.0, -1.0, 4.0, 1.0]], dtype=torch.float16)
    assert fn(x, y).isinf()  # eager's f16 overflows
    actual = torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)(x, y)
    exact = fn(x.double(), y.double()).half()
    assert exact.isfinite()
    torch.testing.assert_close(actual, exact, rtol=1e-2, atol=1e-3)
    from suites.opinfo import catalog

    op = next(op for op in catalog.op_database() if catalog.full_name(op) == "nn.functional.soft_margin_loss")
    spec = catalog.specs_of(op, samples=2)[1]
    inputs = spec.make_inputs({}, "f16", 0)
    assert spec.expected(inputs).isinf() and spec.exact_reference(inputs, "f16").isfinite()


def test_kernels_sharing_one_element_fuse(npusim_env):
    """OpInfo's frexp at N = 1 (a static [1] input): its mantissa and exponent kernels share 4 bytes
    of input, under Inductor's 10-byte fusion threshold, so N = 1 launched two kernels (148 cycles)
    and N = 7 one (125): cycles fell as N grew. Any shared input now fuses."""
    x = torch.tensor([3.0])
    mantissa, exponent = torch.compile(torch.frexp, backend="npusim", dynamic=True)(x)
    expected = torch.frexp(x)
    assert torch.equal(mantissa, expected.mantissa) and torch.equal(exponent, expected.exponent)
    graphs = runlog.events("graph", npusim_env)
    assert [len(g["kernels"]) for g in graphs] == [1], graphs


def test_max_pool_indices_in_ceil_mode_compile_once(traced_env):
    """OpInfo's max_pool2d(kernel 3, stride 2, padding 1, ceil_mode, return_indices) swept over the
    width: Inductor's offsets kernel guarded on whether ceil mode changes the output width
    (`(N - 1) // 2 != N // 2`), so N = 7 compiled the graph again after N = 6. The offsets now take
    Dynamo's traced output size: one graph for both parities, indices as eager's."""
    def fn(x):
        return torch.nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)

    compiled = torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)
    for n in (6, 7, 8, 9, 33):
        x = torch.randn(1, 2, 3, n)
        torch._dynamo.mark_dynamic(x, 3)
        (values, indices), (expected_values, expected_indices) = compiled(x), fn(x)
        assert torch.equal(values, expected_values) and torch.equal(indices, expected_indices), n
    assert len(runlog.events("dynamo_graph", traced_env)) == 1
