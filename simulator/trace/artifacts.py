"""Per-kernel trace artifacts in the cache entry of kernel.mlir (CONTRACTS.md section 6).

`trace_artifacts(kernel_text, meta)` returns the paths of

* `trace.cpp` — the generated producer source (kept for debugging),
* `trace.so` — the shape-parametric producer (trace ABI, CONTRACTS.md section 4),
* `trace_info.json` — what the simulator needs to know about the kernel:
  size-arg names in shape_args order, scratchpad buffers, compute tiles,

each built at most once per kernel across threads and processes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from npusim import cache

TRACE_INFO_VERSION = 1


@dataclass(frozen=True)
class TraceArtifacts:
    kernel_hash: str
    dir: Path
    kernel_mlir: Path
    trace_so: Path
    trace_cpp: Path
    info_json: Path

    def info(self) -> dict:
        return json.loads(self.info_json.read_text())


def kernel_hash(kernel_text: str) -> str:
    return cache.sha256_text(kernel_text)


def trace_artifacts(kernel_text: str, meta: dict | None = None) -> TraceArtifacts:
    """Build (once) and return the trace artifacts of one kernel."""
    key = kernel_hash(kernel_text)
    entry = cache.entry(key)
    # The compiler normally wrote these already; never rewrite its files.
    if not entry.path("kernel.mlir").exists():
        entry.put_text("kernel.mlir", kernel_text)
    if meta is not None and not entry.path("kernel.json").exists():
        entry.put_text("kernel.json", json.dumps(meta, indent=1))
    names = ("trace.cpp", "trace_info.json", "trace.so")
    if not all(entry.valid(n) for n in names):
        products: dict[str, str] = {}

        def lowered() -> dict[str, str]:
            if not products:
                products.update(_lower(kernel_text, meta, key))
            return products

        entry.build("trace.cpp", lambda tmp: tmp.write_text(lowered()["cpp"]))
        entry.build("trace_info.json", lambda tmp: tmp.write_text(lowered()["info"]))
        entry.build("trace.so", lambda tmp: _compile(entry.path("trace.cpp"), tmp))
    return TraceArtifacts(kernel_hash=key, dir=entry.dir, kernel_mlir=entry.path("kernel.mlir"),
                          trace_so=entry.path("trace.so"), trace_cpp=entry.path("trace.cpp"),
                          info_json=entry.path("trace_info.json"))


def _lower(kernel_text: str, meta: dict | None, key: str) -> dict[str, str]:
    from simulator.trace.emitc import emit_cpp, lower_to_emitc
    from simulator.trace.skeleton import SkeletonError, build_skeleton

    entry_name = (meta or {}).get("entry", "kernel")
    skeleton = build_skeleton(kernel_text, entry=entry_name)
    size_args = list((meta or {}).get("size_args") or [f"size{k}" for k in range(skeleton.n_size_args)])
    if len(size_args) != skeleton.n_size_args:
        raise SkeletonError(f"kernel.json lists {len(size_args)} size args, the kernel function takes "
                            f"{skeleton.n_size_args}")
    info = {
        "version": TRACE_INFO_VERSION,
        "kernel": (meta or {}).get("name") or skeleton.kernel_name,
        "kernel_hash": key,
        "size_args": size_args,
        "spads": skeleton.spads,
        "tiles": [{"tile_id": t, "elem_bits": skeleton.tile_elem_bits.get(t, 32)} for t in skeleton.tile_ids],
    }
    cpp = emit_cpp(lower_to_emitc(skeleton))
    return {"cpp": cpp, "info": json.dumps(info, indent=1)}


def _compile(cpp_path: Path, output: Path) -> None:
    from simulator.trace.emitc import compile_shared_object

    compile_shared_object(cpp_path.read_text(), output)
