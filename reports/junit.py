"""Read pytest JUnit XML (xunit1, one file per shard), merge shards, and turn
test cases into CaseResult records.

A case is identified by ``classname::name`` (pytest's dotted module path and
the test id, e.g. ``suites.elementwise.test_binary::add[f32-N=1000]``), which is
stable across runs, shards and xdist workers.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator
from xml.etree.ElementTree import ParseError

from junitparser import Error, Failure, JUnitXml, JUnitXmlError, Skipped, TestCase, TestSuite

from reports.schema import (
    SUMMARY_SCHEMA,
    STATUS_SEVERITY,
    Prop,
    Status,
    parse_sizes,
    parse_sweep,
    worse_status,
)

MERGED_SUITE_NAME = "npusim"
# Long tracebacks make the HTML heavy; the full text stays in junit-merged.xml.
DETAILS_LIMIT = 6000


class ReportInputError(RuntimeError):
    """An input file or directory cannot be read as JUnit XML or a summary."""


@dataclass
class CaseResult:
    case_id: str
    op: str | None
    family: str | None
    dtype: str | None
    sizes: dict[str, int]
    status: str
    cycles: int | float | None = None
    instret: int | None = None
    trace_records: int | None = None
    kernel_hash: str | None = None
    compile_count: int | None = None
    config: str | None = None
    artifacts: str | None = None
    reproducer: str | None = None
    values: str | None = None  # three-way verdict (Prop.VALUES)
    message: str | None = None
    time: float | None = None
    sweep: str | None = None   # swept dim of a sweep-level check item (sizes "sweep=N")
    roofline: int | float | None = None        # physical-limit floor of the case, cycles
    roofline_ratio: int | float | None = None  # cycles / roofline
    # the kernels a multi-kernel case launched, in order: [{"kernel", "hash", "cycles"}] (Prop.KERNELS)
    kernels: list[dict] | None = None
    functional: str | None = None  # "host": values from the host JIT (a big model size)
    # Failure/error text (traceback), truncated; not part of comparisons.
    details: str | None = field(default=None, repr=False)

    @property
    def is_matrix_case(self) -> bool:
        """Cases of an op at one size belong in the op x size matrix; sweep-level
        checks and tests without an op are listed separately."""
        return bool(self.op) and self.sweep is None

    @property
    def size_label(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.sizes.items()) or "-"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CaseResult":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["sizes"] = {str(k): int(v) for k, v in (values.get("sizes") or {}).items()}
        return cls(**values)


# --------------------------------------------------------------------------- inputs


MERGED_FILE_NAME = "junit-merged.xml"


def expand_junit_paths(inputs: Iterable[str | Path]) -> list[Path]:
    """Files as given; a directory contributes every ``*.xml`` below it (sorted)
    except earlier merge outputs (junit-merged.xml): those repeat their shards,
    and merging keeps the worst status, so a stale one would pin old failures."""
    paths: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.xml") if p.is_file() and p.name != MERGED_FILE_NAME)
            if not found:
                raise ReportInputError(f"{path}: directory holds no *.xml JUnit files")
            paths.extend(found)
        elif path.is_file():
            paths.append(path)
        else:
            raise ReportInputError(f"{path}: no such file or directory")
    return paths


def read_junit(path: str | Path) -> JUnitXml:
    try:
        xml = JUnitXml.fromfile(str(path))
    except (ParseError, JUnitXmlError) as exc:
        # An empty or truncated file usually means the shard crashed.
        raise ReportInputError(f"{path}: not a JUnit XML file ({exc})") from exc
    return xml


def iter_testcases(xml: JUnitXml | TestSuite) -> Iterator[TestCase]:
    """Every testcase, including those of nested testsuites."""
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    for suite in suites:
        yield from suite  # TestSuite.__iter__ already descends into child suites


# --------------------------------------------------------------------------- one case


# pytest-xdist's loadgroup mode may append "@<group>" to a node id; the case is the same.
_XDIST_GROUP_SUFFIX = re.compile(r"(?<=\])@[^\[\]]*$")


def case_id_of(case: TestCase) -> str:
    name = _XDIST_GROUP_SUFFIX.sub("", case.name or "")
    return f"{case.classname}::{name}" if case.classname else name


def case_properties(case: TestCase) -> dict[str, str]:
    """The testcase's <properties> (the last value wins for a repeated name)."""
    props: dict[str, str] = {}
    elem = case._elem.find("properties")  # junitparser has no TestCase.properties()
    if elem is None:
        return props
    for prop in elem.iterfind("property"):
        name = prop.get("name")
        if name:
            props[name] = prop.get("value", "")
    return props


def junit_outcome(case: TestCase) -> tuple[str, str | None, str | None]:
    """(status, message, details) from the JUnit result elements alone, as
    pytest writes them: xfail is <skipped type="pytest.xfail">, a strict XPASS is
    a <failure> whose message starts with "[XPASS(strict)]"."""
    results = case.result
    for kind in (Error, Failure, Skipped):
        for result in results:
            if not isinstance(result, kind):
                continue
            message = result.message
            details = result.text
            if kind is Error:
                return Status.ERROR, message, details
            if kind is Failure:
                if (message or "").startswith("[XPASS"):
                    return Status.XPASS, message, details
                return Status.FAIL, message, details
            if (result.type or "") == "pytest.xfail":
                return Status.XFAIL, message, details
            return Status.SKIP, message, details
    return Status.PASS, None, None


def _number(text: str | None) -> int | float | None:
    if text is None:
        return None
    text = text.strip()
    if text.lower() in ("", "none", "null", "nan"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def _text(value: str | None) -> str | None:
    return value if value not in (None, "", "None") else None


_ID_PARAMS = re.compile(r"^(?P<base>[^\[]*)\[(?P<params>.*)\]$")
_DTYPE_TOKEN = re.compile(r"^(?:b?f|float|bfloat|i|int|u|uint|c|complex)\d+$|^bool$")


def identity_from_id(name: str) -> tuple[str | None, str | None, dict[str, int]]:
    """(op, dtype, sizes) from a test id, for a case that failed before it
    recorded its properties (a setup error). Understands ``add[f32-N=1000]``
    and ``test_binary[add-f32-N=1000]``; ids without NAME=INT tokens give
    (None, None, {}): they are not matrix cases."""
    match = _ID_PARAMS.match(name or "")
    if not match:
        return None, None, {}
    sizes: dict[str, int] = {}
    plain: list[str] = []
    for token in match.group("params").split("-"):
        key, sep, value = token.partition("=")
        if sep and key.isidentifier() and re.fullmatch(r"\d+", value):
            sizes[key] = int(value)
        elif token:
            plain.append(token)
    if not sizes:
        return None, None, {}
    dtype = next((t for t in plain if _DTYPE_TOKEN.match(t)), None)
    others = [t for t in plain if t != dtype]
    base = match.group("base")
    op = others[0] if base.startswith("test") and others else base
    return op or None, dtype, sizes


def case_result(case: TestCase) -> CaseResult:
    props = case_properties(case)
    status, message, details = junit_outcome(case)
    declared = (props.get(Prop.STATUS) or "").strip().lower()
    if declared in STATUS_SEVERITY:
        # The harness knows better (unsupported, xfail...), except that a case
        # it marked "pass" which then failed later (a check after the property
        # was written, a teardown error) keeps the failure.
        if not (declared == Status.PASS and status in (Status.FAIL, Status.ERROR)):
            status = declared
    sweep = parse_sweep(props.get(Prop.SIZES))
    try:
        sizes = parse_sizes(props.get(Prop.SIZES)) if sweep is None else {}
    except ValueError:
        sizes = {}
    op, dtype = _text(props.get(Prop.OP)), _text(props.get(Prop.DTYPE))
    if op is None:
        op, id_dtype, id_sizes = identity_from_id(_XDIST_GROUP_SUFFIX.sub("", case.name or ""))
        dtype = dtype or id_dtype
        sizes = sizes or id_sizes
    if details and len(details) > DETAILS_LIMIT:
        details = details[:DETAILS_LIMIT] + "\n... (truncated; see junit-merged.xml)"
    return CaseResult(
        case_id=case_id_of(case),
        op=op,
        family=_text(props.get(Prop.FAMILY)),
        dtype=dtype,
        sizes=sizes,
        status=status,
        cycles=_number(props.get(Prop.CYCLES)),
        instret=_number(props.get(Prop.INSTRET)),
        trace_records=_number(props.get(Prop.TRACE_RECORDS)),
        kernel_hash=_text(props.get(Prop.KERNEL_HASH)),
        compile_count=_number(props.get(Prop.COMPILE_COUNT)),
        config=_text(props.get(Prop.CONFIG)),
        artifacts=_text(props.get(Prop.ARTIFACTS)),
        reproducer=_text(props.get(Prop.REPRODUCER)),
        values=_text(props.get(Prop.VALUES)),
        message=message,
        time=case.time,
        sweep=sweep,
        details=details,
        roofline=_number(props.get(Prop.ROOFLINE)),
        roofline_ratio=_number(props.get(Prop.ROOFLINE_RATIO)),
        kernels=_kernels(props.get(Prop.KERNELS)),
        functional=_text(props.get(Prop.FUNCTIONAL)),
    )


def _kernels(text: str | None) -> list[dict] | None:
    """Prop.KERNELS: a JSON list of {"kernel", "hash", "cycles"}; junk is a report-time error."""
    if not _text(text):
        return None
    try:
        kernels = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportInputError(f"bad {Prop.KERNELS} value {text[:80]!r}: {exc}") from exc
    if not isinstance(kernels, list) or not all(isinstance(k, dict) and "kernel" in k for k in kernels):
        raise ReportInputError(f"bad {Prop.KERNELS} value {text[:80]!r}: expected a list of {{kernel, cycles}}")
    return kernels


def kernel_labels(kernels: list[dict]) -> list[str]:
    """A name per launch that is stable across runs of the same graph: the kernel's name, with
    `#k` for its k-th launch when the graph launches it more than once (three addmm: addmm#1..#3)."""
    names = [str(k.get("kernel")) for k in kernels]
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        labels.append(f"{name}#{seen[name]}" if names.count(name) > 1 else name)
    return labels


# --------------------------------------------------------------------------- merge


@dataclass
class MergeResult:
    xml: JUnitXml
    cases: list[CaseResult]
    sources: list[str]
    # case ids that appeared in more than one record (reruns, overlapping shards)
    duplicates: list[str]


def merge_junit(inputs: Iterable[str | Path]) -> MergeResult:
    """Merge shard files into one suite: each case id once, the worst status
    kept when a case appears more than once (on a tie, the first record)."""
    paths = expand_junit_paths(inputs)
    if not paths:
        raise ReportInputError("no JUnit input files")
    chosen: dict[str, tuple[CaseResult, TestCase]] = {}
    duplicates: list[str] = []
    for path in paths:
        for case in iter_testcases(read_junit(path)):
            result = case_result(case)
            previous = chosen.get(result.case_id)
            if previous is None:
                chosen[result.case_id] = (result, case)
                continue
            duplicates.append(result.case_id)
            if worse_status(result.status, previous[0].status) != previous[0].status:
                chosen[result.case_id] = (result, case)

    _fill_family_from_siblings([result for result, _ in chosen.values()])
    suite = TestSuite(MERGED_SUITE_NAME)
    suite.timestamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for path in paths:
        suite.add_property("npusim.merged_from", str(path))
    suite.add_testcases([deepcopy(case) for _, case in chosen.values()])
    merged = JUnitXml(name="npusim merged")
    merged.add_testsuite(suite)
    merged.update_statistics()
    return MergeResult(
        xml=merged,
        cases=[result for result, _ in chosen.values()],
        sources=[str(p) for p in paths],
        duplicates=sorted(set(duplicates)),
    )


def _fill_family_from_siblings(cases: list[CaseResult]) -> None:
    """A case identified from its test id has no family; its op's other cases know it."""
    family_of = {c.op: c.family for c in cases if c.op and c.family}
    for case in cases:
        if case.op and not case.family:
            case.family = family_of.get(case.op)


def read_cases(inputs: Iterable[str | Path]) -> list[CaseResult]:
    return merge_junit(inputs).cases


# --------------------------------------------------------------------------- summary.json


def status_counts(cases: Iterable[CaseResult]) -> dict[str, int]:
    counts = {status: 0 for status in Status.ALL}
    for case in cases:
        counts[case.status] = counts.get(case.status, 0) + 1
    return counts


_OMITTED_WHEN_EMPTY = ("kernels", "functional")  # set on few cases (model blocks): absent means None


def summary_dict(cases: list[CaseResult], sources: list[str] | None = None,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "schema": SUMMARY_SCHEMA,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sources": list(sources or []),
        "counts": status_counts(cases),
        # Tracebacks stay in junit-merged.xml: the committed baseline keeps to metrics and messages.
        "cases": [{k: v for k, v in case.to_dict().items()
                   if k != "details" and not (k in _OMITTED_WHEN_EMPTY and v is None)}
                  for case in sorted(cases, key=lambda c: c.case_id)],
        **(extra or {}),
    }


def write_summary(path: str | Path, cases: list[CaseResult], sources: list[str] | None = None,
                  extra: dict[str, Any] | None = None) -> Path:
    path = Path(path)
    path.write_text(json.dumps(summary_dict(cases, sources, extra), indent=1) + "\n", encoding="utf-8")
    return path


def load_summary(path: str | Path) -> list[CaseResult]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ReportInputError(f"{path}: cannot read summary ({exc})") from exc
    if not isinstance(data, dict) or data.get("schema") != SUMMARY_SCHEMA:
        raise ReportInputError(f"{path}: not an npusim summary (schema {SUMMARY_SCHEMA} expected)")
    return [CaseResult.from_dict(item) for item in data.get("cases", [])]


def load_results(source: str | Path) -> list[CaseResult]:
    """What ``npusim diff`` accepts as BASE or NEW: a summary.json, a report
    directory holding one, a JUnit file, or a directory of JUnit files."""
    path = Path(source)
    if path.is_dir() and (path / "summary.json").is_file():
        return load_summary(path / "summary.json")
    if path.is_dir() and not any(path.rglob("*.xml")):
        # e.g. reports/baseline before the first baseline was committed
        raise ReportInputError(f"{path}: holds neither summary.json nor JUnit *.xml files")
    if path.is_file() and path.suffix == ".json":
        return load_summary(path)
    return read_cases([path])
