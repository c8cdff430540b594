"""Compile-time benchmark: `python -m compiler.bench`.

Per kernel (add, sum, softmax) it prints the Inductor + MLIR build time: the
first call of a fresh torch.compile minus a warm call (both in this run), and
the kernel codegen time the compile event records. Values run on the host JIT
and the trace simulator is off, so the figure is the compiler's.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import torch

CASES = {
    "add": (lambda a, b: a + b, lambda: (torch.randn(4096), torch.randn(4096))),
    "sum": (lambda x: x.sum(-1), lambda: (torch.randn(64, 1000),)),
    "softmax": (lambda x: torch.softmax(x, -1), lambda: (torch.randn(64, 1000),)),
}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="npusim-bench-"))
    os.environ.update(NPUSIM_CACHE_DIR=str(work / "cache"), NPUSIM_FUNCTIONAL="host", NPUSIM_TRACE="0")
    import compiler  # noqa: F401  (registers the backend)
    from npusim import runlog

    print(f"{'kernel':10} {'first call s':>13} {'warm call s':>12} {'compile s':>10} {'codegen s':>10}")
    for name, (fn, make) in CASES.items():
        torch._dynamo.reset()
        log = work / f"{name}.jsonl"
        os.environ["NPUSIM_RUNLOG"] = str(log)
        args = make()
        compiled = torch.compile(fn, backend="npusim", dynamic=True)
        start = time.perf_counter()
        compiled(*args)
        first = time.perf_counter() - start
        start = time.perf_counter()
        compiled(*args)
        warm = time.perf_counter() - start
        codegen = sum(e["wall_s"] for e in runlog.read(log) if e["event"] == "compile")
        print(f"{name:10} {first:13.3f} {warm:12.3f} {first - warm:10.3f} {codegen:10.3f}")


if __name__ == "__main__":
    main()
