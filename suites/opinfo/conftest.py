"""The OpInfo suite's hooks: expectations as strict per-class xfails, host values for the
large size, a per-case timeout, and each case's class recorded as a JUnit property."""

from __future__ import annotations

import os

import pytest

from harness.collect import CaseItem, NpusimItem, functional_values
from suites.opinfo import catalog, expectations

CLASS_PROP = "npusim.opinfo_class"
OP_PROP = "npusim.opinfo_op"
FAMILY_PROP = "npusim.opinfo_family"
# A case (one compile and one Spike run of a small sample) takes seconds; a minute is a hang.
TIMEOUT_S = int(os.environ.get("NPUSIM_OPINFO_TIMEOUT", "60"))


def _opinfo_items(items):
    return [item for item in items if isinstance(item, NpusimItem) and isinstance(item.spec, catalog.OpInfoSpec)]


def pytest_collection_modifyitems(config, items):
    # NPUSIM_OPINFO_EXPECT=off: raw outcomes (what `regenerate` runs)
    expected = {} if os.environ.get("NPUSIM_OPINFO_EXPECT") == "off" else expectations.case_expectations(
        expectations.load())
    from compiler.tiling import base_tile
    from harness.spec import DTYPE_BITS
    from npusim import config as npu_config

    npu = npu_config.load()
    for item in _opinfo_items(items):
        if isinstance(item, CaseItem):
            item.add_marker(pytest.mark.timeout(TIMEOUT_S))
            sizes = catalog.swept_sizes(item.spec, base_tile(npu, DTYPE_BITS[item.dtype]), item.dtype)
            host = {size for size, on_host in sizes if on_host}
            if item.sizes.get(catalog.SWEPT) in host:
                item.opinfo_host_values = True
        entry = expected.get(item.name)
        if entry:
            klass = entry["class"]
            op = expectations.refused_op(f"cannot lower op '{entry['reason'][len('refuses '):]}'") \
                if klass == "unsupported" and entry["reason"].startswith("refuses ") else None
            item.add_marker(pytest.mark.xfail(strict=True, raises=expectations.Expected.of(klass, op),
                                              reason=f"{klass}: {entry['reason']}"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """The large size's values come from the host JIT (same kernel MLIR; Spike would take minutes)."""
    if not getattr(item, "opinfo_host_values", False):
        yield
        return
    item.properties["npusim.functional"] = "host"
    with functional_values("host"):
        yield


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Record the case's class (pass, skip or a failure class) for the expectations and the report."""
    if not isinstance(item, NpusimItem) or not isinstance(item.spec, catalog.OpInfoSpec):
        return None
    if call.when == "setup" and call.excinfo is None:
        return None
    if call.when not in ("setup", "call"):
        return None
    exc = call.excinfo.value if call.excinfo is not None else None
    if exc is not None and isinstance(exc, pytest.skip.Exception):
        klass, reason = "skip", str(exc)[:200]
    else:
        klass = expectations.classify(exc) or expectations.PASS
        reason = expectations.reason_of(exc, klass) if exc is not None else ""
    item.properties.update({OP_PROP: item.spec.opinfo, FAMILY_PROP: item.spec.opinfo_family,
                            CLASS_PROP: klass, "npusim.opinfo_reason": reason})
    return None
