"""Convolution on the systolic array (compiler/conv.py): values on Spike (host JIT where marked),
exact zero padding, one compile per kernel, every kernel on npusim, systolic events and cycles
from the trace simulator; a ResNet basic block and a ViT patch embedding at three image sizes."""

from __future__ import annotations

import contextlib
import json

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from compiler.errors import find_unsupported
from npusim import cache, runlog
from suites.models.blocks import ResNetBasicBlock


@pytest.fixture
def traced_env(npusim_env, monkeypatch):
    monkeypatch.setenv("NPUSIM_TRACE", "1")
    return npusim_env


def kernel_meta(event) -> dict:
    return json.loads(cache.entry(event["kernel_hash"]).path("kernel.json").read_text())


def run_sizes(fn, cases, atol=1e-4, rtol=1e-4):
    """Each case against fn on float64 inputs (our f32 accumulation is the only rounding)."""
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for args in cases:
        expected = fn(*[a.double() for a in args]).to(args[0].dtype)
        torch.testing.assert_close(compiled(*args), expected, rtol=rtol, atol=atol)


def role_sizes(event, compile_event) -> dict:
    meta = kernel_meta(compile_event)
    roles = {a["name"]: a.get("role") for a in meta["args"] if a["kind"] == "size"}
    return {roles[name]: value for name, value in event["shape_args"].items()}


@pytest.mark.spike
def test_conv2d_3x3_on_spike_one_compile_systolic_events(spike_env):
    w, b = torch.randn(16, 8, 3, 3), torch.randn(16)
    images = [(2, 9, 11), (3, 9, 11), (2, 13, 11), (2, 9, 17)]
    run_sizes(lambda x, w, b: F.conv2d(x, w, b, padding=1), [(torch.randn(n, 8, h, wd), w, b) for n, h, wd in images])
    compiles = runlog.events("compile", spike_env)
    assert len(compiles) == 1 and kernel_meta(compiles[0])["conv"]["kernel"] == [3, 3]
    launches = runlog.events("launch", spike_env)
    assert [e["functional"] for e in launches] == ["spike"] * len(images)
    assert len({e["elf"] for e in launches}) == 1
    cycles = {tuple(sorted(role_sizes(e, compiles[0]).items())): e["cycles"] for e in launches}
    base = cycles[(("B", 2), ("H", 9), ("W", 11))]
    # cycles never fall as batch, height or width grow
    assert base <= cycles[(("B", 3), ("H", 9), ("W", 11))]
    assert base <= cycles[(("B", 2), ("H", 13), ("W", 11))]
    assert base <= cycles[(("B", 2), ("H", 9), ("W", 17))]


@pytest.mark.spike
def test_conv1d_bf16_on_spike(spike_env):
    w, b = torch.randn(12, 8, 5).bfloat16(), torch.randn(12).bfloat16()
    run_sizes(lambda x, w, b: F.conv1d(x, w, b, padding=2, stride=2),
              [(torch.randn(n, 8, length).bfloat16(), w, b) for n, length in ((2, 19), (3, 7))], atol=2e-2, rtol=2e-2)
    assert len(runlog.events("compile", spike_env)) == 1
    assert [e["functional"] for e in runlog.events("launch", spike_env)] == ["spike"] * 2


def test_conv1d_weights_one_slab_and_cycles_grow_with_width(traced_env):
    """Regression (nightly conv1d W = 16 -> 17 cost 658 -> 657 cycles): a conv1d's weights have no
    height (stride 0), which failed the slab's contiguity check, so each of the 5 taps loaded its
    16 x 8 weights element by element (128 one-element bursts, all starting on DRAM channel 0).
    At W = 16 the third image's rows start on channel 0 too and queue behind them; at W = 17
    they start on channel 1. Now the weights load once per item as one run per output channel."""
    w, b = torch.randn(16, 8, 5), torch.randn(16)
    run_sizes(lambda x, w, b: F.conv1d(x, w, b, padding=2),
              [(torch.randn(3, 8, width), w, b) for width in (17, 16)], atol=5e-4)  # 17 first: a W of
    # 16 at the first call would share Cout's symbol (Dynamo's duck sizing) and be specialised
    (compile_event,) = runlog.events("compile", traced_env)
    assert kernel_meta(compile_event)["conv"]["weight_slab"] is True
    wide, narrow = (e["cycles"] for e in runlog.events("launch", traced_env))
    assert 0 < narrow <= wide


@pytest.mark.parametrize("name, fn, weight, in_channels, images", [
    ("stride2", lambda x, w: F.conv2d(x, w, stride=2, padding=1), (16, 8, 3, 3), 8, [(2, 9, 11), (3, 6, 7)]),
    ("depthwise", lambda x, w: F.conv2d(x, w, padding=1, groups=8), (8, 1, 3, 3), 8, [(2, 9, 11), (3, 5, 7)]),
    ("depthwise_multiplier", lambda x, w: F.conv2d(x, w, padding=1, groups=8), (16, 1, 3, 3), 8,
     [(2, 9, 11), (3, 5, 7)]),
    ("dilated", lambda x, w: F.conv2d(x, w, padding=2, dilation=2), (16, 8, 3, 3), 8, [(2, 9, 11), (3, 5, 7)]),
    ("groups_asymmetric_pad", lambda x, w: F.conv2d(x, w, padding=(1, 0), groups=2), (16, 4, 3, 3), 8,
     [(2, 9, 11), (3, 5, 7)]),
    ("stride_is_kernel", lambda x, w: F.conv2d(x, w, stride=4), (16, 8, 4, 4), 8, [(2, 18, 20), (3, 13, 9)]),
    ("channels_over_array_rows", lambda x, w: F.conv2d(x, w, padding=1), (20, 200, 3, 3), 200,
     [(2, 6, 5), (2, 7, 3)]),
    ("several_output_tiles", lambda x, w: F.conv2d(x, w, padding=1), (4, 3, 3, 3), 3, [(2, 40, 37), (2, 33, 41)]),
])
def test_conv_variants_values_one_compile(npusim_env, name, fn, weight, in_channels, images):
    w = torch.randn(*weight)
    run_sizes(fn, [(torch.randn(n, in_channels, h, wd), w) for n, h, wd in images], atol=5e-4)
    compiles = runlog.events("compile", npusim_env)
    assert len(compiles) == 1 and "conv" in kernel_meta(compiles[0])


def test_batch_16_does_not_recompile(npusim_env):
    """Regression: Dynamo's fake CPU convolution asks ATen which backend eager would take
    (`torch._C._select_conv_backend`, torch/_subclasses/fake_impls.py, for the output's memory
    format). oneDNN's and NNPACK's checks both read `batch >= 16` when the conv is neither strided nor
    dilated, which became a guard 2 <= B <= 15, so batch 16 compiled again. compiler/conv.py's
    select_conv_backend_by_hint asks it on the sizes' hints: one frame over both batches."""
    from torch._dynamo.utils import counters

    def frames(fn):
        torch._dynamo.reset()
        counters.clear()
        compiled = torch.compile(fn, backend="npusim", dynamic=True)
        w = torch.randn(4, 3, 3, 3)
        compiled(torch.randn(2, 3, 5, 6), w)
        compiled(torch.randn(16, 3, 5, 6), w)
        return counters["stats"]["unique_graphs"]

    assert frames(lambda x, w: F.conv2d(x, w, padding=1)) == 1
    assert frames(lambda x, w: F.conv2d(x, w, stride=2, padding=1)) == 1


def test_padding_is_exact_zeros(npusim_env):
    """All-ones input and weights: each output counts the window positions inside the image, an
    exact integer; a border read of garbage (or of the neighbouring row/channel) changes it."""
    fn = lambda x, w: F.conv2d(x, w, padding=2, dilation=1)  # noqa: E731
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for n, h, wd in ((2, 5, 7), (3, 4, 9)):
        x, w = torch.ones(n, 3, h, wd), torch.ones(2, 3, 5, 5)
        out = compiled(x, w)
        torch.testing.assert_close(out, fn(x, w), rtol=0, atol=0)
    # non-finite values outside the window never leak in: an image surrounded by NaN in memory
    big = torch.full((2, 3, 9, 11), float("nan"))
    big[:, :, 2:7, 3:9] = torch.randn(2, 3, 5, 6)
    inner = big[:, :, 2:7, 3:9]  # a strided view: the DMA reads through its strides
    torch.testing.assert_close(compiled(inner, torch.ones(2, 3, 5, 5)), fn(inner.contiguous(),
                                                                           torch.ones(2, 3, 5, 5)))


def test_conv_trace_has_systolic_events(traced_env):
    run_sizes(lambda x, w: F.conv2d(x, w, padding=1), [(torch.randn(2, 64, 12, 10), torch.randn(32, 64, 3, 3))])
    (launch,) = runlog.events("launch", traced_env)
    assert launch["cycles"] > 0 and launch["trace_records"] > 0
    (compile_event,) = runlog.events("compile", traced_env)
    meta = kernel_meta(compile_event)
    # 64 channels fill half of a 128-row array: two taps share a K step, 5 steps for 9 taps
    assert meta["conv"]["taps_per_k_step"] == 2 and meta["conv"]["k_steps"] == 5
    text = cache.entry(compile_event["kernel_hash"]).path("trace.cpp").read_text()
    assert "npusim_systolic_preload" in text and "npusim_systolic_accumulate" in text


def test_unsupported_convolutions_are_refused_by_name(npusim_env):
    transposed = torch.compile(lambda x, w: F.conv_transpose3d(x, w), backend="npusim", dynamic=True)
    with pytest.raises(Exception) as error:
        transposed(torch.randn(2, 4, 5, 5, 5), torch.randn(4, 3, 3, 3, 3))
    assert find_unsupported(error.value).op == "aten.convolution"
    conv3d = torch.compile(lambda x, w: F.conv3d(x, w), backend="npusim", dynamic=True)
    with pytest.raises(Exception) as error:
        conv3d(torch.randn(2, 4, 5, 5, 5), torch.randn(4, 4, 3, 3, 3))
    assert find_unsupported(error.value).op == "aten.convolution"


def test_conv_lowering_is_restored_outside_the_backend(npusim_env):
    from torch._inductor.lowering import lowerings

    from compiler.conv import lower_convolution

    from compiler.pool import lower_adaptive_avg_pool2d

    run_sizes(lambda x, w: F.conv2d(x, w), [(torch.randn(2, 3, 5, 6), torch.randn(4, 3, 1, 1))])
    assert lowerings[torch.ops.aten.convolution.default] is not lower_convolution
    run_sizes(lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [(torch.randn(2, 3, 5, 6),)])
    assert lowerings[torch.ops.aten._adaptive_avg_pool2d.default] is not lower_adaptive_avg_pool2d


class PatchEmbed(nn.Module):
    """ViT patch embedding: conv with stride = kernel, flatten(2).transpose(1, 2), LayerNorm."""

    def __init__(self, in_channels: int = 3, dim: int = 16, patch: int = 4):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, patch, stride=patch)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        return self.norm(self.proj(x).flatten(2).transpose(1, 2))


def _randomise_batch_norms(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-1, 1)


@pytest.mark.parametrize("name, module, shapes", [
    ("resnet_basic_block", ResNetBasicBlock, [(2, 8, 10, 12), (2, 8, 13, 11), (2, 8, 17, 19)]),
    ("vit_patch_embed", PatchEmbed, [(2, 3, 16, 20), (2, 3, 24, 22), (2, 3, 32, 36)]),
])
def test_model_blocks_three_image_sizes_one_compile_per_kernel(npusim_env, name, module, shapes):
    torch.manual_seed(0)
    model = module().eval()
    _randomise_batch_norms(model)
    compiled = torch.compile(model, backend="npusim", dynamic=True)
    compiles_after = []
    with torch.no_grad():
        for shape in shapes:
            x = torch.randn(*shape)
            torch.testing.assert_close(compiled(x), model(x), rtol=1e-4, atol=1e-4)
            compiles_after.append(len(runlog.events("compile", npusim_env)))
    assert not [g["recompile_reason"] for g in runlog.events("dynamo_graph", npusim_env) if g["recompile_reason"]]
    assert compiles_after[0] == compiles_after[-1]  # nothing compiled after the first image size
    names = [e["kernel"] for e in runlog.events("compile", npusim_env)]
    # one compile event per kernel hash and graph: ResNet's two equal convs share one kernel
    conv_hashes = [e["kernel_hash"] for e in runlog.events("compile", npusim_env) if e["kernel"] == "conv2d"]
    assert conv_hashes and len(conv_hashes) == len(set(conv_hashes))
    launches = runlog.events("launch", npusim_env)
    # every kernel of every call ran on npusim
    calls = runlog.events("graph_call", npusim_env)
    # (a kernel hash is listed once per call even when, as ResNet's two equal convs, it runs twice)
    assert len(calls) == len(shapes) and len(launches) >= sum(len(c["kernels"]) for c in calls)
    scheduled = {k["kernel_hash"] for g in runlog.events("graph", npusim_env) for k in g["kernels"]}
    assert scheduled and scheduled <= {launch["kernel_hash"] for launch in launches}
    if name == "resnet_basic_block":  # eval batch norm: a fused npusim pointwise kernel after each conv
        assert sum("batch_norm" in n for n in names) == 2
    else:  # the transposed patch layout is read in place by the LayerNorm kernel: no copy, no scatter
        assert len(names) == 2 and "layer_norm" in names[1]


def test_adaptive_avg_pool_to_one_is_a_mean_kernel(npusim_env):
    """adaptive_avg_pool2d to (1, 1) is a mean in ATen's composite (a reduction kernel)."""
    fn = lambda t: F.adaptive_avg_pool2d(t, 1)  # noqa: E731
    run_sizes(fn, [(torch.randn(3, 8, 9, 11),), (torch.randn(2, 8, 13, 5),)], atol=1e-6)
    names = [e["kernel"] for e in runlog.events("compile", npusim_env)]
    assert len(names) == 1 and "adaptive_avg_pool2d" not in names


@pytest.mark.parametrize("grid", [(2, 3), (7, 7), (1, 5)])
def test_adaptive_avg_pool_to_a_grid_one_compile_any_window(npusim_env, grid):
    """To a fixed grid, the windows' bounds are computed in the kernel from H and W: one compile
    across image sizes whose windows differ (Inductor's lowering guarded on each, then fell back to
    aten past 25 window elements: 31 x 6 to (2, 3) has 16 x 3). Images smaller than the grid
    (windows of one element, shared by neighbouring cells), odd and prime sizes. Values are
    eager's, bit for bit: the same sum order and sum / kh / kw in f32."""
    fn = lambda t: F.adaptive_avg_pool2d(t, grid)  # noqa: E731
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for shape in ((2, 8, 9, 11), (3, 8, 31, 6), (2, 8, 5, 3), (2, 8, 56, 57), (3, 8, 2, 13)):
        x = torch.randn(*shape)
        torch.testing.assert_close(compiled(x), fn(x), rtol=0, atol=0)
    compiles = runlog.events("compile", npusim_env)
    assert [e["kernel"] for e in compiles] == ["adaptive_avg_pool2d"]
    assert kernel_meta(compiles[0])["conv"]["grid"] == list(grid)
    assert len(runlog.events("launch", npusim_env)) == 5


def test_adaptive_avg_pool_dynamo_guards_only_channels(npusim_env):
    """Dynamo's own guards: no guard on H or W beyond its size-0/1 specialisation (frame compiled once)."""
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    compiled = torch.compile(lambda t: F.adaptive_avg_pool2d(t, (7, 7)), backend="npusim", dynamic=True)
    for h, w in ((9, 11), (40, 3), (8, 64)):
        compiled(torch.randn(2, 4, h, w))
    assert counters["stats"]["unique_graphs"] == 1
    assert len(runlog.events("compile", npusim_env)) == 1


@pytest.mark.spike
def test_adaptive_avg_pool_on_spike(spike_env):
    """bf16 accumulates in f32 and rounds once, as eager's CPU kernel; cycles grow with the image."""
    fn = lambda t: F.adaptive_avg_pool2d(t, (7, 7))  # noqa: E731
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for shape in ((2, 4, 9, 11), (2, 4, 30, 31)):
        for dtype in (torch.float32, torch.bfloat16):
            x = torch.randn(*shape).to(dtype)
            torch.testing.assert_close(compiled(x), fn(x), rtol=0, atol=0)
    launches = runlog.events("launch", spike_env)
    assert [e["functional"] for e in launches] == ["spike"] * 4
    assert launches[2]["cycles"] > launches[0]["cycles"] > 0 and launches[3]["cycles"] > launches[1]["cycles"] > 0
    assert len(runlog.events("compile", spike_env)) == 2  # one kernel per dtype


def test_unbatched_adaptive_avg_pool_lowers(npusim_env):
    """Was refused naming adaptive_avg_pool2d; an unbatched input now pools a batch of one
    (compiler/pool.py; Spike values in tests/compiler/test_sampling.py)."""
    fn = lambda t: F.adaptive_avg_pool2d(t, (2, 3))  # noqa: E731
    x = torch.randn(8, 9, 11)
    torch.testing.assert_close(torch.compile(fn, backend="npusim", dynamic=True)(x), fn(x))


@pytest.mark.parametrize("name, fn, dtype", [
    # all-negative inputs: a zero-padded max would return 0 at the borders; ours pads with -inf
    ("max_3x3_s2_p1", lambda x: F.max_pool2d(x, 3, 2, 1), torch.float32),
    ("max_2x2_bf16", lambda x: F.max_pool2d(x, 2), torch.bfloat16),
    ("max_dilated", lambda x: F.max_pool2d(x, 3, 1, 1, dilation=2), torch.float32),
    ("avg_include_pad", lambda x: F.avg_pool2d(x, 3, 2, 1), torch.float32),
    ("avg_exclude_pad", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), torch.float32),
    ("avg_divisor_override", lambda x: F.avg_pool2d(x, 3, 1, 1, divisor_override=4), torch.float32),
    ("avg_rect_bf16", lambda x: F.avg_pool2d(x, (2, 3), (2, 1), (1, 1)), torch.bfloat16),
    # ceil mode: odd sizes get a last window hanging over the image's end (filled with -inf / 0;
    # avg counts it up to the padded image's end, or its in-image part). One compile: the unused
    # offsets' parity guard is never made
    ("max_ceil", lambda x: F.max_pool2d(x, 3, 2, ceil_mode=True), torch.float32),
    ("max_ceil_padded_bf16", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), torch.bfloat16),
    ("avg_ceil_include_pad", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True), torch.float32),
    ("avg_ceil_exclude_pad", lambda x: F.avg_pool2d(x, 2, 2, ceil_mode=True, count_include_pad=False),
     torch.float32),
])
def test_pooling_values_one_compile(npusim_env, name, fn, dtype):
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for shape in ((2, 8, 9, 11), (3, 8, 13, 7)):
        x = -(torch.rand(*shape) + 0.5) if name.startswith("max") else torch.randn(*shape)
        x = x.to(dtype)
        expected = fn(x.double()).to(dtype)
        tol = dict(rtol=2e-2, atol=1e-2) if dtype == torch.bfloat16 else dict(rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(compiled(x), expected, **tol)
    compiles = runlog.events("compile", npusim_env)
    assert [e["kernel"] for e in compiles] == [name.split("_")[0] + "_pool2d"]
    assert len(runlog.events("launch", npusim_env)) == 2


@pytest.mark.spike
def test_pooling_on_spike(spike_env):
    for fn in (lambda x: F.max_pool2d(x, 3, 2, 1), lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)):
        torch._dynamo.reset()
        compiled = torch.compile(fn, backend="npusim", dynamic=True)
        for shape in ((2, 4, 9, 11), (3, 4, 5, 7)):
            x = torch.randn(*shape)
            torch.testing.assert_close(compiled(x), fn(x), rtol=1e-5, atol=1e-6)
    launches = runlog.events("launch", spike_env)
    assert [e["functional"] for e in launches] == ["spike"] * 4 and all(e["cycles"] > 0 for e in launches)
    assert len(runlog.events("compile", spike_env)) == 2


def test_ceil_mode_last_window_starting_past_the_image_is_dropped(npusim_env):
    """Kernel 2, stride 3, padding 1 in ceil mode: at H = 4 the ceil size's last window would
    start past the image (and its left padding), so eager drops it (2 rows, not 3); at H = 6 it
    does not. The output size is the one Dynamo traced (a guard on it, so a recompile is fine)."""
    fn = lambda x: F.avg_pool2d(x, 2, 3, 1, ceil_mode=True)  # noqa: E731
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for shape in ((2, 4, 4, 7), (2, 4, 6, 7), (3, 4, 10, 5)):
        x = torch.randn(*shape)
        torch.testing.assert_close(compiled(x), fn(x), rtol=1e-6, atol=1e-6)
    assert {e["kernel"] for e in runlog.events("compile", npusim_env)} == {"avg_pool2d"}


def test_strided_operands_are_read_through_their_strides(npusim_env):
    """A sliced (non-contiguous) input and a permuted weight: the window DMAs use the input's
    strides, and the weights load per tap (no contiguous slab to read)."""
    fn = lambda x, w: F.conv2d(x, w, padding=1)  # noqa: E731
    w = torch.randn(3, 3, 8, 16).permute(3, 2, 0, 1)
    cases = [(torch.randn(n, 8, h, wd + 3)[..., 1:-2], w) for n, h, wd in ((2, 9, 11), (3, 5, 7))]
    run_sizes(fn, cases, atol=5e-4)
    compiles = runlog.events("compile", npusim_env)
    assert len(compiles) == 1 and kernel_meta(compiles[0])["conv"]["weight_slab"] is False


def test_channels_last_conv_writes_eager_layout(npusim_env):
    """Eager returns a channels-last output for a channels-last input; the template stores its C
    tile with those strides (pixels at stride C), so no transposing copy kernel follows it."""
    fn = lambda x, w: F.conv2d(x, w, padding=1)  # noqa: E731
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    w = torch.randn(16, 8, 3, 3)
    for shape in ((2, 8, 9, 11), (3, 8, 13, 7)):
        x = torch.randn(*shape).to(memory_format=torch.channels_last)
        out, expected = compiled(x, w), fn(x.double(), w.double()).float()
        torch.testing.assert_close(out, expected, rtol=1e-4, atol=5e-4)
        assert out.stride() == fn(x, w).stride()
    assert [e["kernel"] for e in runlog.events("compile", npusim_env)] == ["conv2d"]


@pytest.mark.spike
def test_conv_transpose1d_on_spike_one_compile(spike_env):
    """OpInfo's first conv_transpose1d sample (stride 2, padding 2, output_padding 1) over three lengths:
    the zero-inserted input and the flipped weights are npusim kernels, the convolution a conv1d."""
    w, b = torch.randn(3, 3, 3), torch.randn(3)
    fn = lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=2, output_padding=1)  # noqa: E731
    run_sizes(fn, [(torch.randn(2, 3, length), w, b) for length in (5, 9, 17)])
    assert [e["kernel"] for e in runlog.events("compile", spike_env)].count("conv1d") == 1
    launches = runlog.events("launch", spike_env)
    assert launches and {e["functional"] for e in launches} == {"spike"}


def test_conv_transpose2d_groups_dilation_output_padding(npusim_env):
    """OpInfo's second conv_transpose2d sample (stride (3, 2), padding (1, 2), output_padding (2, 3),
    2 groups, dilation 4: a padding below d*(k - 1) on both dims), and a padding above it (the
    zero-inserted input is cropped), each at two image sizes, one compile each."""
    grouped = lambda x, w, b: F.conv_transpose2d(x, w, b, stride=(3, 2), padding=(1, 2),  # noqa: E731
                                                 output_padding=(2, 3), groups=2, dilation=(4, 4))
    w, b = torch.randn(2, 2, 4, 5), torch.randn(4)
    # batch and image sizes unlike any weight dim: Dynamo would give them its symbol, specialised
    run_sizes(grouped, [(torch.randn(3, 2, h, wd), w, b) for h, wd in ((6, 7), (9, 11))])
    cropped = lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=3)  # noqa: E731
    run_sizes(cropped, [(torch.randn(1, 3, h, wd), torch.randn(3, 5, 3, 3)) for h, wd in ((6, 7), (8, 10))])
    assert [e["kernel"] for e in runlog.events("compile", npusim_env)].count("conv2d") == 2


def test_conv_input_above_eager_mkldnn_threshold_does_not_recompile(npusim_env):
    """Regression (OpInfo conv1d/conv2d "recompiled" at N = 8193): fake propagation of a conv asked
    which CPU kernel eager would pick (N*C*L > 20480 among others), a guard on the input size; now
    asked on the sizes' hints, so one graph serves both sides of the threshold."""
    w, b = torch.randn(3, 3, 3), torch.randn(3)
    fn = lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=2)  # noqa: E731
    run_sizes(fn, [(torch.randn(1, 3, length), w, b) for length in (5, 7000, 9)])
    assert len(runlog.events("compile", npusim_env)) == 1
