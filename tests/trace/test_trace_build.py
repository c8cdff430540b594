"""The simulator's build step: built on demand, rebuilt only when its sources change."""

from __future__ import annotations

from simulator.trace import build


def test_binary_is_reused_when_sources_are_unchanged():
    first = build.simulator_binary()
    mtime = first.stat().st_mtime_ns
    again = build.simulator_binary()
    assert again == first and again.stat().st_mtime_ns == mtime


def test_build_command_line_entry(capsys):
    assert build.main([]) == 0
    assert "npusim-trace-sim" in capsys.readouterr().out
