"""The run log: one JSON object per line (CONTRACTS.md section 5).

Appends are safe across processes (pytest -n): each event is one write() of a
complete line to a file opened with O_APPEND, under an advisory lock so lines
longer than PIPE_BUF never interleave either.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any, Iterator

ENV_VAR = "NPUSIM_RUNLOG"


class RunLogError(RuntimeError):
    """The run log cannot be written or read; the message names the path and the fix."""


def path() -> Path | None:
    value = os.environ.get(ENV_VAR)
    return Path(value) if value else None


def append(event: str, record: dict[str, Any] | None = None, *, log_path: Path | None = None) -> dict:
    """Append one event; returns the full record. No-op write when no run log is set."""
    full = {"event": event, **(record or {}), "pid": os.getpid(), "ts": time.time()}
    target = log_path or path()
    if target is None:
        return full
    line = (json.dumps(full, default=str, sort_keys=False) + "\n").encode()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise RunLogError(f"cannot append to the run log {target}: {exc.strerror or exc}; set {ENV_VAR} to a "
                          "writable file") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            written = os.write(fd, line)
            if written != len(line):
                raise OSError(f"short write to run log {target}: {written} of {len(line)} bytes")
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return full


def read(log_path: Path | None = None) -> Iterator[dict]:
    """Yield every event; a malformed line raises ValueError with its line number."""
    target = log_path or path()
    if target is None or not Path(target).exists():
        return
    with open(target, "rb") as handle:
        # Writers append under LOCK_EX; the shared lock keeps a reader from seeing half a line.
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        try:
            data = handle.read()
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    for number, line in enumerate(data.decode("utf-8").splitlines(keepends=True), 1):
        if not line.strip():
            continue
        if not line.endswith("\n"):
            break  # a line still being written by a writer that does not lock
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{target}:{number}: malformed run-log line: {exc}") from exc


def events(kind: str, log_path: Path | None = None, **match: Any) -> list[dict]:
    return [e for e in read(log_path) if e.get("event") == kind and all(e.get(k) == v for k, v in match.items())]
