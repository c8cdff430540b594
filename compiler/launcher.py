"""Kernel launcher: what the generated wrapper calls for each npusim kernel.

`load_npusim_kernel(hash)` returns a callable taking the kernel's arguments in
order (tensors, then size values). Each call runs the kernel's functional
simulation (Spike by default, the host JIT with NPUSIM_FUNCTIONAL=host) for the
output values, and the trace simulator for cycles, then appends one launch
event to the run log. Both simulators take the same kernel.mlir.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path

import torch

from npusim import cache, runlog
from simulator.functional.errors import KernelIndexError
from npusim import config as npu_config

_counter = itertools.count()


def storage_span(tensor: torch.Tensor) -> torch.Tensor:
    """The flat element range a kernel may index: Inductor indexes buffers by flat offsets."""
    if tensor.numel() == 0:
        return tensor.reshape(0)
    span = 1 + sum((size - 1) * stride for size, stride in zip(tensor.shape, tensor.stride()))
    return torch.as_strided(tensor, (span,), (1,))


def functional_mode() -> str:
    mode = os.environ.get("NPUSIM_FUNCTIONAL", "spike")
    if mode not in ("spike", "host"):
        raise ValueError(f"NPUSIM_FUNCTIONAL must be 'spike' or 'host', got {mode!r}")
    return mode


def trace_enabled() -> bool:
    return os.environ.get("NPUSIM_TRACE", "1") != "0"


class NpusimKernel:
    def __init__(self, kernel_hash: str):
        self.entry = cache.entry(kernel_hash)
        self.hash = kernel_hash
        self.mlir_path = self.entry.path("kernel.mlir")
        if not self.entry.valid("kernel.mlir") or not self.entry.valid("kernel.json"):
            raise FileNotFoundError(f"npusim kernel {kernel_hash} is missing or corrupted in {self.entry.dir}; "
                                    "recompile (the artifact cache was cleared?)")
        self.meta = json.loads(self.entry.path("kernel.json").read_text())
        self.name = self.meta["name"]
        # A kernel writes into memory that already holds data (an in-place update of a slice
        # writes part of its buffer), so every output is launched in/out: untouched elements keep
        # their values, as in DRAM.
        self.launch_meta = {**self.meta, "args": [
            {**arg, "kind": "inout"} if arg["kind"] == "output" else arg for arg in self.meta["args"]]}

    def __repr__(self) -> str:
        return f"NpusimKernel({self.name}, {self.hash[:12]}, {self.entry.dir})"

    def launch_dir(self, shape_args: dict) -> Path | None:
        """Kept launch dirs only on request: the functional runner keeps a failed launch's dir anyway."""
        if os.environ.get("NPUSIM_KEEP_LAUNCHES", "0") == "0":
            return None
        shape = "-".join(f"{k}={v}" for k, v in shape_args.items()) or "static"
        path = self.entry.dir / "launches" / f"{shape}-{os.getpid()}-{next(_counter)}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def __call__(self, *args):
        from simulator import functional

        started = time.perf_counter()
        specs = self.meta["args"]
        if len(args) != len(specs):
            raise TypeError(f"{self.name} takes {len(specs)} arguments, got {len(args)}")
        flat, shape_args = [], {}
        for spec, value in zip(specs, args):
            if spec["kind"] == "size":
                shape_args[spec["name"]] = int(value)
                flat.append(int(value))
            else:
                flat.append(storage_span(value))
        launch_dir = self.launch_dir(shape_args)
        mode = functional_mode()
        config = npu_config.load()  # once per launch: NPUSIM_CONFIG may change between launches
        try:
            result = functional.launch(self.mlir_path, self.launch_meta, flat, mode=mode, launch_dir=launch_dir)
        except KernelIndexError as error:  # eager raises IndexError too; this one names the kernel
            raise KernelIndexError(error.index, error.size, error.site, error.launch_dir,
                                   kernel=f"npusim kernel {self.name}") from None
        for spec, original, produced in zip(specs, args, result.outputs):
            if spec["kind"] in ("output", "inout") and produced is not None:
                # Only the view's own elements: its span may hold other kernels' results (cat, slices).
                original.copy_(torch.as_strided(produced.view(original.dtype), original.shape, original.stride()))
        event = {"kernel": self.name, "kernel_hash": self.hash, "shape_args": shape_args,
                 "functional": mode, "instret": result.instret, "config": config.name,
                 "artifacts": str(launch_dir or self.entry.dir), "elf": str(result.elf_path or "")}
        if trace_enabled():
            event.update(self.simulate(shape_args, launch_dir, config))
        else:
            event["trace"] = "disabled (NPUSIM_TRACE=0)"
        event["wall_s"] = round(time.perf_counter() - started, 6)
        runlog.append("launch", event)

    def simulate(self, shape_args: dict, launch_dir: Path | None, config: npu_config.NpuConfig) -> dict:
        from simulator import trace

        sim = trace.simulate(self.entry.dir, self.meta, shape_args, config)
        return {"cycles": sim.cycles, "trace_records": sim.trace_records, "dram_bytes": sim.dram_bytes,
                "busy_cycles": sim.busy_cycles, "trace_artifacts": sim.artifacts.get("launch_dir")}


def load_npusim_kernel(kernel_hash: str) -> NpusimKernel:
    return NpusimKernel(kernel_hash)


def npusim_graph_call(graph: str, kernel_hashes: list[str]) -> None:
    """First line of every compiled graph's function: the kernels this call must launch."""
    runlog.append("graph_call", {"graph": graph, "kernels": kernel_hashes})
