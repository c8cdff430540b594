"""Collection: an `ops.py` spec module becomes case items (op x dtype x sizes) and sweep items.

Case ids read like `add[f32-N=1000]`; sweep ids like `add[f32-sweep-N]`. All
items of one op and dtype share an xdist group, so they run in one worker
behind one torch.compile, and the sweep item (collected after the cases) sees
every case's cycles.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

import pytest
import torch

from compiler.errors import UnsupportedOp, find_unsupported
from harness import checks, reproducer
from harness.session import CaseResult, HarnessState, events_since, forget_float_specialisations, now
from harness.sizes import Sweep, explicit_sweeps, sweeps
from harness.spec import DTYPE_BITS, OpSpec, case_seed, refusal_matches
from npusim import config as npu_config
from reports.schema import Prop, Status, format_sizes


class CaseUnsupported(Exception):
    """The backend refused an op: shown as unsupported, never as a pass."""


def state_of(config) -> HarnessState:
    return config.stash[STATE_KEY]


STATE_KEY = pytest.StashKey[HarnessState]()


class OpSpecModule(pytest.Module):
    """A suite's `ops.py`: imported as a module, its SPECS expanded into items."""

    def collect(self):
        module = self.obj
        specs: list[OpSpec] = getattr(module, "SPECS", None)
        if not isinstance(specs, list):
            raise self.CollectError(f"{self.path}: an ops.py suite must define SPECS = [OpSpec(...), ...]")
        config = npu_config.load()
        policy = self.config.getoption("--sizes")
        family = self.path.parent.name
        names = [spec.name for spec in specs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise self.CollectError(f"{self.path}: op spec names must be unique, repeated: {', '.join(duplicates)}")
        for spec in specs:
            spec.family = spec.family or family
            for dtype in spec.dtypes:
                group = pytest.mark.xdist_group(f"{self.path.parent.name}.{spec.name}.{dtype}")
                # a model spec lists its sizes; a generated suite (suites/opinfo) may give each spec its own
                sizes_of = getattr(module, "sweeps_of", None)
                if spec.sizes is not None:
                    op_sweeps = explicit_sweeps(spec.sizes(config, policy))
                elif sizes_of:
                    op_sweeps = sizes_of(spec, dtype, policy, config)
                else:
                    op_sweeps = sweeps(spec.dims(), config, policy, elem_bits=DTYPE_BITS[dtype],
                                       size_tile=spec.size_tile)
                seen = set()
                for sweep in op_sweeps:
                    for sizes in sweep.sizes():
                        key = tuple(sizes.items())
                        if key in seen:
                            continue
                        seen.add(key)
                        label = "-".join(f"{k}={v}" for k, v in sizes.items()) or "static"
                        item = CaseItem.from_parent(self, name=f"{spec.name}[{dtype}-{label}]", spec=spec,
                                                    dtype=dtype, sizes=sizes)
                        item.add_marker(group)
                        reason = spec.xfail_reason(dtype)
                        if reason:  # declared unsupported: only the backend's refusal counts
                            # At a size-0/1 specialisation the program may lose the refused op
                            # (a matmul with a dim of 1 is a multiply): a pass there is no XPASS failure.
                            strict = not any(v in (0, 1) for v in sizes.values())
                            item.add_marker(pytest.mark.xfail(strict=strict, raises=CaseUnsupported, reason=reason))
                        yield item
                if spec.xfail_reason(dtype):
                    continue  # a declared failure has no cycles to sweep
                for sweep in op_sweeps:
                    if len(sweep.points) < 2:
                        continue
                    item = SweepItem.from_parent(self, name=f"{spec.name}[{dtype}-sweep-{sweep.dim}]", spec=spec,
                                                 dtype=dtype, sweep=sweep)
                    item.add_marker(group)
                    yield item


class NpusimItem(pytest.Item):
    def __init__(self, *, spec: OpSpec, dtype: str, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec
        self.dtype = dtype
        self.status: str | None = None
        self.properties: dict = {}
        self.artifacts: list[str] = []

    @property
    def op_key(self):
        return (str(self.path), self.spec.name, self.dtype)

    def reportinfo(self):
        return self.path, None, self.name

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CaseUnsupported):
            return f"UNSUPPORTED: {excinfo.value}"
        if isinstance(excinfo.value, AssertionError):  # a check: its message says everything
            return f"{type(excinfo.value).__name__}: {excinfo.value}"
        return super().repr_failure(excinfo, style="short")


class CaseItem(NpusimItem):
    def __init__(self, *, sizes: dict, **kwargs):
        super().__init__(**kwargs)
        self.sizes = sizes

    def runtest(self) -> None:
        state = state_of(self.config)
        spec = self.spec
        config_name = npu_config.load().name
        self.properties.update({Prop.OP: spec.name, Prop.FAMILY: spec.family, Prop.DTYPE: self.dtype,
                                Prop.SIZES: format_sizes(self.sizes), Prop.CONFIG: config_name})
        # ran here, even when its inputs say the size is not one of the op's (a skip in make_inputs)
        state.ran.setdefault(self.op_key, set()).add(tuple(self.sizes.items()))
        inputs = spec.make_inputs(self.sizes, self.dtype, case_seed(spec.name, self.dtype, self.sizes))
        case_dir = state.case_dir(self.nodeid)
        self.case_dir = case_dir
        compiled = state.compiled(self.op_key, spec.traced_fn(self.dtype))
        rtol, atol = spec.tolerance(self.dtype, self.sizes)
        started = now()
        call_inputs = spec.call_inputs(inputs)
        functional = spec.functional_for(self.sizes) if os.environ.get("NPUSIM_FUNCTIONAL", "spike") == "spike" \
            else None
        if functional:
            self.properties[Prop.FUNCTIONAL] = functional
        # A refusal of the general graph is the same at every size: a recompile would only repeat it
        # (size-0/1 cases compile their own specialised graph, so they keep their own key).
        refusal_key = (self.op_key, self.specialised_dims())
        try:
            if refusal_key in state.refusals:
                refused = state.refusals[refusal_key]
                raise UnsupportedOp(refused.op, refused.detail)
            forget_float_specialisations()
            with functional_values(functional):
                actual = compiled(*call_inputs)
        except Exception as exc:
            self._keep_inputs(inputs, rtol, atol)
            self._collect(started)
            unsupported = find_unsupported(exc)
            if unsupported is not None:
                if not self.specialised:
                    state.refusals.setdefault(refusal_key, unsupported)
                self.status = Status.UNSUPPORTED
                gap = spec.declared_gap(self.dtype)
                if gap is not None and not refusal_matches(gap[0], unsupported.op):
                    raise AssertionError(f"declared gap for op '{gap[0]}' ({gap[1]}), but the backend refused "
                                         f"a different op '{unsupported.op}': {unsupported}") from exc
                raise CaseUnsupported(str(unsupported)) from exc
            raise
        launches = self._collect(started)
        if not self.specialised:  # compile-once counts from the first case that ran the general graph
            state.first_case_end.setdefault(self.op_key, now())
        eager_inputs = [t.clone() for t in inputs]  # `inputs` stay as drawn, for the reproducer
        try:
            checks.check_kernel_launched(launches, self.graph_calls, actual, call_inputs)
            expected = spec.expected(eager_inputs)
            if self.config.getoption("--functional") == "both":
                self._check_three_way(compiled, inputs, actual, expected, rtol, atol)
            else:
                try:
                    spec.check_values(actual, expected, rtol, atol, inputs)
                except AssertionError:  # eager off the exact value (spec.exact_reference): that value serves
                    exact = spec.exact_reference([t.clone() for t in inputs], self.dtype)
                    if exact is None or not checks.values_close(actual, exact, rtol, atol):
                        raise
                    self.properties["npusim.reference"] = "float64"
            # an op that updates an input in place must update it the same way
            checks.check_values(call_inputs, eager_inputs, rtol, atol)
            self._check_floor(launches, call_inputs, actual)
            if self.config.getoption("--hardware-monotonic"):
                self._check_hardware_monotonic(launches)
        except AssertionError:
            self._keep_inputs(inputs, rtol, atol)
            raise
        # only passing cases feed the sweep checks
        state.results.setdefault(self.op_key, []).append(CaseResult(
            sizes=dict(self.sizes), status=Status.PASS, cycles=self.properties.get(Prop.CYCLES),
            trace_records=self.properties.get(Prop.TRACE_RECORDS), instret=self.properties.get(Prop.INSTRET),
            kernel_hashes=self.kernel_hashes, finished=now(), shape_args=dict(self.shape_args)))

    def specialised_graph(self, graphs: list[dict]) -> tuple[tuple[str, str], ...]:
        """Dims of the spec's dynamic inputs that a graph compiled in this case holds as constants:
        Dynamo specialised them although the case's own size is not 0 or 1 (x[:, :-1] at N = 2 has
        a slice of size 1, so that graph is compiled for N = 2 exactly). Empty for a general graph."""
        found = []
        for graph in graphs:
            shapes = [text.strip("[]").split(", ") for text in graph.get("inputs", []) if text.startswith("[")]
            declared = [[d.strip() for d in shape.split(",") if d.strip()] for shape in self.spec.inputs]
            if len(shapes) != len(declared):
                continue  # lifted parameters or buffers: the placeholders do not line up with the spec
            for dims, names in zip(shapes, declared):
                for dim, name in zip(dims, names):
                    if not name.isdigit() and dim.isdigit():
                        found.append((name, dim))
        return tuple(dict.fromkeys(found))

    def specialised_dims(self) -> tuple[tuple[str, int], ...]:
        """The dynamic dims this case sets to 0 or 1: Dynamo specialises them (CONTRACTS.md, Size rule)."""
        return tuple((dim, size) for dim, size in self.sizes.items() if size in (0, 1))

    def _check_three_way(self, compiled, inputs, actual, expected, rtol, atol) -> None:
        """The same compiled kernels once more on the host JIT (no cycles: Spike's run has them)."""
        saved = {name: os.environ.get(name) for name in ("NPUSIM_FUNCTIONAL", "NPUSIM_TRACE")}
        os.environ.update(NPUSIM_FUNCTIONAL="host", NPUSIM_TRACE="0")
        try:
            host_actual = compiled(*self.spec.call_inputs(inputs))
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        verdict, failure = checks.three_way_verdict(actual, host_actual, expected, rtol, atol)
        self.properties[Prop.VALUES] = verdict
        if failure:
            raise AssertionError(failure)

    def _collect(self, started: float) -> None:
        """Metrics of this case from the run log: its launches and any compile it caused.

        The first compiles of a size-0/1 pattern are Dynamo's specialisation for it, kept
        apart from the op's compiles; any later compile counts against compile-once."""
        state = state_of(self.config)
        events = events_since(started, kind=None)
        launches = [e for e in events if e["event"] == "launch"]
        self.graph_calls = [e for e in events if e["event"] == "graph_call"]
        compiles = [e for e in events if e["event"] == "compile"]
        state.graph_starts.setdefault(self.op_key, []).extend(e["ts"] for e in events if e["event"] == "dynamo_graph")
        pattern = self.specialised_dims() or self.specialised_graph(
            [e for e in events if e["event"] == "dynamo_graph"])
        known = state.specialisations.setdefault(self.op_key, {})
        self.specialised = bool(pattern)
        if pattern and compiles and pattern not in known:
            known[pattern] = compiles
        else:
            state.compiles.setdefault(self.op_key, []).extend(compiles)
        self.properties[Prop.SPECIALISATIONS] = len(known)
        self.kernel_hashes = sorted({e["kernel_hash"] for e in launches})
        self.shape_args = {e["kernel_hash"]: e.get("shape_args") or {} for e in launches}
        for event in compiles:
            self.artifacts.append(event.get("artifacts", ""))
        for event in launches:
            self.artifacts.append(event.get("artifacts", ""))
            if event.get("elf"):
                self.artifacts.append(event["elf"])

        def total(key):
            values = [e.get(key) for e in launches]
            return sum(values) if values and all(v is not None for v in values) else None

        for prop, key in ((Prop.CYCLES, "cycles"), (Prop.INSTRET, "instret"), (Prop.TRACE_RECORDS, "trace_records")):
            value = total(key)
            if value is not None:
                self.properties[prop] = int(value)
        self.properties[Prop.KERNEL_HASH] = ",".join(self.kernel_hashes)
        if len(launches) > 1:  # the per-kernel breakdown (reports name the kernel that dominates or moved)
            self.properties[Prop.KERNELS] = kernel_breakdown(launches)
        self.properties[Prop.COMPILE_COUNT] = len(state.compiles.get(self.op_key, []))
        self.properties[Prop.ARTIFACTS] = str(self.case_dir)
        return launches

    def _check_floor(self, launches: list[dict], inputs, outputs) -> None:
        """cycles / roofline as properties; a case faster than the hardware allows fails."""
        cycles = self.properties.get(Prop.CYCLES)
        if cycles is None:  # trace disabled: no cycles to bound
            return
        config = npu_config.load()
        vector = sum((event.get("busy_cycles") or {}).get("vector_at_peak", 0.0) for event in launches)
        output_bytes = _tensor_bytes(outputs)
        # Inputs bound the time only when the kernels read DRAM at all: an output that depends on
        # no input (x[:, :-1] shifted into a zeroed (3, 1) buffer, argmax over one element) is
        # stored without a load, so no read latency belongs in its floor.
        # An op that reads part of its input (diag of a (10, 8193) matrix reads 10 elements) bounds the
        # time by what it reads: at most the bytes the kernels moved beyond the output.
        moved = sum(event.get("dram_bytes") or 0 for event in launches)
        read = [t for k, t in enumerate(inputs) if k not in self.spec.gathered]
        input_bytes = min(_tensor_bytes(read), moved - output_bytes) if moved > output_bytes else 0
        roof = checks.roofline(config, input_bytes=input_bytes, output_bytes=output_bytes,
                               vector_at_peak=vector, macs=self.spec.macs_of(self.sizes))
        self.properties[Prop.ROOFLINE] = math.ceil(roof["cycles"])
        if roof["cycles"] > 0:  # kernels of an empty matrix (cholesky_solve of 0x0) move nothing: no floor
            self.properties[Prop.ROOFLINE_RATIO] = round(cycles / roof["cycles"], 3)
        checks.check_floor(cycles, roof, config.name)

    def _check_hardware_monotonic(self, launches: list[dict]) -> None:
        """The case's launches re-simulated (trace only) on its config with each resource doubled."""
        from npusim import cache
        from simulator.trace import simulate

        base = self.properties.get(Prop.CYCLES)
        if base is None or not launches:
            return
        config = npu_config.load()
        scaled = {}
        for resource, variant in npu_config.scaled_variants(config).items():
            scaled[resource] = sum(simulate(cache.entry(e["kernel_hash"]).dir, None, e["shape_args"], variant).cycles
                                   for e in launches)
        checks.check_hardware_monotonic(base, scaled, config.name)

    def _keep_inputs(self, inputs, rtol, atol) -> None:
        """A failing case keeps its inputs and a standalone reproducer beside them."""
        torch.save(inputs, self.case_dir / "inputs.pt")
        reproducer.write_script(self.case_dir, self.nodeid, self.config.rootpath, str(self.path), self.spec.name,
                                npu_config.load().name, os.environ.get("NPUSIM_FUNCTIONAL", "spike"), rtol, atol)


class SweepItem(NpusimItem):
    """Per sweep: compile-once, cycle monotonicity and trace scaling over the cases that ran."""

    def __init__(self, *, sweep: Sweep, **kwargs):
        super().__init__(**kwargs)
        self.sweep = sweep

    def runtest(self) -> None:
        state = state_of(self.config)
        self.properties.update({Prop.OP: self.spec.name, Prop.FAMILY: self.spec.family, Prop.DTYPE: self.dtype,
                                Prop.SIZES: f"sweep={self.sweep.dim}", Prop.CONFIG: npu_config.load().name})
        # A selection (-k, a shard) may hold part of a sweep: check the part selected.
        selected = state.selected.get(self.op_key, set())
        wanted = [tuple(p) for p in self.sweep.points if tuple(p) in selected]
        results = {tuple(r.sizes.items()): r for r in state.results.get(self.op_key, [])}
        elsewhere = [dict(p) for p in wanted if p not in state.ran.get(self.op_key, set())]
        if elsewhere:
            raise AssertionError(f"cases {elsewhere} of this sweep were selected but ran in another process: "
                                 "the harness scheduler keeps an op's cases together; was another --dist "
                                 "mode used?")
        everything = [results[p] for p in wanted if p in results]  # failed cases are reported on their own
        # A size-0/1 case ran Dynamo's specialised program (CONTRACTS.md section 7), not the
        # sweep's kernel: it takes part in the cycle check (a bigger size may not be cheaper, whatever
        # program it runs) but not in the trace-record checks, which compare one kernel's tiles.
        specialised = [r for r in everything if any(v in (0, 1) for v in r.sizes.values())]
        ran = [r for r in everything if r not in specialised]
        if specialised:
            self.properties[Prop.SPECIALISED_CYCLES] = ",".join(
                f"{format_sizes(r.sizes)}:{r.cycles}" for r in specialised)
        if len(ran) < 2:
            pytest.skip(f"only {len(ran)} of {len(wanted)} cases of this sweep passed at sizes >= 2")
        compiles = state.compiles.get(self.op_key, [])
        self.properties[Prop.COMPILE_COUNT] = len(compiles)
        self.properties[Prop.SPECIALISATIONS] = len(state.specialisations.get(self.op_key, {}))
        if self.op_key not in state.first_case_end:
            pytest.skip("every case of this sweep ran at a specialised size (0 or 1)")
        checks.check_compile_once(compiles, state.first_case_end[self.op_key], state.graph_starts.get(self.op_key, []))
        dim = self.sweep.dim
        if not any(r.kernel_hashes for r in ran):  # every output was empty (each case checked it)
            pytest.skip("no case of this sweep launched a kernel: every output is empty")
        checks.check_monotonic([(r.sizes[dim], r.cycles) for r in everything if r.kernel_hashes], "cycles", dim)
        hashes = {h for r in ran for h in r.kernel_hashes}
        meta = _kernel_meta(hashes)
        tiled = "r" if meta.get("rnumel") else "x"
        tile = (meta.get("tiles") or {}).get(tiled) if dim == self.spec.dims()[-1] else None
        if len(hashes) == 1 and tile:
            # tiles of the kernel's own extent at each case (pad's output is N + 3, not N)
            # kept dims (CONTRACTS.md section 2): x tiles run over the innermost dim, once per row
            expression = meta.get("x_tiled_extent") if tiled == "x" else None
            extents = [_extent(expression or meta[f"{tiled}numel"], r.shape_args.get(next(iter(hashes)), {}))
                       for r in ran]
            checks.check_trace_scaling([(r.sizes[dim], r.trace_records) for r in ran], tile, dim,
                                       extents=extents)
        else:
            checks.check_monotonic([(r.sizes[dim], r.trace_records) for r in ran], "trace records", dim)


@contextlib.contextmanager
def functional_values(mode: str | None):
    """Values of the launches inside from `mode` (None: as configured); the trace still gives cycles."""
    if mode is None:
        yield
        return
    saved = os.environ.get("NPUSIM_FUNCTIONAL")
    os.environ["NPUSIM_FUNCTIONAL"] = mode
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("NPUSIM_FUNCTIONAL", None)
        else:
            os.environ["NPUSIM_FUNCTIONAL"] = saved


def kernel_breakdown(launches: list[dict]) -> str:
    """The case's launches in order as JSON [{"kernel", "hash", "cycles"}] (Prop.KERNELS)."""
    import json

    return json.dumps([{"kernel": e.get("kernel"), "hash": (e.get("kernel_hash") or "")[:16],
                        "cycles": e.get("cycles")} for e in launches], separators=(",", ":"))


def _tensor_bytes(values) -> int:
    """Bytes of the distinct tensors in a (nested) value, each storage once."""
    from torch.utils._pytree import tree_leaves

    seen, total = set(), 0
    for leaf in tree_leaves(values):
        if isinstance(leaf, torch.Tensor) and leaf.data_ptr() not in seen:
            seen.add(leaf.data_ptr())
            total += leaf.numel() * leaf.element_size()
    return total


def _kernel_meta(hashes) -> dict:
    import json

    from npusim import cache

    if len(hashes) != 1:
        return {}
    meta = cache.entry(next(iter(hashes))).path("kernel.json")
    return json.loads(meta.read_text()) if meta.exists() else {}


def _extent(expression: str, shape_args: dict) -> int | None:
    """A kernel extent (kernel.json xnumel / rnumel) at the size args of one launch."""
    import sympy

    try:
        value = sympy.sympify(str(expression)).subs({sympy.Symbol(k): v for k, v in shape_args.items()})
        return int(value) if value.is_Integer else None
    except (sympy.SympifyError, TypeError, ValueError):
        return None


def failure_sections(item: NpusimItem, policy: str) -> list[tuple[str, str]]:
    """Where a failing case's artifacts are, and how to reproduce it in one line."""
    root = item.config.rootpath
    cmd = reproducer.command(item.nodeid, root, os.environ.get("NPUSIM_CONFIG") or npu_config.load().name,
                             os.environ.get("NPUSIM_FUNCTIONAL", "spike"), policy)
    item.properties[Prop.REPRODUCER] = cmd
    lines = [f"reproduce: {cmd}"]
    case_dir = getattr(item, "case_dir", None)
    if case_dir is not None and (case_dir / "reproduce.py").exists():
        lines.append(f"standalone: python {case_dir / 'reproduce.py'}  (inputs: {case_dir / 'inputs.pt'})")
    for path in dict.fromkeys(a for a in item.artifacts if a):
        kernel_dir = Path(path)
        if (kernel_dir / "kernel.mlir").exists():  # a kernel's cache entry: name its main artifacts
            for name in ("kernel.mlir", "kernel.json", "kernel.elf", "trace.so", "cost.json"):
                if (kernel_dir / name).exists():
                    lines.append(f"artifacts: {kernel_dir / name}")
        elif not path.endswith("kernel.elf"):
            lines.append(f"artifacts: {path}")
    return [("npusim", "\n".join(lines))]


