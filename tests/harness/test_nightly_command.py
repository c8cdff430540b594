"""The nightly's pytest command: what `npusim nightly` / `make run` checks by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import nightly


def _command(*argv: str) -> list[str]:
    return nightly.pytest_command(nightly.parse(list(argv)), None, Path("junit.xml"), several=False)


def test_hardware_monotonicity_is_checked_by_default():
    assert "--hardware-monotonic" in _command()
    assert "--hardware-monotonic" in _command("--sizes", "smoke")


def test_no_hardware_monotonic_opts_out():
    assert "--hardware-monotonic" not in _command("--no-hardware-monotonic")


def test_a_suite_is_a_path_or_a_name_under_suites(capsys):
    """`--suites elementwise` ran no case (pytest's exit 5): a name under suites/ is that suite."""
    assert _command("--suites", "elementwise")[3] == "suites/elementwise"
    assert _command("--suites", "suites/matmul", "conv")[3:5] == ["suites/matmul", "suites/conv"]
    assert _command()[3] == "suites"
    with pytest.raises(SystemExit):
        _command("--suites", "elementwis")
    err = capsys.readouterr().err
    assert "no suite 'elementwis'" in err and "elementwise" in err, err
