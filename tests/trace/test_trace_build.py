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


def test_target_level_follows_the_cpu_flags(tmp_path, monkeypatch):
    monkeypatch.setattr(build.platform, "machine", lambda: "x86_64")
    full = tmp_path / "full"
    full.write_text("processor\t: 0\nflags\t\t: fpu " + " ".join(sorted(build.X86_64_V3_CPU_FLAGS)) + " avx512f\n")
    assert build.target_flags(full) == ["-march=x86-64-v3"]
    missing = tmp_path / "missing"
    missing.write_text("flags\t\t: fpu " + " ".join(sorted(build.X86_64_V3_CPU_FLAGS - {"bmi2"})) + "\n")
    assert build.target_flags(missing) == []
    assert build.target_flags(tmp_path / "absent") == []
    monkeypatch.setattr(build.platform, "machine", lambda: "aarch64")
    assert build.target_flags(full) == []
