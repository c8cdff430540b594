"""Scheduling: Inductor's SIMD scheduling with npusim kernels (cf. HalideScheduling)."""

from __future__ import annotations

import torch
from torch._inductor import ir
from torch._inductor.codegen.common import BackendFeature
from torch._inductor.codegen.simd import SIMDScheduling
from torch._inductor.utils import get_fused_kernel_name, get_kernel_metadata
from torch._inductor.virtualized import V
from torch.utils._ordered_set import OrderedSet

from compiler import epilogue
from compiler.errors import UnsupportedOp
from compiler.kernel import NpuKernel
from npusim import config as npu_config, runlog


class NpuScheduling(SIMDScheduling):
    kernel_type = NpuKernel  # type: ignore[assignment]

    @classmethod
    def get_backend_features(cls, device):
        # scans (compiler/scan.py; TUPLE_REDUCTION: Inductor asks for it only for a scan of several
        # values, cummax/cummin's), row sorts (compiler/sort.py)
        # searchsorted/bucketize (compiler/search.py)
        return OrderedSet([BackendFeature.SCAN, BackendFeature.TUPLE_REDUCTION, BackendFeature.SORT,
                           BackendFeature.BUCKETIZE])

    def create_kernel_choices(self, kernel_features, kernel_args, kernel_kwargs):
        # npusim kernels index in i64 whatever Inductor's index dtype; its int32 choice only adds
        # guards (numel <= 2^31): a recompile where a swept n * m passes it (issue 17d)
        kernel_features.select_index_dtype = lambda: torch.int64
        kernel = NpuKernel.__new__(NpuKernel)
        kernel.npu_config = npu_config.load()
        kernel.__init__(*kernel_args, **kernel_kwargs)
        return [kernel]

    def codegen_node_schedule_with_kernel(self, node_schedule, kernel):
        kernel.descriptive_name = get_fused_kernel_name(node_schedule, "original_aten")
        try:
            return super().codegen_node_schedule_with_kernel(node_schedule, kernel)
        except NotImplementedError as error:
            # Inductor's own codegen paths we do not provide: still a named, recognisable refusal.
            raise UnsupportedOp(kernel.descriptive_name, f"Inductor codegen needs {error or 'an unimplemented hook'}") \
                from error

    # Systolic templates (compiler/matmul.py, conv.py): a matmul takes the pointwise nodes after it
    # that run on its C tile (compiler/epilogue.py); nothing fuses before a template or beside it.
    def can_fuse_vertical(self, node1, node2):
        if node2.is_template():
            return False
        if node1.is_template():
            return epilogue.fusable(node1, node2)
        if _scans(node1) and _indirect(node2):
            # a gather at a scanned position (masked_scatter's source index): the tile's gathers
            # are issued before its compute, so the scan is a buffer first (compiler/scatter.py)
            return False
        return super().can_fuse_vertical(node1, node2)

    def can_fuse_horizontal(self, node1, node2):
        return not (node1.is_template() or node2.is_template()) and super().can_fuse_horizontal(node1, node2)

    def codegen_template(self, template_node, epilogue_nodes, prologue_nodes, *, only_gen_src_code=False,
                         hint_override=None):
        if prologue_nodes:
            raise UnsupportedOp("matmul", "a fused prologue (the scheduling refuses those fusions)")
        kernel, render = template_node.node.make_kernel_render(template_node.node)
        fused = None
        if epilogue_nodes:
            try:
                fused = epilogue.record(kernel, template_node.node, epilogue_nodes)
            except UnsupportedOp as refusal:
                # the epilogue does not fit the C tile: the template alone, then its epilogue
                # nodes as npusim kernels of their own
                runlog.append("epilogue_unfused", {"template": template_node.get_name(), "reason": str(refusal)})
                # C and the epilogue's inputs are freed after the last of these kernels, not the first
                to_free, self.scheduler.buffer_names_to_free = self.scheduler.buffer_names_to_free, OrderedSet()
                self.codegen_template(template_node, [], [])
                for node in epilogue_nodes:
                    self.codegen_node(node)
                self.scheduler.buffer_names_to_free = to_free | self.scheduler.buffer_names_to_free
                self.free_buffers_in_scheduler()
                return None
        with V.set_kernel_handler(kernel):
            src_code = render(fused) if fused is not None else render()
            if only_gen_src_code:
                return src_code
            template_node.mark_run()
            for node in epilogue_nodes:
                node.mark_run()
        kernel.kernel_name = self.define_kernel(src_code, [template_node, *epilogue_nodes], kernel)
        kernel.call_kernel(kernel.kernel_name, template_node.node)
        V.graph.removed_buffers |= kernel.removed_buffers
        V.graph.inplaced_to_remove |= kernel.inplaced_to_remove
        self.free_buffers_in_scheduler()
        return None

    def define_kernel(self, src_code, node_schedule, kernel):
        wrapper = V.graph.wrapper_code
        if src_code in wrapper.src_to_kernel:
            return wrapper.src_to_kernel[src_code]
        kernel_name = f"npusim_{kernel.kernel_meta['name']}_{wrapper.next_kernel_suffix()}"
        wrapper.src_to_kernel[src_code] = kernel_name
        wrapper.add_import_once("from compiler.launcher import load_npusim_kernel")
        origins, detailed_origins = get_kernel_metadata(node_schedule, wrapper)
        wrapper.define_kernel(kernel_name, src_code, f"{origins}\n{detailed_origins}")
        return kernel_name


def _scans(node) -> bool:
    return any(isinstance(getattr(getattr(n, "node", None), "data", None), ir.Scan) for n in node.get_nodes())


def _indirect(node) -> bool:
    return any(getattr(getattr(n, "_body", None), "indirect_vars", None) for n in node.get_nodes())
