"""addbmm, bilinear (_trilinear), cdist (_cdist_forward) and pdist (_pdist_forward) as the matmuls
and reductions they are made of (compiler/matmul_compositions.py): values on Spike against float64
and eager at a sample shape and a swept size, one graph compiled for both, every kernel launched."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from npusim import runlog

TOL = dict(rtol=1e-5, atol=1e-5)


def run_one_compile(env, fn, argsets, expect_kernels: set[str] | None = None) -> None:
    """Every argset through one compiled graph; values within TOL of float64 (and of eager)."""
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for args in argsets:
        got = compiled(*args)
        wide = [a.double() if a.is_floating_point() else a for a in args]
        torch.testing.assert_close(got, fn(*wide).to(got.dtype), **TOL)
        torch.testing.assert_close(got, fn(*args), **TOL)
    graphs = runlog.events("graph", env)
    assert len(graphs) == 1  # one compiled graph serves every size
    launches = runlog.events("launch", env)
    assert launches and {e["functional"] for e in launches} == {"spike"}
    assert len(runlog.events("graph_call", env)) == len(argsets)
    # every kernel of the graph launched on Spike at every size
    per_size = len(launches) // len(argsets)
    assert len(launches) == per_size * len(argsets)
    for launched in (launches[i * per_size:(i + 1) * per_size] for i in range(len(argsets))):
        assert {e["kernel_hash"] for e in launched} == {k["kernel_hash"] for k in graphs[0]["kernels"]}
    if expect_kernels is not None:
        kernels = {e["kernel"] for e in runlog.events("compile", env)}
        assert expect_kernels <= kernels, kernels


@pytest.mark.spike
def test_addbmm_is_one_mm_over_batch_and_k(spike_env):
    torch.manual_seed(0)
    batch1, batch2 = torch.randn(5, 5, 5), torch.randn(5, 5, 10)
    fn = lambda i, a, b: torch.addbmm(i, a, b, beta=0.5, alpha=2.0)  # noqa: E731
    wide = torch.randn(5, 5, 131)
    run_one_compile(spike_env, fn, [(torch.randn(5, 10), batch1, batch2), (torch.randn(5, 131), batch1, wide)],
                    {"addmm"})


@pytest.mark.spike
def test_bilinear_on_bmm(spike_env):
    torch.manual_seed(0)
    weight, bias = torch.randn(5, 3, 4), torch.randn(5)
    run_one_compile(spike_env, F.bilinear, [(torch.randn(b, 3), torch.randn(b, 4), weight, bias) for b in (2, 9)],
                    {"bmm"})


@pytest.mark.spike
@pytest.mark.parametrize("p", [0.0, 1.5, 2.0, float("inf")])
def test_cdist_over_the_swept_feature_dim(spike_env, p):
    """OpInfo's sample (p = 0) and the other p ATen computes directly; the feature dim swept."""
    torch.manual_seed(0)
    x1, x2 = torch.randn(5, 5, 131), torch.randn(5, 6, 131)
    x1[..., ::3] = x2[:, :5, ::3]  # equal features, for p = 0's count
    fn = lambda a, b: torch.cdist(a, b, p)  # noqa: E731
    run_one_compile(spike_env, fn, [(x1[..., :2].contiguous(), x2[..., :2].contiguous()), (x1, x2)])


@pytest.mark.spike
def test_cdist_euclidean_by_matmul(spike_env):
    """p = 2 with use_mm_for_euclid_dist: ATen's |x|^2 + |y|^2 - 2 x.y on the systolic array."""
    torch.manual_seed(0)
    fn = lambda a, b: torch.cdist(a, b, 2.0, "use_mm_for_euclid_dist")  # noqa: E731
    run_one_compile(spike_env, fn, [(torch.randn(5, m), torch.randn(7, m)) for m in (6, 131)], {"mm"})


@pytest.mark.spike
@pytest.mark.parametrize("p", [1.0, 2.0])
def test_pdist_rows_swept_one_compile(spike_env, p):
    """The pairs i < j computed from their position in the kernel: no specialisation of n."""
    torch.manual_seed(0)
    fn = lambda a: F.pdist(a, p)  # noqa: E731
    run_one_compile(spike_env, fn, [(torch.randn(n, 7),) for n in (5, 23)])


def _chunked_cross_entropy(reduction: str, weight=None, ignore_index=None):
    from torch.nn.modules.linear_cross_entropy_options import LinearCrossEntropyOptions

    options = LinearCrossEntropyOptions(batch_chunk_size=2, allow_retain_graph=True)  # no warning: no graph break
    return lambda x, w, t, b: F.linear_cross_entropy(x, w, t, linear_bias=b, weight=weight, reduction=reduction,
                                                     ignore_index=ignore_index, options=options)


@pytest.mark.spike
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_linear_cross_entropy_chunked_ops(spike_env, reduction):
    """The torch_nn:: chunked ops: logits by one matmul, class weights, an ignored row."""
    torch.manual_seed(0)
    w, b, class_weight = torch.randn(4, 6), torch.randn(4), torch.rand(4) + 0.5
    fn = _chunked_cross_entropy(reduction, weight=class_weight, ignore_index=2)
    argsets = []
    for n in (8, 13):
        target = torch.randint(0, 4, (n,))
        target[1] = 2  # ignored
        argsets.append((torch.randn(n, 6), w, target, b))
    run_one_compile(spike_env, fn, argsets, {"addmm"})


def test_linear_cross_entropy_precomputed_gradients_are_refused(npusim_env):
    """The mean/sum op computes its gradients in the forward when asked: refused by name, not
    returned empty."""
    import torch.nn.modules.linear_cross_entropy  # noqa: F401  (registers the torch_nn ops)
    from compiler.errors import find_unsupported

    def fn(x, w, t):
        return torch.ops.torch_nn._linear_cross_entropy_batch_chunked(
            x, w, t, None, None, "mean", -100, 0.0, 2, "compact", torch.float32, True, True, False, False)

    with pytest.raises(Exception) as error:
        torch.compile(fn, backend="npusim", dynamic=True)(torch.randn(8, 6), torch.randn(4, 6),
                                                          torch.randint(0, 4, (8,)))
    refusal = find_unsupported(error.value)
    assert refusal is not None and "_linear_cross_entropy_batch_chunked" in str(refusal)
