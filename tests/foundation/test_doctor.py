"""`npusim doctor` passes on this machine, and names dtc when dtc is not on PATH."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from npusim import doctor
from npusim.paths import REPO_ROOT

COMPONENT_NAMES = [c.name for c in doctor.COMPONENTS]


def run_doctor(env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "npusim.cli", "doctor"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def status_of(output: str) -> dict[str, str]:
    """Component name -> first word after it (ok / MISSING / BROKEN)."""
    found = {}
    for name in COMPONENT_NAMES:
        match = re.search(rf"^  {re.escape(name)}\s+(ok|MISSING|BROKEN)\b", output, re.MULTILINE)
        found[name] = match.group(1) if match else "absent"
    return found


def test_doctor_passes_and_prints_every_component():
    proc = run_doctor()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert status_of(proc.stdout) == {name: "ok" for name in COMPONENT_NAMES}, proc.stdout
    assert "torch 2.13.0" in proc.stdout
    assert f"all {len(COMPONENT_NAMES)} components ok" in proc.stdout


def path_without(tool: str, scratch: Path) -> str:
    """A PATH of one directory holding symlinks to every executable on PATH except `tool`."""
    scratch.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not directory or not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            link = scratch / entry.name
            if entry.name == tool or link.exists() or link.is_symlink():
                continue
            if entry.is_file() and os.access(entry.path, os.X_OK):
                link.symlink_to(entry.path)
    return str(scratch)


def test_doctor_fails_naming_dtc_when_dtc_is_not_on_path(tmp_path):
    path = path_without("dtc", tmp_path / "bin")
    env = {**os.environ, "PATH": path}
    check = subprocess.run(["sh", "-c", "command -v dtc"], env=env, capture_output=True)
    assert check.returncode != 0, "the scratch PATH must not find dtc"
    proc = run_doctor(env)
    assert proc.returncode != 0, proc.stdout
    status = status_of(proc.stdout)
    assert status["dtc"] == "MISSING", proc.stdout
    assert status["spike"] == "MISSING", "spike needs dtc at start-up"
    assert {n for n, s in status.items() if s != "ok"} == {"dtc", "spike"}, proc.stdout
    assert "apt-get install device-tree-compiler" in proc.stdout
    assert "missing or broken: dtc, spike" in proc.stdout


def test_riscv_elf_flags_reject_a_host_object():
    # The zig check trusts this parser to reject an x86-64 object.
    with pytest.raises(ValueError, match="not RISC-V"):
        doctor._elf_riscv64_flags(Path(sys.executable).resolve())
