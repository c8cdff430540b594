"""Every command-line option and ini value of the harness, registered in one place."""

from __future__ import annotations

from harness.sizes import POLICIES


def register(parser) -> None:
    group = parser.getgroup("npusim", "npusim verification harness")
    group.addoption("--npu-config", default=None, metavar="NAME|PATH",
                    help="NPU config (name in configs/ or a YAML path); default: $NPUSIM_CONFIG or tpuv3-1core")
    group.addoption("--functional", choices=("spike", "host", "both"), default=None,
                    help="functional simulator for output values (default: $NPUSIM_FUNCTIONAL or spike); "
                         "both: Spike and the host JIT, each compared with eager, a disagreement names the "
                         "side that is off")
    group.addoption("--hardware-monotonic", action="store_true",
                    help="re-simulate each case on its config with one resource doubled (more bandwidth, "
                         "channels, lanes, cores, arrays or scratchpad must never cost cycles); npusim nightly "
                         "turns it on (--no-hardware-monotonic there to skip it)")
    group.addoption("--sizes", choices=POLICIES, default="smoke", help="size policy of the case matrix")
    group.addoption("--npusim-out", default=None, metavar="DIR",
                    help="where per-case artifacts, reproducers and the run log go (default: a session dir "
                         "under the artifact cache)")
