"""The nightly's pytest command: what `npusim nightly` / `make run` checks by default."""

from __future__ import annotations

from pathlib import Path

from harness import nightly


def _command(*argv: str) -> list[str]:
    return nightly.pytest_command(nightly.parse(list(argv)), None, Path("junit.xml"), several=False)


def test_hardware_monotonicity_is_checked_by_default():
    assert "--hardware-monotonic" in _command()
    assert "--hardware-monotonic" in _command("--sizes", "smoke")


def test_no_hardware_monotonic_opts_out():
    assert "--hardware-monotonic" not in _command("--no-hardware-monotonic")
