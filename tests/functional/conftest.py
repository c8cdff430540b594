"""Fixtures for the functional-path tests: an artifact cache shared by the
session (artifacts are keyed by hash, so sharing is safe and saves builds),
no run log, and the hand-written kernel fixtures in data/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def functional_env(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NPUSIM_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "functional-cache"))
    monkeypatch.delenv("NPUSIM_RUNLOG", raising=False)
    monkeypatch.delenv("NPUSIM_FUNCTIONAL", raising=False)


def fixture_kernel(name: str) -> tuple[Path, dict]:
    """(path of data/<name>.mlir, its kernel.json dict)."""
    return DATA / f"{name}.mlir", json.loads((DATA / f"{name}.json").read_text())


@pytest.fixture
def add_kernel():
    return fixture_kernel("add")


@pytest.fixture
def rowsum_kernel():
    return fixture_kernel("rowsum")


@pytest.fixture
def math_kernel():
    return fixture_kernel("mathfuncs")


@pytest.fixture
def wide_kernel():
    return fixture_kernel("wide")
