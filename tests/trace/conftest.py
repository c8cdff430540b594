"""Fixtures of the trace-path tests: a private artifact cache, the fixtures'
kernels and hand-written producers built once per session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trace_helpers import DATA, fixture_kernel


@pytest.fixture(scope="session")
def trace_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("npusim-cache")


@pytest.fixture(autouse=True)
def _private_cache(trace_cache, monkeypatch):
    monkeypatch.setenv("NPUSIM_CACHE_DIR", str(trace_cache))


@pytest.fixture(scope="session")
def add_kernel() -> dict:
    return fixture_kernel("add")


@pytest.fixture(scope="session")
def rowsum_kernel() -> dict:
    return fixture_kernel("rowsum")


@pytest.fixture(scope="session")
def scatter_kernel() -> dict:
    """(a + b) stored transposed: element x of the (rows, ks0) sum goes to column-major place."""
    return fixture_kernel("scatter")


@pytest.fixture(scope="session")
def gather_kernel() -> dict:
    return fixture_kernel("gather")


@pytest.fixture(scope="session")
def softmax_kernel() -> dict:
    return fixture_kernel("softmax")


@pytest.fixture(scope="session")
def add_cost() -> Path:
    return DATA / "add_cost.json"


@pytest.fixture(scope="session")
def rowsum_cost() -> Path:
    return DATA / "rowsum_cost.json"


@pytest.fixture(scope="session")
def softmax_cost() -> Path:
    return DATA / "softmax_cost.json"


@pytest.fixture(scope="session")
def producer_builder(tmp_path_factory):
    """build(define) -> a trace.so + trace_info.json from handwritten_producer.cpp."""
    from simulator.trace.emitc import compile_shared_object

    root = tmp_path_factory.mktemp("producers")
    built: dict[str, Path] = {}

    def build(define: str) -> tuple[Path, Path]:
        if define not in built:
            so = root / f"{define.lower()}.so"
            compile_shared_object(f"#define {define}\n" + (DATA / "handwritten_producer.cpp").read_text(), so)
            built[define] = so
        info = root / "info.json"
        info.write_text(json.dumps({"spads": [{"id": i, "bytes": 65536} for i in range(3)], "size_args": ["tiles"]}))
        return built[define], info

    return build


@pytest.fixture(scope="session")
def compiler_sum_kernel() -> dict:
    """x.sum(-1) as the compiler emits it: the row's result stored into its scratchpad outside compute."""
    return fixture_kernel("compiler_sum")
