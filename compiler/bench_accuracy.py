"""Accuracy of long reductions: `python -m compiler.bench_accuracy [--functional spike|host] [--seeds N]`.

For mean(x**2) and an RMSNorm over one row at 2**20 and 2**22 float32 elements it
prints the relative error against a float64 reference of ours (values from
Spike by default) and of eager PyTorch, and their ratio. Both errors include
the final rounding to float32 (about 6e-8 at most), so a ratio far below or
above 1 at one seed can be one ulp of luck; the table shows several seeds.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch


def relative_error(value: torch.Tensor, reference: torch.Tensor) -> float:
    return ((value.double() - reference).abs().max() / reference.abs().max()).item()


def rms_norm(x: torch.Tensor) -> torch.Tensor:
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-6)


CASES = {
    "mean(x**2)": lambda x: (x * x).mean(),
    "rms_norm(1 row)": lambda x: rms_norm(x.view(1, -1)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functional", choices=("spike", "host"), default="spike")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sizes", default="20,22", help="log2 of the element counts, comma-separated")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="npusim-accuracy-"))
    os.environ.update(NPUSIM_CACHE_DIR=os.environ.get("NPUSIM_CACHE_DIR", str(work / "cache")),
                      NPUSIM_FUNCTIONAL=args.functional, NPUSIM_TRACE="0")
    import compiler  # noqa: F401  (registers the backend)

    print(f"values from {args.functional}; relative error against float64 (max abs error / max abs value)")
    print(f"{'case':18s} {'n':>6s} {'seed':>4s} {'ours':>10s} {'eager':>10s} {'ours/eager':>10s} {'wall s':>7s}")
    for name, fn in CASES.items():
        compiled = torch.compile(fn, backend="npusim", dynamic=True)
        for log2 in (int(v) for v in args.sizes.split(",")):
            for seed in range(args.seeds):
                x = torch.randn(2 ** log2, generator=torch.Generator().manual_seed(seed))
                reference = fn(x.double())
                started = time.perf_counter()
                ours = relative_error(compiled(x), reference)
                wall = time.perf_counter() - started
                eager = relative_error(fn(x), reference)
                print(f"{name:18s} {'2^' + str(log2):>6s} {seed:4d} {ours:10.2e} {eager:10.2e} "
                      f"{ours / max(eager, 1e-30):10.2f} {wall:7.1f}", flush=True)


if __name__ == "__main__":
    main()
