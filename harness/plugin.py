"""The npusim pytest plugin: every hook of the harness, in one module.

Loaded by the root conftest.py and by the `pytest11` entry point. It is inert
for ordinary tests: it only collects `ops.py` suite modules.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from harness import options
from harness.collect import STATE_KEY, CaseItem, CaseUnsupported, NpusimItem, OpSpecModule, failure_sections
from harness.session import HarnessState
from reports.schema import Prop, Status

pytest_plugins = ["harness.fixtures"]


def pytest_addoption(parser):
    options.register(parser)


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    from npusim import config as npu_config

    choice = config.getoption("--npu-config")
    if choice:
        os.environ["NPUSIM_CONFIG"] = str(choice)
    try:
        loaded = npu_config.load()
    except npu_config.ConfigError as error:
        raise pytest.UsageError(f"npusim: {error}") from None
    functional = config.getoption("--functional")
    if functional:
        # three-way: Spike gives the case's values and metrics, the host JIT a second opinion
        os.environ["NPUSIM_FUNCTIONAL"] = "spike" if functional == "both" else functional
    out = config.getoption("--npusim-out") or os.environ.get("NPUSIM_OUT")
    if not out:
        from npusim.paths import cache_dir

        out = str(cache_dir() / "runs" / time.strftime("%Y%m%d-%H%M%S")) + f"-{os.getpid()}"
    if not _is_worker(config):
        # Workers inherit the environment the controller sets here.
        os.environ["NPUSIM_OUT"] = out
        os.environ.setdefault("NPUSIM_RUNLOG", str(Path(out) / "runlog.jsonl"))
    config.stash[STATE_KEY] = HarnessState(out_dir=Path(out))
    # A Dynamo recompile limit hit would silently run the function eagerly: make it an error.
    import torch._dynamo

    torch._dynamo.config.fail_on_recompile_limit_hit = True
    # torch's structured-trace logger emits empty DEBUG records that flood failure reports
    # (unless the user asked for a trace with TORCH_TRACE).
    if not os.environ.get("TORCH_TRACE"):
        logging.getLogger("torch.__trace").addFilter(lambda record: False)
    config.npusim_config_name = loaded.name


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """All cases of one op in one worker (see harness/scheduling.py); only for the default `load` mode."""
    if config.getvalue("dist") in ("load", "loadgroup"):
        from harness.scheduling import OpGroupScheduling

        return OpGroupScheduling(config, log)
    return None


def pytest_collection_finish(session):
    """Remember which cases are selected (after -k, shards, ...): a sweep checks only those."""
    if STATE_KEY not in session.config.stash:
        return
    selected = session.config.stash[STATE_KEY].selected
    for item in session.items:
        if isinstance(item, CaseItem):
            selected.setdefault(item.op_key, set()).add(tuple(item.sizes.items()))


# The OpInfo suite (~5,900 cases, hours on 2 cores) runs when asked for: named on the command line
# (`pytest suites/opinfo`), or NPUSIM_OPINFO=1 (`npusim nightly` sets it for its shard of the suite,
# NPUSIM_OPINFO_SHARD; --opinfo for all of it). A plain `pytest suites` leaves it out.
OPINFO_DIR = "opinfo"


def pytest_ignore_collect(collection_path: Path, config):
    if collection_path.name != OPINFO_DIR or collection_path.parent.name != "suites":
        return None
    if os.environ.get("NPUSIM_OPINFO") == "1":
        return None
    named = any(Path(arg.split("::")[0]).resolve().is_relative_to(collection_path.resolve())
                for arg in config.args)
    return None if named else True


def pytest_collect_file(file_path: Path, parent):
    if file_path.name == "ops.py":
        return OpSpecModule.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not isinstance(item, NpusimItem) or report.when not in ("setup", "call"):
        return
    if report.when == "setup" and report.passed:
        return
    status = _status(item, report, call)
    item.properties[Prop.STATUS] = status
    if report.failed or status == Status.UNSUPPORTED:
        for name, text in failure_sections(item, item.config.getoption("--sizes")):
            report.sections.append((name, text))
    # JUnit takes properties from the teardown report, which copies item.user_properties.
    item.user_properties[:] = [(k, v) for k, v in item.user_properties if not k.startswith("npusim.")]
    item.user_properties.extend(item.properties.items())
    report.user_properties = list(item.user_properties)


def _status(item, report, call) -> str:
    if hasattr(report, "wasxfail"):
        if report.skipped:
            unsupported = call.excinfo is not None and isinstance(call.excinfo.value, CaseUnsupported)
            return Status.UNSUPPORTED if unsupported else Status.XFAIL
        return Status.XPASS
    if item.status == Status.UNSUPPORTED:
        return Status.UNSUPPORTED
    if report.skipped:
        return Status.SKIP
    if report.failed:
        return Status.FAIL if report.when == "call" else Status.ERROR
    return Status.PASS


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if STATE_KEY not in config.stash or _is_worker(config):
        return
    stats = terminalreporter.stats
    npusim_reports = [r for key in ("passed", "failed", "error", "skipped", "xfailed", "xpassed") for r in stats.get(key, [])
                      if any(name == Prop.STATUS for name, _ in getattr(r, "user_properties", []))]
    if not npusim_reports:
        return
    counts: dict[str, int] = {}
    for report in npusim_reports:
        status = dict(report.user_properties).get(Prop.STATUS)
        counts[status] = counts.get(status, 0) + 1
    terminalreporter.section("npusim")
    terminalreporter.write_line("cases by status: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    terminalreporter.write_line(f"run log: {os.environ.get('NPUSIM_RUNLOG')}")
    terminalreporter.write_line(f"case artifacts: {config.stash[STATE_KEY].out_dir / 'cases'}")
