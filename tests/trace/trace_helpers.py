"""Helpers shared by the trace-path tests."""

from __future__ import annotations

import copy
from pathlib import Path

from npusim import config as npu_config


def config_variant(name: str = "tpuv3-1core", **changes) -> dict:
    """A validated copy of a config with `section__key=value` changes."""
    data = copy.deepcopy(npu_config.load(name).data)
    for key, value in changes.items():
        section, field = key.split("__")
        data[section][field] = value
    data["name"] = f"{data['name']}-variant"
    npu_config.validate(data, Path("<test variant>"))
    return data
