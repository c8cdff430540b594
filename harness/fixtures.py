"""Fixtures for suites that write ordinary test functions next to their ops.py specs."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def npu_config():
    """The validated NPU config of this run (--npu-config / NPUSIM_CONFIG)."""
    from npusim import config

    return config.load()


@pytest.fixture
def npusim_compile():
    """torch.compile with the npusim backend and dynamic shapes."""
    import torch

    import compiler  # noqa: F401

    def compile_fn(fn):
        return torch.compile(fn, backend="npusim", dynamic=True)

    return compile_fn


@pytest.fixture
def run_log():
    """Events appended to the run log by this test's process since the test started."""
    import os
    import time

    from npusim import runlog

    started = time.time()

    def read(kind: str | None = None):
        pid = os.getpid()
        return [e for e in runlog.read() if e.get("pid") == pid and e.get("ts", 0) >= started
                and (kind is None or e.get("event") == kind)]

    return read
