"""Helpers shared by the trace-path tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from npusim import config as npu_config

# The trace fixtures (kernel MLIR, kernel metadata, cost tables, C++ checks). Imported from here, not
# from conftest: with several test folders in one run, `conftest` names another folder's module.
DATA = Path(__file__).resolve().parent / "data"


def fixture_kernel(name: str) -> dict:
    """The kernel `name` of tests/trace/data, as simulate() takes it: its MLIR and metadata."""
    return {"mlir": (DATA / f"{name}.mlir").read_text(), "meta": json.loads((DATA / f"{name}.json").read_text())}


def config_variant(name: str = "tpuv3-1core", **changes) -> dict:
    """A validated copy of a config with `section__key=value` changes."""
    data = copy.deepcopy(npu_config.load(name).data)
    for key, value in changes.items():
        section, field = key.split("__")
        data[section][field] = value
    data["name"] = f"{data['name']}-variant"
    npu_config.validate(data, Path("<test variant>"))
    return data
