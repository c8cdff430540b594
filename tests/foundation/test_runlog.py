"""Run log: several processes appending at once lose nothing and never interleave lines."""

import json
import subprocess
import sys
import textwrap
from collections import Counter

import pytest

from npusim import runlog
from npusim.paths import REPO_ROOT

WRITERS = 6
EVENTS_PER_WRITER = 250
BIG_EVERY = 5  # every 5th event carries a payload far beyond PIPE_BUF (4096)
BIG_BYTES = 20_000

WRITER_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from npusim import runlog
    writer, count, big_every, big_bytes, go = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5])
    while not go.exists():  # start together so the appends really contend
        time.sleep(0.001)
    for seq in range(count):
        payload = chr(ord("a") + writer) * (big_bytes if seq % big_every == 0 else 10)
        runlog.append("launch", {"kernel": f"k{writer}", "writer": writer, "seq": seq, "payload": payload})
    """
)


def test_concurrent_appends_are_whole_lines_and_none_lost(tmp_path, monkeypatch):
    log = tmp_path / "logs" / "run.jsonl"  # parent created on first append
    go = tmp_path / "go"
    monkeypatch.setenv(runlog.ENV_VAR, str(log))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER_SCRIPT, str(w), str(EVENTS_PER_WRITER), str(BIG_EVERY), str(BIG_BYTES), str(go)],
            cwd=REPO_ROOT,
        )
        for w in range(WRITERS)
    ]
    go.touch()
    for proc in procs:
        assert proc.wait(timeout=60) == 0

    lines = log.read_bytes().split(b"\n")
    assert lines[-1] == b"", "the log must end with a newline"
    lines = lines[:-1]
    assert len(lines) == WRITERS * EVENTS_PER_WRITER
    seen = Counter()
    long_lines = 0
    for number, line in enumerate(lines, 1):
        event = json.loads(line)  # raises on any torn or interleaved line
        writer = event["writer"]
        expected = chr(ord("a") + writer) * (BIG_BYTES if event["seq"] % BIG_EVERY == 0 else 10)
        assert event["payload"] == expected, f"line {number}: payload corrupted"
        assert event["event"] == "launch" and event["kernel"] == f"k{writer}"
        assert isinstance(event["pid"], int) and isinstance(event["ts"], float)
        seen[(writer, event["seq"])] += 1
        long_lines += len(line) > 4096
    assert set(seen) == {(w, s) for w in range(WRITERS) for s in range(EVENTS_PER_WRITER)}
    assert max(seen.values()) == 1, "an event was written twice"
    assert long_lines == WRITERS * EVENTS_PER_WRITER // BIG_EVERY
    assert len(runlog.events("launch", log, writer=3)) == EVENTS_PER_WRITER


def test_append_uses_env_path_and_returns_record(tmp_path, monkeypatch):
    log = tmp_path / "run.jsonl"
    monkeypatch.setenv(runlog.ENV_VAR, str(log))
    record = runlog.append("compile", {"kernel": "npusim_add_0", "kernel_hash": "abc", "wall_s": 0.5})
    assert record["event"] == "compile" and record["kernel"] == "npusim_add_0"
    assert list(runlog.read()) == [record]
    assert runlog.events("compile", kernel="npusim_add_0") == [record]
    assert runlog.events("launch") == []


def test_append_without_log_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    record = runlog.append("compile", {"kernel": "k"})
    assert record["event"] == "compile"
    assert runlog.path() is None and list(runlog.read()) == []
    assert list(tmp_path.iterdir()) == []


def test_malformed_line_is_reported_with_its_number(tmp_path):
    log = tmp_path / "run.jsonl"
    runlog.append("compile", {"kernel": "k"}, log_path=log)
    with open(log, "a") as handle:
        handle.write('{"event": "launch", "kernel": \n')
    with pytest.raises(ValueError, match=r"run.jsonl:2: malformed"):
        list(runlog.read(log))


def test_an_unwritable_run_log_is_one_clear_error(tmp_path):
    from npusim.runlog import RunLogError

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    target = blocker / "runlog.jsonl"
    with pytest.raises(RunLogError) as error:
        runlog.append("launch", {"kernel": "k"}, log_path=target)
    assert str(target) in str(error.value) and "NPUSIM_RUNLOG" in str(error.value)
