"""Reproducers for a failing case: a one-line pytest command and a standalone script."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

SCRIPT = '''\
"""Standalone reproducer for {nodeid}.

Runs the case outside pytest: the same op, inputs (inputs.pt beside this file),
NPU config and functional mode. Exit 1 when the values differ from eager torch.
"""
import importlib.util
import os
import sys
from pathlib import Path

import torch

os.environ.setdefault("NPUSIM_CONFIG", {config!r})
os.environ.setdefault("NPUSIM_FUNCTIONAL", {functional!r})
sys.path.insert(0, {root!r})
import compiler  # noqa: E402  (registers the backend)

spec_file = {spec_file!r}
module_spec = importlib.util.spec_from_file_location("npusim_suite_ops", spec_file)
module = importlib.util.module_from_spec(module_spec)
module_spec.loader.exec_module(module)
spec = next(s for s in module.SPECS if s.name == {op!r})
inputs = torch.load(Path(__file__).with_name("inputs.pt"))
expected = spec.expected(inputs)
dtype = next((t.dtype for t in inputs if t.is_floating_point()), torch.float32)  # a model block's weights
actual = torch.compile(spec.traced_fn(dtype), backend="npusim", dynamic=True, fullgraph=True)(*spec.call_inputs(inputs))
rtol, atol = {rtol!r}, {atol!r}
try:
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
except AssertionError as error:
    print(f"MISMATCH {nodeid}: {{error}}")
    sys.exit(1)
print("values match for {nodeid}")
'''


def command(nodeid: str, root: Path, config: str, functional: str, policy: str) -> str:
    python = os.path.relpath(sys.executable, root) if Path(sys.executable).is_relative_to(root) else sys.executable
    return (f"cd {shlex.quote(str(root))} && NPUSIM_CONFIG={shlex.quote(config)} NPUSIM_FUNCTIONAL={functional} "
            f"{python} -m pytest {shlex.quote(nodeid)} --sizes={policy} -p no:xdist")


def write_script(case_dir: Path, nodeid: str, root: Path, spec_file: str, op: str, config: str, functional: str,
                 rtol: float, atol: float) -> Path:
    path = case_dir / "reproduce.py"
    path.write_text(SCRIPT.format(nodeid=nodeid, root=str(root), spec_file=spec_file, op=op, config=config,
                                  functional=functional, rtol=rtol, atol=atol))
    return path
