"""NPU configs: every shipped file validates; each kind of mistake is a ConfigError naming key and file."""

from pathlib import Path

import pytest
import yaml

from npusim import config
from npusim.paths import CONFIGS_DIR

SHIPPED = sorted(CONFIGS_DIR.glob("*.yaml"))


def default_data() -> dict:
    return yaml.safe_load((CONFIGS_DIR / f"{config.DEFAULT_CONFIG}.yaml").read_text())


def write(tmp_path: Path, data: dict, name: str = "custom.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_configs_are_shipped():
    names = {p.stem for p in SHIPPED}
    assert config.DEFAULT_CONFIG in names
    assert "tpuv3-2core" in names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_config_loads(path):
    cfg = config.load(path.stem)
    assert cfg.path == path
    assert cfg.name == path.stem, "the name recorded in the run log must match the file name"
    for section in config.REQUIRED_SECTIONS:
        assert set(cfg[section]) == set(config.SCHEMA[section])


def test_two_core_variant_differs_only_in_cores():
    one, two = config.load("tpuv3-1core").data, config.load("tpuv3-2core").data
    assert one["core"]["count"] == 1 and two["core"]["count"] == 2
    for section in ("vector", "scratchpad", "systolic", "dma", "dram", "noc"):
        assert one[section] == two[section]


def test_good_custom_file_loads_by_path(tmp_path):
    data = default_data()
    data["name"] = "custom"
    data["core"]["count"] = 4
    data["core"]["freq_mhz"] = 1000  # an int where a float is expected is fine
    cfg = config.load(write(tmp_path, data))
    assert (cfg.name, cfg["core"]["count"]) == ("custom", 4)
    assert cfg.tile_elems(32) == 128 * (256 // 32)
    assert cfg.scratchpad_bytes == 128 * 1024 * 128


def mutate_unknown_key(d):
    d["dram"]["bandwith"] = 3


def mutate_unknown_top_level_key(d):
    d["flavour"] = "x"


def mutate_unknown_section(d):
    d["tensor_core"] = {"count": 1}


def mutate_wrong_type(d):
    d["vector"]["lanes"] = "128"


def mutate_bool_for_int(d):
    d["core"]["count"] = True


def mutate_out_of_range(d):
    d["core"]["count"] = 0


def mutate_above_maximum(d):
    d["scratchpad"]["buffers_per_operand"] = 9


def mutate_missing_key(d):
    del d["dram"]["read_latency_cycles"]


def mutate_missing_top_level_key(d):
    del d["name"]


def mutate_missing_section(d):
    del d["noc"]


def mutate_section_not_mapping(d):
    d["dma"] = 16


def mutate_bad_cost_table(d):
    d["vector"]["op_classes"]["special"]["issue_cycles"] = -1


@pytest.mark.parametrize(
    "mutate, key",
    [
        (mutate_unknown_key, "dram.bandwith"),
        (mutate_unknown_top_level_key, "flavour"),
        (mutate_unknown_section, "tensor_core"),
        (mutate_wrong_type, "vector.lanes"),
        (mutate_bool_for_int, "core.count"),
        (mutate_out_of_range, "core.count"),
        (mutate_above_maximum, "scratchpad.buffers_per_operand"),
        (mutate_missing_key, "dram.read_latency_cycles"),
        (mutate_missing_top_level_key, "name"),
        (mutate_missing_section, "noc.latency_cycles"),
        (mutate_section_not_mapping, "dma"),
        (mutate_bad_cost_table, "vector.op_classes.special.issue_cycles"),
    ],
    ids=lambda v: v.__name__.removeprefix("mutate_") if callable(v) else None,
)
def test_bad_config_names_key_and_file(tmp_path, mutate, key):
    data = default_data()
    mutate(data)
    path = write(tmp_path, data, "broken.yaml")
    with pytest.raises(config.ConfigError) as caught:
        config.load(path)
    message = str(caught.value)
    assert f"'{key}'" in message, message
    assert str(path) in message


def test_not_yaml_names_file(tmp_path):
    path = tmp_path / "garbage.yaml"
    path.write_text("core: [unclosed\n")
    with pytest.raises(config.ConfigError, match="garbage.yaml"):
        config.load(path)


def test_selection_default_by_name_and_by_path(tmp_path, monkeypatch):
    assert config.load().name == config.DEFAULT_CONFIG
    monkeypatch.setenv("NPUSIM_CONFIG", "tpuv3-2core")
    assert config.load().name == "tpuv3-2core"
    data = default_data()
    data["name"] = "from-path"
    monkeypatch.setenv("NPUSIM_CONFIG", str(write(tmp_path, data)))
    assert config.load().name == "from-path"
    assert config.load("small-8x8").name == "small-8x8", "an explicit choice beats the environment"


def test_unknown_name_and_missing_file_are_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("NPUSIM_CONFIG", "no-such-npu")
    with pytest.raises(config.ConfigError, match="no-such-npu.*available: .*tpuv3-1core"):
        config.load()
    with pytest.raises(config.ConfigError, match="does not exist"):
        config.load(tmp_path / "absent.yaml")
