"""Fixtures for compiler tests: an isolated artifact cache and run log per test."""

from __future__ import annotations

import pytest
import torch



@pytest.fixture
def npusim_env(tmp_path_factory, tmp_path, monkeypatch):
    """Shared cache per session (artifacts are keyed by hash), a fresh run log per test."""
    cache = tmp_path_factory.getbasetemp() / "npusim-cache"
    monkeypatch.setenv("NPUSIM_CACHE_DIR", str(cache))
    log = tmp_path / "runlog.jsonl"
    monkeypatch.setenv("NPUSIM_RUNLOG", str(log))
    monkeypatch.setenv("NPUSIM_FUNCTIONAL", "host")
    monkeypatch.setenv("NPUSIM_TRACE", "0")
    torch._dynamo.reset()
    yield log
    torch._dynamo.reset()


@pytest.fixture
def spike_env(npusim_env, monkeypatch):
    """npusim_env with values from Spike and cycles from the trace simulator."""
    monkeypatch.setenv("NPUSIM_FUNCTIONAL", "spike")
    monkeypatch.setenv("NPUSIM_TRACE", "1")
    return npusim_env
