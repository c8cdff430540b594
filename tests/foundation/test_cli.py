"""The `npusim` command: config subcommands and delegation to reports / harness."""

import subprocess
import sys
import types

import pytest
import yaml

from npusim import cli, config
from npusim.paths import REPO_ROOT


def npusim(*args, env=None):
    return subprocess.run([sys.executable, "-m", "npusim.cli", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_config_show_prints_the_validated_default():
    proc = npusim("config", "show")
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load(proc.stdout) == config.load(config.DEFAULT_CONFIG).data
    assert proc.stdout.startswith(f"# {config.DEFAULT_CONFIG}: ")


def test_config_show_by_name_and_env(monkeypatch, capsys):
    assert cli.main(["config", "show", "tpuv3-2core"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["core"]["count"] == 2
    monkeypatch.setenv("NPUSIM_CONFIG", "small-8x8")
    assert cli.main(["config", "show"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["name"] == "small-8x8"


def test_config_show_unknown_name_fails(capsys):
    assert cli.main(["config", "show", "no-such-npu"]) == 1
    assert "no-such-npu" in capsys.readouterr().err


def test_config_check(tmp_path, capsys):
    good = REPO_ROOT / "configs" / "tpuv3-1core.yaml"
    bad = tmp_path / "bad.yaml"
    data = yaml.safe_load(good.read_text())
    data["dma"]["queue_depth"] = "deep"
    bad.write_text(yaml.safe_dump(data))
    assert cli.main(["config", "check", str(good)]) == 0
    assert cli.main(["config", "check", str(good), str(bad)]) == 1
    captured = capsys.readouterr()
    assert f"ok: {good}" in captured.out
    assert "'dma.queue_depth'" in captured.err and str(bad) in captured.err


def test_config_list_and_schema(capsys):
    assert cli.main(["config", "list"]) == 0
    listing = capsys.readouterr().out
    assert "* tpuv3-1core" in listing and "tpuv3-2core" in listing
    assert cli.main(["config", "schema"]) == 0
    schema = capsys.readouterr().out
    for section, fields in config.SCHEMA.items():
        for key in fields:
            assert (f"{section}.{key}" if section else key) in schema


def test_delegated_command_gets_its_arguments(monkeypatch):
    received = {}
    fake = types.ModuleType("fake_reports_cli")

    def report_main(argv):
        received["argv"] = argv
        return 3

    fake.report_main = report_main
    monkeypatch.setitem(sys.modules, "fake_reports_cli", fake)
    monkeypatch.setitem(cli.DELEGATED, "report", ("fake_reports_cli", "report_main", "x"))
    assert cli.main(["report", "--out", "dir", "-h"]) == 3
    assert received["argv"] == ["--out", "dir", "-h"]


def test_absent_delegate_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setitem(cli.DELEGATED, "nightly", ("npusim_absent_pkg.nightly", "main", "x"))
    assert cli.main(["nightly"]) == 2
    err = capsys.readouterr().err
    assert "npusim nightly" in err and "npusim_absent_pkg.nightly is not available" in err


def test_import_error_inside_a_delegate_propagates(monkeypatch, tmp_path):
    (tmp_path / "broken_delegate.py").write_text("import npusim_dependency_that_is_absent\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.DELEGATED, "diff", ("broken_delegate", "diff_main", "x"))
    with pytest.raises(ModuleNotFoundError, match="npusim_dependency_that_is_absent"):
        cli.main(["diff"])
