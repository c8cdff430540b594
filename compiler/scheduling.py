"""Scheduling: Inductor's SIMD scheduling with npusim kernels (cf. HalideScheduling)."""

from __future__ import annotations

from torch._inductor.codegen.simd import SIMDScheduling
from torch._inductor.utils import get_fused_kernel_name, get_kernel_metadata
from torch._inductor.virtualized import V
from torch.utils._ordered_set import OrderedSet

from compiler.errors import UnsupportedOp
from compiler.kernel import NpuKernel
from npusim import config as npu_config


class NpuScheduling(SIMDScheduling):
    kernel_type = NpuKernel  # type: ignore[assignment]

    @classmethod
    def get_backend_features(cls, device):
        return OrderedSet()  # no scans, sorts, tuple reductions: Inductor falls back, we refuse loudly

    def create_kernel_choices(self, kernel_features, kernel_args, kernel_kwargs):
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
