"""NPU hardware configs: YAML files validated on load against one schema.

Every knob of the timing model and of the tiling lives in the YAML; the schema
below is the single list of knobs (name, type, bounds, meaning). An unknown key
or a bad value raises ConfigError naming the key and the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from npusim.paths import CONFIGS_DIR

DEFAULT_CONFIG = "tpuv3-1core"


class ConfigError(ValueError):
    """A config file that does not match the schema."""


@dataclass(frozen=True)
class Field:
    type: type
    doc: str
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None


# section -> key -> Field. Top-level scalar keys live under the "" section.
SCHEMA: dict[str, dict[str, Field]] = {
    "": {
        "name": Field(str, "config name, as recorded in the run log"),
        "description": Field(str, "one line saying what this config models"),
        "source": Field(str, "where the numbers come from"),
    },
    "core": {
        "count": Field(int, "NPU cores; work items are distributed over them", 1, 256),
        "freq_mhz": Field(float, "core clock in MHz", 1, 10000),
    },
    "vector": {
        "lanes": Field(int, "vector lanes per core", 1, 4096),
        "vlen_bits": Field(int, "vector register length per lane in bits", 32, 65536),
        "op_classes": Field(dict, "per op class of the compute body (arith, compare_select, special, div_sqrt, "
                                  "convert, spad_access, lane_reduce): {issue_cycles: cycles one NPU vector op "
                                  "occupies the unit (1 / throughput), latency_cycles: until its result is usable}"),
        "op_classes_source": Field(str, "where the op class numbers come from"),
    },
    "scratchpad": {
        "kb_per_lane": Field(int, "scratchpad capacity per lane in KiB", 1, 1 << 20),
        "buffers_per_operand": Field(int, "slots per operand: 2 = double buffering", 1, 8),
    },
    "systolic": {
        "rows": Field(int, "systolic array rows", 1, 4096),
        "cols": Field(int, "systolic array columns", 1, 4096),
        "arrays_per_core": Field(int, "systolic arrays per core", 0, 64),
        "weight_slots": Field(int, "resident weight slots per array", 1, 64),
        "preload_cycles_per_row": Field(float, "cycles to shift one weight row into an array", 0, 10000),
        "hop_cycles": Field(float, "cycles per PE hop: fill + drain of a tile using k rows and n columns "
                                   "is hop_cycles * (k + n - 2)", 0, 10000),
        "latency_cycles": Field(int, "extra latency from the array's last column to the accumulator", 0, 100000),
    },
    "dma": {
        "queue_depth": Field(int, "outstanding DMA requests per core", 1, 4096),
        "issue_cycles": Field(int, "cycles to issue one DMA descriptor", 0, 10000),
    },
    "dram": {
        "channels": Field(int, "DRAM channels", 1, 1024),
        "freq_mhz": Field(float, "DRAM clock in MHz", 1, 100000),
        "gbps_per_channel": Field(float, "bandwidth per channel in GB/s", 0.001, 10000),
        "read_latency_cycles": Field(int, "read access latency in core cycles (activate + CAS + burst)", 0, 100000),
        "write_latency_cycles": Field(int, "write access latency in core cycles (activate + CWL + burst)", 0, 100000),
        "burst_bytes": Field(int, "access granularity in bytes", 1, 65536),
        "interleave_bytes": Field(int, "consecutive blocks of this many bytes go to consecutive channels", 1, 1 << 30),
        "source": Field(str, "where the DRAM numbers come from"),
    },
    "noc": {
        "latency_cycles": Field(int, "interconnect latency in core cycles", 0, 100000),
    },
}

REQUIRED_SECTIONS = tuple(s for s in SCHEMA if s)
OP_CLASS_KEYS = ("issue_cycles", "latency_cycles")
# The classes the cost model (simulator/trace/cost.py) sorts the ops of a compute body into.
OP_CLASSES = ("arith", "compare_select", "special", "div_sqrt", "convert", "spad_access", "lane_reduce")


@dataclass(frozen=True)
class NpuConfig:
    """A validated config; `data` is the parsed YAML, `path` where it came from."""

    name: str
    path: Path
    data: dict

    def __getitem__(self, section: str) -> dict:
        return self.data[section]

    # Derived quantities the compiler's tiling needs.
    def tile_elems(self, elem_bits: int) -> int:
        """Elements of one vector tile: lanes x (vlen / element width)."""
        return self["vector"]["lanes"] * max(1, self["vector"]["vlen_bits"] // elem_bits)

    def vector_elems_per_cycle(self, elem_bits: int, op_class: str = "arith") -> float:
        """Peak elements per core cycle of one op class at this width (all cores)."""
        issue = self["vector"]["op_classes"][op_class]["issue_cycles"]
        return self["core"]["count"] * self.tile_elems(elem_bits) / issue if issue > 0 else float("inf")

    @property
    def dram_bytes_per_cycle(self) -> float:
        """Peak DRAM bytes per core cycle, all channels."""
        return self["dram"]["channels"] * self["dram"]["gbps_per_channel"] * 1000.0 / self["core"]["freq_mhz"]

    @property
    def scratchpad_bytes(self) -> int:
        return self["scratchpad"]["kb_per_lane"] * 1024 * self["vector"]["lanes"]


# Resources that more of must never cost cycles (the hardware-monotonicity check): name ->
# (section, key). A scaled variant doubles one of them.
SCALABLE_RESOURCES = {
    "dram bandwidth": ("dram", "gbps_per_channel"),
    "dram channels": ("dram", "channels"),
    "vector lanes": ("vector", "lanes"),
    "cores": ("core", "count"),
    "systolic arrays": ("systolic", "arrays_per_core"),
    "scratchpad": ("scratchpad", "kb_per_lane"),
}


def scaled_variants(config: "NpuConfig", factor: int = 2) -> dict[str, dict]:
    """The config with one resource scaled up by `factor` each, validated: resource name -> config dict."""
    import copy

    variants = {}
    for resource, (section, key) in SCALABLE_RESOURCES.items():
        data = copy.deepcopy(config.data)
        value = data[section][key]
        data[section][key] = value * factor if value else factor  # 0 arrays -> some arrays
        data["name"] = f"{config.name}+{key}x{factor}"
        validate(data, Path(f"<{config.name} with {resource} x{factor}>"))
        variants[resource] = data
    return variants


def _check_value(path: Path, key: str, value: Any, field: Field) -> None:
    where = f"{path}: key '{key}'"
    expected = field.type
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and expected is not bool or not isinstance(value, expected):
        raise ConfigError(f"{where} must be {expected.__name__}, got {type(value).__name__} {value!r}")
    if field.min is not None and value < field.min:
        raise ConfigError(f"{where} = {value} is below the minimum {field.min}")
    if field.max is not None and value > field.max:
        raise ConfigError(f"{where} = {value} is above the maximum {field.max}")
    if field.choices is not None and value not in field.choices:
        raise ConfigError(f"{where} = {value!r} is not one of {field.choices}")
    if expected is dict:
        for k, v in value.items():
            if not isinstance(k, str) or not isinstance(v, dict) or set(v) != set(OP_CLASS_KEYS):
                raise ConfigError(f"{path}: key '{key}.{k}' must be a mapping with exactly "
                                  f"{', '.join(OP_CLASS_KEYS)}, got {v!r}")
            for sub, number in v.items():
                if isinstance(number, bool) or not isinstance(number, (int, float)) or number < 0:
                    raise ConfigError(f"{path}: key '{key}.{k}.{sub}' must be a non-negative number, got {number!r}")


def validate(data: Any, path: Path) -> dict:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    for key, value in data.items():
        if key in SCHEMA[""]:
            _check_value(path, key, value, SCHEMA[""][key])
        elif key in SCHEMA:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: section '{key}' must be a mapping")
            for sub, subvalue in value.items():
                if sub not in SCHEMA[key]:
                    raise ConfigError(f"{path}: unknown key '{key}.{sub}' (known: {', '.join(SCHEMA[key])})")
                _check_value(path, f"{key}.{sub}", subvalue, SCHEMA[key][sub])
        else:
            known = ", ".join(k for k in list(SCHEMA[""]) + list(REQUIRED_SECTIONS))
            raise ConfigError(f"{path}: unknown key '{key}' (known: {known})")
    for key in SCHEMA[""]:
        if key not in data:
            raise ConfigError(f"{path}: missing key '{key}'")
    for section in REQUIRED_SECTIONS:
        missing = [k for k in SCHEMA[section] if k not in data.get(section, {})]
        if missing:
            raise ConfigError(f"{path}: missing key(s) {', '.join(repr(section + '.' + m) for m in missing)}")
    missing = [c for c in OP_CLASSES if c not in data["vector"]["op_classes"]]
    if missing:
        raise ConfigError(f"{path}: vector.op_classes lacks {', '.join(missing)} (every class needs its cost)")
    return data


def resolve_path(name_or_path: str | os.PathLike | None = None) -> Path:
    """A config name (file stem in configs/) or a path; default: $NPUSIM_CONFIG or the default."""
    choice = str(name_or_path or os.environ.get("NPUSIM_CONFIG") or DEFAULT_CONFIG)
    path = Path(choice)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise ConfigError(f"config file {path} does not exist")
        return path.resolve()
    candidate = CONFIGS_DIR / f"{choice}.yaml"
    if not candidate.exists():
        names = ", ".join(sorted(p.stem for p in CONFIGS_DIR.glob("*.yaml")))
        raise ConfigError(f"no NPU config named '{choice}' in {CONFIGS_DIR} (available: {names})")
    return candidate


def load(name_or_path: str | os.PathLike | None = None) -> NpuConfig:
    path = resolve_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    validate(data, path)
    return NpuConfig(name=data["name"], path=path, data=data)
