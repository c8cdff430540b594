"""simulate(): cycles of one kernel launch on the C++ trace simulator.

    result = simulate(kernel_dir, meta=None, shape_args={"s0": 1000}, config="tpuv3-1core")
    result.cycles, result.trace_records, result.stats

The kernel's trace.so (built once per kernel, artifacts.py) and the simulator
binary (build.py, built on demand) run in a separate process with a time
limit: a producer that crashes or never returns becomes a TraceSimError that
names the artifacts, and the caller keeps running. The shape args reach the
simulator through a per-launch attribute file, `launch.json`, in a launch
directory next to the kernel's artifacts, together with the config (as the
validated values, JSON) and the result.

simulate() does not write the run log; `launch_record(result)` gives the
fields of a CONTRACTS.md section 5 launch event and `log_launch(result, ...)`
appends one, for callers that want it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from npusim import config as npu_config
from npusim import runlog
from simulator.trace.artifacts import TraceArtifacts, trace_artifacts
from simulator.trace.build import simulator_binary
from simulator.trace.errors import TraceSimError

DEFAULT_TIMEOUT_S = 120.0


@dataclass
class SimResult:
    cycles: int
    trace_records: int
    dram_bytes: int
    busy_cycles: dict[str, float]
    stats: dict[str, Any]               # the simulator's full JSON report
    shape_args: dict[str, int]
    config: str
    kernel: str
    kernel_hash: str
    wall_s: float
    artifacts: dict[str, str] = field(default_factory=dict)


def _load_kernel(kernel: str | os.PathLike | Mapping, meta: dict | None) -> tuple[str, dict | None]:
    """kernel.mlir text and its metadata from a kernel dir, a kernel.mlir path or a {"mlir", "meta"} mapping."""
    if isinstance(kernel, Mapping):
        return kernel["mlir"], meta if meta is not None else kernel.get("meta")
    path = Path(kernel)
    mlir_path = path / "kernel.mlir" if path.is_dir() else path
    if not mlir_path.exists():
        raise TraceSimError(f"no kernel.mlir at {mlir_path}")
    if meta is None and (mlir_path.parent / "kernel.json").exists():
        meta = json.loads((mlir_path.parent / "kernel.json").read_text())
    return mlir_path.read_text(), meta


def _config_values(config: Any) -> tuple[str, dict, str]:
    """Name, validated values and their digest. A named or file config is parsed once per
    process and file content (YAML parsing was most of a small launch's overhead)."""
    if isinstance(config, npu_config.NpuConfig):
        return config.name, config.data, _digest(config.data)
    if isinstance(config, Mapping):
        npu_config.validate(dict(config), Path("<dict>"))
        return config["name"], dict(config), _digest(dict(config))
    path = npu_config.resolve_path(config)
    return _load_config_file(path, path.read_text())


@functools.lru_cache(maxsize=64)
def _load_config_file(path: Path, text: str) -> tuple[str, dict, str]:
    """Keyed by the file's text, not its mtime: a test may rewrite a file within the clock's tick."""
    loaded = npu_config.load(path)
    return loaded.name, loaded.data, _digest(loaded.data)


def _ordered_shape_args(shape_args: Mapping[str, int] | Sequence[int], names: list[str]) -> list[int]:
    if isinstance(shape_args, Mapping):
        missing = [n for n in names if n not in shape_args]
        if missing:
            raise TraceSimError(f"shape_args lacks {', '.join(missing)} (the kernel's size args: {names})")
        values = [shape_args[n] for n in names]
    else:
        values = list(shape_args)
        if len(values) != len(names):
            raise TraceSimError(f"{len(values)} shape_args given, the kernel takes {len(names)} ({names})")
    out = []
    for name, value in zip(names, values):
        if isinstance(value, bool) or int(value) != value:
            raise TraceSimError(f"shape arg {name} = {value!r} is not an integer")
        out.append(int(value))
    return out


def _check_extents(meta: dict | None, names: list[str], values: list[int]) -> None:
    """A size arg is any int64 (arange's start or step may be negative), but every extent and
    tensor length it gives must be a non-negative integer."""
    if not meta:
        if any(v < 0 for v in values):  # no metadata to tell extents from other values
            raise TraceSimError(f"shape args {dict(zip(names, values))}: a negative value needs kernel.json to "
                                "check the kernel's extents; not a non-negative integer")
        return
    assignment = dict(zip(names, values))
    extents = {f"{arg['name']} numel": arg.get("numel") for arg in meta.get("args", []) if arg.get("kind") != "size"}
    extents.update({key: meta.get(key) for key in ("xnumel", "rnumel")})
    extents.update({f"matmul {k}": v for k, v in (meta.get("matmul") or {}).items()})
    for what, expression in extents.items():
        if expression is None:
            continue
        parsed = _extent_expression(str(expression), tuple(names))
        if parsed is None:
            continue  # not an expression over the size args: nothing to check here
        value = parsed.subs({symbol: assignment[symbol.name] for symbol in parsed.free_symbols
                             if symbol.name in assignment})
        if value.is_number and (not value.is_integer or value < 0):
            raise TraceSimError(f"{what} = {expression} is {value} at shape args {dict(zip(names, values))}: "
                                "not a non-negative integer")


@functools.lru_cache(maxsize=4096)
def _extent_expression(expression: str, names: tuple[str, ...]) -> Any:
    """The sympy form of a kernel.json extent (parsed once per process), or None."""
    import sympy

    try:
        return sympy.sympify(expression, locals={n: sympy.Symbol(n) for n in names})
    except (sympy.SympifyError, TypeError):
        return None


def _write_json_if_changed(path: Path, data: Any) -> None:
    """A launch directory's inputs are rewritten only when they differ (a repeated launch
    reads them as they are)."""
    text = json.dumps(data, indent=1, sort_keys=True)
    try:
        if path.read_text() == text:
            return
    except OSError:
        pass
    _write_text_atomic(path, text)


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def simulate(kernel: str | os.PathLike | Mapping, meta: dict | None = None,
             shape_args: Mapping[str, int] | Sequence[int] = (), config: Any = None, *,
             cost_table: str | os.PathLike | Mapping | None = None,
             timeout_s: float = DEFAULT_TIMEOUT_S) -> SimResult:
    """Simulate one launch of a kernel at the given sizes; see the module docstring.

    kernel: a kernel directory (kernel.mlir + kernel.json), a kernel.mlir path, or
    {"mlir": text, "meta": kernel.json dict}. shape_args: {size arg name: value} or
    values in the kernel's size-arg order. config: NpuConfig, name, path or validated
    dict (default config when None). cost_table: the per-tile cost table (a cost.json
    path or dict); None builds it from the kernel's compute bodies (cost.py).
    """
    started = time.monotonic()
    kernel_text, meta = _load_kernel(kernel, meta)
    config_name, config_data, config_digest = _config_values(config)
    try:
        artifacts = trace_artifacts(kernel_text, meta)
    except TraceSimError as exc:
        if exc.artifacts:
            raise
        from npusim import cache
        raise type(exc)(f"building the trace producer failed: {exc}",
                        {"kernel cache entry": str(cache.entry(cache.sha256_text(kernel_text)).dir)}) from exc
    info = artifacts.info()
    values = _ordered_shape_args(shape_args, info["size_args"])
    _check_extents(meta, info["size_args"], values)

    if cost_table is None:
        from simulator.trace.cost import cost_table_path
        cost_path = cost_table_path(artifacts, kernel_text, meta)
    elif isinstance(cost_table, Mapping):
        cost_path = artifacts.dir / f"cost-given-{_digest(cost_table)}.json"
        if not cost_path.exists():
            _write_json_atomic(cost_path, dict(cost_table))
    else:
        cost_path = Path(cost_table)

    launch_dir = artifacts.dir / "launches" / (
        f"{config_name}-{config_digest}-" + "-".join(f"{n}={v}" for n, v in zip(info["size_args"], values)))[:200]
    launch_dir.mkdir(parents=True, exist_ok=True)
    config_json = launch_dir / "config.json"
    attribute_json = launch_dir / "launch.json"
    _write_json_if_changed(config_json, config_data)
    _write_json_if_changed(attribute_json, {
        "kernel": info["kernel"], "kernel_hash": artifacts.kernel_hash, "config": config_name,
        "size_args": info["size_args"], "shape_args": values,
        "trace_so": str(artifacts.trace_so), "cost": str(cost_path)})
    result_json = launch_dir / f"result.{os.getpid()}.{uuid.uuid4().hex[:8]}.json"
    paths = {"kernel": f"{info['kernel']} ({artifacts.kernel_hash[:12]})", "artifact dir": str(artifacts.dir),
             "trace.so": str(artifacts.trace_so), "trace_info.json": str(artifacts.info_json),
             "cost.json": str(cost_path), "launch.json": str(attribute_json), "config.json": str(config_json),
             "kernel.mlir": str(artifacts.kernel_mlir)}
    stats = run_simulator(artifacts.trace_so, artifacts.info_json, attribute_json, config_json, cost_path,
                          result_json, timeout_s=timeout_s, artifacts=paths)
    # Unlinked first: ext4 flushes a file renamed over an existing one to disk (auto_da_alloc),
    # which cost ~5 ms per launch; a reader may briefly find no result.json, never a partial one.
    (launch_dir / "result.json").unlink(missing_ok=True)
    os.replace(result_json, launch_dir / "result.json")
    return SimResult(cycles=int(stats["cycles"]), trace_records=int(stats["trace_records"]),
                     dram_bytes=int(stats["dram_bytes"]), busy_cycles=stats["busy_cycles"], stats=stats,
                     shape_args=dict(zip(info["size_args"], values)), config=config_name, kernel=info["kernel"],
                     kernel_hash=artifacts.kernel_hash, wall_s=time.monotonic() - started,
                     artifacts={**paths, "launch_dir": str(launch_dir)})


def run_simulator(trace_so: Path, info_json: Path, attribute_json: Path, config_json: Path,
                  cost_json: Path | None, out_json: Path, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                  artifacts: dict[str, str] | None = None, allow_missing_costs: bool = False) -> dict:
    """Run npusim-trace-sim in its own process; its JSON report, or TraceSimError."""
    artifacts = artifacts or {"trace.so": str(trace_so), "launch.json": str(attribute_json)}
    command = [str(simulator_binary()), "--config", str(config_json), "--attribute", str(attribute_json),
               "--info", str(info_json), "--trace-so", str(trace_so), "--out", str(out_json)]
    if cost_json is not None:
        command += ["--cost", str(cost_json)]
    if allow_missing_costs:
        command.append("--allow-missing-costs")
    try:
        # close_fds=False lets subprocess use posix_spawn (vfork) instead of fork_exec: Python's
        # own descriptors are non-inheritable anyway (PEP 446)
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, close_fds=False)
    except subprocess.TimeoutExpired:
        raise TraceSimError(f"trace simulation did not finish within {timeout_s:g} s "
                            "(the producer never returned?); the simulator process was killed", artifacts) from None
    if proc.returncode < 0:
        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = f"signal {-proc.returncode}"
        raise TraceSimError(f"trace simulation crashed with {name} (in the producer trace.so or the simulator)"
                            + (f": {proc.stderr.strip()[-2000:]}" if proc.stderr.strip() else ""), artifacts)
    if proc.returncode != 0:
        raise TraceSimError(f"trace simulation failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}",
                            artifacts)
    try:
        return json.loads(out_json.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise TraceSimError(f"the simulator wrote no readable report: {exc}", artifacts) from exc


def launch_record(result: SimResult) -> dict:
    """The trace simulator's fields of a run-log launch event (CONTRACTS.md section 5)."""
    return {"kernel": result.kernel, "kernel_hash": result.kernel_hash, "shape_args": result.shape_args,
            "cycles": result.cycles, "trace_records": result.trace_records, "config": result.config,
            "dram_bytes": result.dram_bytes, "busy_cycles": result.busy_cycles,
            "trace_wall_s": result.wall_s, "artifacts": result.artifacts.get("launch_dir")}


def log_launch(result: SimResult, **extra: Any) -> dict:
    """Append a launch event for this result (plus extra fields, e.g. instret, functional, wall_s)."""
    return runlog.append("launch", {**launch_record(result), **extra})


def simulator_path() -> Path:
    """The simulator binary, built when missing or stale."""
    return simulator_binary()


__all__ = ["SimResult", "TraceSimError", "TraceArtifacts", "simulate", "run_simulator", "launch_record",
           "log_launch", "trace_artifacts"]
