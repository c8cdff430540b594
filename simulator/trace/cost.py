"""The per-tile cost table (`cost.json`), built once per kernel from Spike.

Model. A compute tile's cost is linear in its element count n:

    cycles(tile, n) = fixed + per_elem * n            (n >= 1; 0 for an empty tile)

Both terms come from two one-tile samples of the kernel run on Spike with
instruction classes counted: a full tile (n_full elements) and a 1-element
tile (n_one = 1). Per class c the sample counts give a slope
S_c = (C_full - C_one) / (n_full - n_one) and an intercept I_c = C_one - S_c * n_one.
The simulator (C++, timing.cpp `load_cost_table`) turns them into cycles with
the config's `vector.cycles_per_op[c]`:

    fixed    = sum_c cpo_c * I_c
    per_elem = sum_c cpo_c * S_c * (spike_elems / npu_elems)

spike_elems is what one repetition of the per-element work covers on Spike:
a strip of VLEN/SEW elements (VLEN = 128) when the tile's loop is vectorised,
one element otherwise; npu_elems = lanes * vlen_bits / SEW is one NPU vector
op. So the per-element work (vector ops and the loop bookkeeping that repeats
with them) runs once per NPU vector op, and the per-tile setup runs as
sampled. In practice the samples are scalar: the outlined tile receives its
loop bounds and step as arguments, and LLVM does not vectorise a loop of
unknown step, so a sample counts scalar work per element (spike_elems = 1).
Vectorised samples would need per-class strip widths: on rv64gcv without
Zvfh, f16 conversions stay scalar while the loads around them vectorise. The partial last tile is costed by the same line at its own n,
neither zero nor a full tile. A static kernel (no size args) has only the
full-tile sample; its line goes through the origin (cost proportional to n).

Sampling. `pin_loops_to_one_tile` rewrites every tile loop that could run
more than once (static or symbolic bound) to run exactly one tile
(ub := lb + step). `outline_tile(k)` then moves compute tile k into its own
non-inlined function, and the sample counts the instructions executed inside
that one call (its callees, e.g. expf, included; DMAs, loop control and the
kernel's prologue excluded). The rest of the kernel stays, so the tile's
inputs and outputs stay live under -O2. The full-tile sample sets each size arg to its dim's tile
size (from kernel.json `tiles` and the size arg's role), the 1-element sample
sets every size arg to 1; the element count each sample gives tile k is read
from the trace skeleton itself (a simulator run at the same shape args), so
n is defined exactly as at simulation time.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import mlir.ir as ir
from mlir.dialects import arith, func

from npusim import cache
from npusim.mlir_verify import verify
from simulator.trace.errors import CostSamplingError
from simulator.trace.artifacts import TraceArtifacts
from simulator.trace.skeleton import COMPUTE_ATTR, TILE_LOOP_ATTR, walk_ops

COST_TABLE_VERSION = 1
SPIKE_VLEN_BITS = 128
INSTRUCTION_CLASSES = ("vector_load", "vector_store", "vector_fp", "vector_int", "vector_other",
                       "scalar_mem", "scalar_fp", "scalar")


def _constant_index(value: ir.Value) -> int | None:
    owner = value.owner
    if isinstance(owner, ir.Block) or owner.name != "arith.constant":
        return None
    attr = owner.attributes["value"]
    return ir.IntegerAttr(attr).value if isinstance(attr, ir.IntegerAttr) else None


def pin_loops_to_one_tile(kernel_text: str) -> str:
    """Every tile loop that would iterate more than once runs one tile (ub := lb + step)."""
    with ir.Context(), ir.Location.unknown():
        module = ir.Module.parse(kernel_text)
        for op in list(walk_ops(module.operation)):
            if op.name != "scf.for" or TILE_LOOP_ATTR not in op.attributes:
                continue
            lb, ub, step = op.operands[0], op.operands[1], op.operands[2]
            lb_c, ub_c, step_c = (_constant_index(v) for v in (lb, ub, step))
            if None not in (lb_c, ub_c, step_c) and ub_c - lb_c <= step_c:
                continue  # statically at most one iteration already
            one_tile_end = arith.AddIOp(lb, step, ip=ir.InsertionPoint(op)).result
            op.operands[1] = one_tile_end
        verify(module, CostSamplingError, "the one-tile (pinned) cost sample")
        return str(module)


COST_ENTRY = "npusim_cost_tile"


def _inside(op: ir.Operation) -> tuple[set, set]:
    """Values defined inside op's regions: op results and block arguments."""
    nested = list(walk_ops(op))
    results = {result for inner in nested for result in inner.results}
    block_args = {arg for owner in (op, *nested) for region in owner.regions for block in region.blocks
                  for arg in block.arguments}
    return results, block_args


def outline_tile(kernel_text: str, tile_id: int) -> str:
    """The kernel with compute tile `tile_id` moved into its own non-inlined
    function `npusim_cost_tile`, so its instructions (and only its) can be
    counted on Spike by entry address. Everything else stays, so the tile's
    inputs and outputs stay live under -O2 (removing the DMAs instead would let
    LLVM delete the compute as dead)."""
    with ir.Context(), ir.Location.unknown():
        module = ir.Module.parse(kernel_text)
        compute = None
        for op in walk_ops(module.operation):
            if COMPUTE_ATTR in op.attributes and \
                    ir.IntegerAttr(ir.DictAttr(op.attributes[COMPUTE_ATTR])["tile_id"]).value == tile_id:
                compute = op
                break
        if compute is None:
            raise CostSamplingError(f"the kernel has no compute tile {tile_id}")
        results, block_args = _inside(compute)
        captured: list[ir.Value] = []
        for inner in [compute, *walk_ops(compute)]:
            for value in inner.operands:
                if value not in results and value not in block_args and value not in captured:
                    captured.append(value)
        result_types = [r.type for r in compute.results]
        with ir.InsertionPoint(module.body):
            outlined = func.FuncOp(COST_ENTRY, ir.FunctionType.get([v.type for v in captured], result_types))
            outlined.attributes["passthrough"] = ir.ArrayAttr.get([ir.StringAttr.get("noinline")])
            body = outlined.add_entry_block()
        with ir.InsertionPoint(body):
            ret = func.ReturnOp([])
        call = func.CallOp(result_types, ir.FlatSymbolRefAttr.get(COST_ENTRY), captured,
                           ip=ir.InsertionPoint(compute))
        for old, new in zip(compute.results, call.results):
            old.replace_all_uses_with(new)
        compute.move_before(ret)
        for inner in [compute, *walk_ops(compute)]:
            for value, arg in zip(captured, body.arguments):
                inner.replace_uses_of_with(value, arg)
        ret.erase()
        with ir.InsertionPoint(body):
            func.ReturnOp(list(compute.results))
        verify(module, CostSamplingError, f"the cost sample with tile {tile_id} outlined")
        return str(module)


def sample_shape_args(meta: dict, full: bool) -> dict[str, int]:
    """Size args for the full-tile sample or the 1-element one (all 1).

    Full tile: every size arg starts at 1; then each tiled dim whose extent
    (kernel.json `xnumel` / `rnumel`, an expression over the size args) falls
    short of its tile grows its last free size arg until the extent covers one
    tile. A product like `ks0*ks1*ks2` so gets one full tile (`ks2` = tile),
    not tile**3 elements. Without extents, the roles name the dims
    (`<dim>numel`), as before.
    """
    import sympy

    from simulator.trace.sample_sizes import consistent_shape_args

    consistent = consistent_shape_args(meta, full)  # from the graph symbols, when kernel.json has them
    if consistent is not None:
        return consistent
    names = list(meta.get("size_args") or [])
    out = {n: 1 for n in names}
    if not full:
        return out
    tiles = meta.get("tiles") or {}
    extents = {"x": meta.get("xnumel"), "r": meta.get("rnumel")}
    roles = {a["name"]: a.get("role", "") for a in meta.get("args", []) if a.get("kind") == "size"}
    for dim, tile in tiles.items():
        text = extents.get(dim)
        if not text or int(tile) <= 1:
            continue
        expr = sympy.sympify(str(text), locals={n: sympy.Symbol(n) for n in names})
        free = [n for n in names if sympy.Symbol(n) in expr.free_symbols]
        if not free:
            continue
        grow = free[-1]
        while int(expr.subs({sympy.Symbol(k): v for k, v in out.items()})) < int(tile):
            out[grow] *= 2
        # back off to the smallest value that still covers the tile
        low, high = out[grow] // 2, out[grow]
        while low + 1 < high:
            mid = (low + high) // 2
            out[grow] = mid
            if int(expr.subs({sympy.Symbol(k): v for k, v in out.items()})) >= int(tile):
                high = mid
            else:
                low = mid
        out[grow] = high
    if not any(extents.values()):
        default = max(tiles.values()) if tiles else 1
        for name in names:
            role = roles.get(name, "")
            dim = role[:-len("numel")] if role.endswith("numel") else None
            out[name] = int(tiles.get(dim, default)) if dim else int(default)
    return out


def _tile_elems(artifacts: TraceArtifacts, shape_args: dict[str, int]) -> dict[int, int]:
    """Elements each compute tile gets at these sizes, as the skeleton reports them."""
    from simulator.trace.api import _write_json_atomic, run_simulator
    from npusim import config as npu_config

    with tempfile.TemporaryDirectory(prefix="npusim-cost-") as tmp:
        tmp_path = Path(tmp)
        info = artifacts.info()
        _write_json_atomic(tmp_path / "config.json", npu_config.load().data)
        _write_json_atomic(tmp_path / "launch.json", {"shape_args": [shape_args[n] for n in info["size_args"]]})
        report = run_simulator(artifacts.trace_so, artifacts.info_json, tmp_path / "launch.json",
                               tmp_path / "config.json", None, tmp_path / "report.json", timeout_s=60,
                               allow_missing_costs=True)
    return {int(k): int(v["max_elems"]) for k, v in report.get("tiles", {}).items()}


def count_tile_instructions(elf: Path, meta: dict, args: list, launch_dir: Path,
                            timeout_s: float = 300.0) -> dict[str, int]:
    """Instruction classes executed inside the one call of `npusim_cost_tile`
    (callees such as expf included) in a Spike run of the sample ELF.

    Built on simulator.functional's Spike runner and log classifier, pointed at
    the outlined tile's entry instead of the kernel's."""
    try:
        from simulator.functional import elf_symbols, spike
        from simulator.functional.instruction_classes import count_log
        from simulator.functional.launch_args import prepare_arguments
    except ImportError as exc:
        raise CostSamplingError("the Spike cost sample needs simulator.functional's Spike runner and "
                                f"instruction classifier, which are not available ({exc}); pass an explicit "
                                "cost table") from exc
    symbols = elf_symbols.function_ranges(elf)
    if COST_ENTRY not in symbols:
        raise CostSamplingError(f"{elf} has no {COST_ENTRY} symbol (was the outlined tile inlined?)")
    launch_dir.mkdir(parents=True, exist_ok=True)
    spike.write_launch_files(prepare_arguments(meta, args, launch_dir), launch_dir)
    log_path = launch_dir / "spike-trace.log"
    code, output = spike.run_process(spike.spike_command(elf, "-l", f"--log={log_path}"), launch_dir, timeout_s)
    if code != 0:
        tail = output[-2000:].decode(errors="replace") if isinstance(output, bytes) else str(output)[-2000:]
        raise CostSamplingError(f"Spike exited with {code} on the cost sample {elf}: {tail}")
    counts = count_log(log_path, symbols[COST_ENTRY][0], None)
    log_path.unlink(missing_ok=True)  # large; the counts are what we keep
    if not counts:
        raise CostSamplingError(f"no instruction executed inside {COST_ENTRY} of {elf}")
    return {c: int(counts.get(c, 0)) for c in INSTRUCTION_CLASSES}


def sample_arguments(meta: dict, shape_args: dict[str, int]) -> list:
    """The kernel's flat arguments for a sample launch: zero tensors sized by their
    `numel` expressions at these sizes, then the size values (kernel.json order)."""
    import sympy
    import torch

    out = []
    for arg in meta["args"]:
        if arg["kind"] == "size":
            out.append(int(shape_args[arg["name"]]))
            continue
        numel = int(sympy.sympify(str(arg["numel"])).subs({sympy.Symbol(k): v for k, v in shape_args.items()}))
        out.append(torch.zeros(max(numel, 1), dtype=getattr(torch, arg["dtype"])))
    return out


def build_cost_table(artifacts: TraceArtifacts, kernel_text: str, meta: dict, work_dir: Path) -> dict:
    """Sample every compute tile on Spike (full tile and 1-element tile); the cost.json dict."""
    try:
        from simulator.functional import build_elf
    except ImportError as exc:
        raise CostSamplingError(f"simulator.functional.build_elf is not available ({exc}); "
                                "pass an explicit cost table") from exc
    info = artifacts.info()
    pinned = pin_loops_to_one_tile(kernel_text)
    samples = {"full": sample_shape_args(meta, full=True)}
    if meta.get("size_args"):  # a static kernel has no size to shrink to one element
        samples["one"] = sample_shape_args(meta, full=False)
    elems = {which: _tile_elems(artifacts, args) for which, args in samples.items()}
    tiles = {}
    for tile in info["tiles"]:
        tile_id = tile["tile_id"]
        sample_text = outline_tile(pinned, tile_id)
        tile_dir = work_dir / f"tile{tile_id}"
        tile_dir.mkdir(parents=True, exist_ok=True)
        (tile_dir / "kernel.mlir").write_text(sample_text)
        elf = build_elf(sample_text)  # cached under the sample's own hash
        entry = {"elem_bits": tile["elem_bits"], "elf": str(elf)}
        for which, shape in samples.items():
            counts = count_tile_instructions(elf, meta, sample_arguments(meta, shape), tile_dir / which)
            entry[which] = {"n": elems[which].get(tile_id, 0), "shape_args": shape, "counts": counts}
        if "one" in entry and entry["full"]["n"] <= entry["one"]["n"]:
            raise CostSamplingError(f"tile {tile_id}: the full-tile sample has {entry['full']['n']} elements, "
                                    f"the small one {entry['one']['n']}; cannot fit the per-element cost")
        tiles[str(tile_id)] = entry
    return {"version": COST_TABLE_VERSION, "source": "spike", "spike_vlen_bits": SPIKE_VLEN_BITS,
            "model": "linear in n: fixed + per_elem * n (simulator/trace/cost.py)", "tiles": tiles}


def cost_table_path(artifacts: TraceArtifacts, kernel_text: str, meta: dict | None) -> Path:
    """cost.json of the kernel, built (once, in its cache entry) from the Spike samples."""
    if meta is None:
        raise CostSamplingError("the Spike cost sample needs the kernel's metadata (kernel.json)")
    entry = cache.entry(artifacts.kernel_hash)

    def builder(tmp: Path) -> None:
        work_dir = entry.dir / "cost-sample"
        work_dir.mkdir(exist_ok=True)
        tmp.write_text(json.dumps(build_cost_table(artifacts, kernel_text, meta, work_dir), indent=1))

    path, _ = entry.build("cost.json", builder)
    return path
