"""The OpInfo suite's expectations: which cases do not pass, with their class and reason.

`expectations.yaml` is generated (`python -m suites.opinfo.regenerate`) and
reviewed in diffs. Every case listed there is an expected failure of exactly
its class, strictly: a case that now passes XPASSes (fails the run: take it
out by regenerating), and a case that fails in another class, or a case not
listed that fails, fails the run.

Classes, from a case's exception:
* unsupported: the backend refused an op (UnsupportedOp); the reason names it;
* no-kernel: values came back but no npusim kernel produced them (not a view);
* wrong: values differ from eager beyond the tolerance;
* timeout: the case ran longer than the suite's timeout;
* recompile: a sweep's compile-once check failed (a compile after the first size);
* check: another harness check failed (cycle monotonicity, trace scaling, the physical floor);
* graph-break: Dynamo cannot trace the op into one graph (fullgraph=True: a data-dependent guard or
  size, `.item()`, a function Dynamo skips), so nothing reached the backend; loud, like a refusal;
* crash: any other exception (in tracing, lowering, Spike, the trace simulator).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

# NPUSIM_OPINFO_EXPECTATIONS: another file (the project's tests use one of their own)
PATH = Path(os.environ.get("NPUSIM_OPINFO_EXPECTATIONS") or Path(__file__).with_name("expectations.yaml"))
VERSION = 1
# An op's class is its worst case's (an op with one crashing sample is a crash).
CLASSES = ("crash", "wrong", "timeout", "no-kernel", "recompile", "check", "graph-break", "unsupported")
PASS = "pass"

_REFUSED = re.compile(r"cannot lower op '([^']+)'")


def refused_op(message: str) -> str | None:
    match = _REFUSED.search(message or "")
    return match.group(1) if match else None


def classify(exc: BaseException | None) -> str | None:
    """The class of a failed case from its exception (None: it did not fail)."""
    if exc is None:
        return None
    from harness.collect import CaseUnsupported

    if isinstance(exc, CaseUnsupported):
        return "unsupported"
    message = str(exc)
    import torch._dynamo.exc

    if isinstance(exc, (torch._dynamo.exc.Unsupported, torch._dynamo.exc.UserError)):
        return "graph-break"  # UserError: a data-dependent guard (one_hot's num_classes=-1)
    if type(exc).__name__ == "Failed" and message.startswith("Timeout"):  # pytest-timeout
        return "timeout"
    if isinstance(exc, AssertionError):
        if "launched no npusim kernel" in message or "did not launch" in message:
            return "no-kernel"
        if message.startswith("recompiled:"):  # checks.check_compile_once
            return "recompile"
        if "not close" in message or "mismatch" in message.lower() or "do not match" in message \
                or "but got" in message or "is not equal" in message:
            return "wrong"
        return "check"
    return "crash"


def reason_of(exc: BaseException, klass: str) -> str:
    message = str(exc).strip()
    if klass == "unsupported":
        op = refused_op(message)
        return f"refuses {op}" if op else message.splitlines()[0][:200]
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    # torch.compile wraps backend errors: the last line is usually the original exception
    head = lines[0] if lines else type(exc).__name__
    if head.startswith("backend='npusim' raised") and len(lines) > 1:
        head = lines[1]
    return f"{type(exc).__name__}: {head}"[:200]


class Expected:
    """An xfail `raises` that matches only its own class (and, for unsupported, the op refused)."""

    @staticmethod
    def of(klass: str, op: str | None = None) -> type:
        def check(cls, exc):
            if classify(exc) != klass:
                return False
            return op is None or refused_op(str(exc)) == op

        meta = type(f"Expected_{klass.replace('-', '_')}", (type,), {"__instancecheck__": check})
        return meta(f"expected_{klass.replace('-', '_')}", (), {})


def load(path: Path = PATH) -> dict:
    """{"ops": {op: {"class", "reason", "family", "cases": {case name: {"class", "reason"}}}}}."""
    if not path.exists():
        return {"version": VERSION, "ops": {}}
    data = yaml.safe_load(path.read_text()) or {}
    if data.get("version") != VERSION:
        raise ValueError(f"{path}: expectations version {data.get('version')!r}, expected {VERSION}; "
                         "regenerate it with python -m suites.opinfo.regenerate")
    data.setdefault("ops", {})
    return data


def case_expectations(data: dict) -> dict[str, dict]:
    """case name -> {"class", "reason"} over every op."""
    return {case: entry for op in (data.get("ops") or {}).values() for case, entry in (op.get("cases") or {}).items()}


def op_class(case_classes: list[str]) -> str:
    """An op's class from its cases' classes (pass, skip or a failure class each)."""
    failures = [c for c in case_classes if c in CLASSES]
    if not failures:
        return PASS
    return min(failures, key=CLASSES.index)


def dump(data: dict, path: Path = PATH) -> None:
    header = ("# Generated by `python -m suites.opinfo.regenerate` from a run of suites/opinfo: review it in\n"
              "# diffs, never edit by hand. Every op that does not pass, with its class and reason; each case\n"
              "# listed is a strict expected failure of its class (suites/opinfo/expectations.py).\n")
    body = yaml.safe_dump(data, sort_keys=True, width=120, allow_unicode=True)
    path.write_text(header + body)
