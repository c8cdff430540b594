"""The torch.compile backend "npusim": Inductor with npusim codegen for CPU tensors.

Inside a lock, the backend swaps `device_codegens["cpu"]` for its own
scheduling and wrapper, runs Inductor's compile_fx, and restores it, so stock
Inductor in the same process is unaffected. The swap is repeated inside
inner_compile because AOTAutograd compiles the backward lazily, outside the
first swap.

Sizes 0 and 1 follow Dynamo's own rule (CONTRACTS.md, "Size rule"): the
backend sets no process-wide switch. Dynamo specialises a dim whose size is 0
or 1 at a call, which is what keeps a dim that broadcasts at 1 exact; every
size >= 2 shares one compiled kernel. Each graph the backend compiles is
recorded in the run log with Dynamo's reason for compiling it again, so the
harness can tell a size-0/1 specialisation from an unexpected recompile.
"""

from __future__ import annotations

import contextlib
import os
import threading

import torch
from torch._inductor import config as inductor_config
from torch._inductor.codegen import common as codegen_common
from torch._inductor.compile_fx import compile_fx, compile_fx_inner

from compiler.conv import conv_lowerings, select_conv_backend_by_hint
from compiler.decompositions import model_decompositions, refuse_fused_attention_again
from compiler.linalg import linalg_decompositions, linalg_lowerings
from compiler.pool import pool_lowerings
from compiler.special_functions import floor_division_lowering, gcd_lowering
from compiler.symbolic_lowerings import symbolic_lowerings
from compiler.matmul import matmul_decompositions, matmul_lowerings
from compiler.scan import unsplit_scans
from compiler.scatter import scatter_decompositions, scatter_lowerings
from compiler.sort import sort_decompositions
from compiler.sampling import sampling_decompositions
from npusim import runlog
from npusim.paths import inductor_cache_dir

_LOCK = threading.RLock()

# Required for correctness of the hook (see ARCHITECTURE.md, Inductor hook).
CONFIG_PATCHES = {
    "fx_graph_cache": False,  # a warm cache would serve stock C++ kernels
    "freezing": False,
    "cpp_wrapper": False,
    "max_autotune": False,
    "inplace_buffers": False,  # kernels get distinct input/output buffers
    "split_reductions": False,  # one kernel per reduction; tails handled by the clamp
    "triton.max_tiles": 1,  # one pointwise dim (x) and one reduction dim (r)
    "triton.prefer_nd_tiling": False,
    "unroll_reductions_threshold": 1,  # keep small reductions as reductions, not unrolled adds
    # scatter_add / scatter_reduce "sum" as an npusim scatter_add (compiler/indirect.py), not the
    # ATen fallback Inductor keeps for the C++ backend's threads
    "cpp.fallback_scatter_reduce_sum": False,
    # the attention patterns put the fused CPU attention back after its decomposition: undone
    "joint_custom_post_pass": refuse_fused_attention_again,
    # topk, kthvalue, median and mode as a stable sort (compiler/sort.py) of any row length,
    # not ATen fallbacks
    "triton.decompose_sort_ops": True,
    "triton.persistent_reductions": True,
    # every launch pays its DMA latencies: kernels that share any input fuse, even when what they
    # share is one element (Inductor's 10-byte threshold left frexp's two outputs of a [1] input as
    # two kernels, 148 cycles, where the same graph at N = 7 is one kernel of 125)
    "score_fusion_memory_threshold": 1,
}


@contextlib.contextmanager
def npusim_codegen():
    from compiler.scheduling import NpuScheduling
    from compiler.wrapper import NpuWrapperCodegen

    with _LOCK:
        codegen_common.init_backend_registration()
        saved = codegen_common.device_codegens.get("cpu")
        codegen_common.device_codegens["cpu"] = codegen_common.DeviceCodegen(
            scheduling=NpuScheduling, wrapper_codegen=NpuWrapperCodegen)
        try:
            yield
        finally:
            if saved is not None:
                codegen_common.device_codegens["cpu"] = saved


def _recompile_reason() -> str | None:
    """Dynamo's reason for compiling this frame again (a failed guard), None for a first compile."""
    try:
        from torch._dynamo.utils import get_metrics_context

        return get_metrics_context()._metrics.get("recompile_reason")  # torch 2.13: no public getter
    except Exception:  # private API: the reason is a diagnostic, never a reason to fail a compile
        return None


def graph_event(gm: torch.fx.GraphModule) -> dict:
    """What the run log records of one compiled graph: its input shapes (symbols or
    specialised sizes) and why Dynamo compiled it."""
    def dim(d) -> str:
        return str(d.node.expr) if isinstance(d, torch.SymInt) else str(d)

    # the placeholders' fake values carry the symbols; example_inputs are the real tensors
    values = [node.meta.get("example_value") for node in gm.graph.find_nodes(op="placeholder")]
    shapes = ["[" + ", ".join(dim(d) for d in v.shape) + "]" if isinstance(v, torch.Tensor) else dim(v)
              for v in values]
    return {"graph": gm.__class__.__name__, "inputs": shapes, "recompile_reason": _recompile_reason(),
            "nodes": sum(1 for _ in gm.graph.nodes)}


@contextlib.contextmanager
def npusim_lowerings():
    """Our codegen, the capability modules' lowerings and Inductor's config, for one compile."""
    with npusim_codegen(), matmul_lowerings(), conv_lowerings(), pool_lowerings(), linalg_lowerings(), \
            gcd_lowering(), floor_division_lowering(), symbolic_lowerings(), unsplit_scans(), scatter_lowerings(), \
            inductor_config.patch(CONFIG_PATCHES):
        yield


def _inner_compile(gm, example_inputs, **kwargs):
    with npusim_lowerings():
        return compile_fx_inner(gm, example_inputs, **kwargs)


def npusim_backend(gm: torch.fx.GraphModule, example_inputs):
    """Dynamo backend entry: compile the graph into npusim kernels."""
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(inductor_cache_dir()))
    record_graph_breaks()
    for value in example_inputs:
        if isinstance(value, torch.Tensor) and value.device.type != "cpu":
            raise RuntimeError(f"npusim compiles CPU tensors (the simulated NPU's host view), got {value.device}")
    runlog.append("dynamo_graph", graph_event(gm))
    with npusim_lowerings(), data_dependent_sizes_refused():
        return compile_fx(gm, example_inputs, inner_compile=_inner_compile, config_patches=CONFIG_PATCHES,
                          decompositions={**matmul_decompositions(), **model_decompositions(),
                                          **linalg_decompositions(), **sort_decompositions(),
                                          **sampling_decompositions(), **scatter_decompositions()})


@contextlib.contextmanager
def data_dependent_sizes_refused():
    """A guard on a data-dependent size inside the backend (tensor_split with a 0-d tensor of sections:
    how many tensors it returns is the tensor's value) is refused naming the graph's op, not a crash:
    no one kernel serves every value, and Dynamo had already traced the op into the graph."""
    from torch.fx.experimental.symbolic_shapes import GuardOnDataDependentSymNode

    try:
        yield
    except GuardOnDataDependentSymNode as error:
        import re

        from compiler.errors import UnsupportedOp

        node = re.search(r"While executing %\w+ : .*?target=([\w.]+)", str(error))
        op = node.group(1).rsplit(".", 1)[-1] if node else "data-dependent size"
        raise UnsupportedOp(op, f"a size that depends on a tensor's values ({str(error).splitlines()[0]})") \
            from error


def graph_break_summary(reason: str) -> dict:
    """A Dynamo graph-break reason (several lines) as {reason, detail}: the first line says what,
    the developer context names the op or call."""
    lines = [line.strip() for line in reason.strip().splitlines() if line.strip()]
    detail = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("Developer debug context:")),
                  "")
    return {"reason": lines[0] if lines else reason, "detail": detail}


class GraphBreakRecorder:
    """Records each Dynamo graph break in the run log: without fullgraph=True the code around a
    break runs eagerly on the host, outside this backend, and only the log can show it."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, args=None) -> None:
        from torch._dynamo.utils import counters

        from npusim import runlog

        for reason, count in list(counters["graph_break"].items()):
            if count < self.seen.get(reason, 0):  # counters were cleared (torch._dynamo.reset)
                self.seen[reason] = 0
            for _ in range(count - self.seen.get(reason, 0)):
                runlog.append("graph_break", {**graph_break_summary(reason),
                                              "compile_id": str(getattr(args, "compile_id", ""))})
            self.seen[reason] = count


_RECORDER = GraphBreakRecorder()


def record_graph_breaks() -> None:
    """(Re-)register the recorder: torch._dynamo.reset() clears the callbacks."""
    from torch._dynamo.callback import callback_handler

    if _RECORDER not in callback_handler.end_callbacks:
        callback_handler.register_end_callback(_RECORDER)


record_graph_breaks()
select_conv_backend_by_hint()
