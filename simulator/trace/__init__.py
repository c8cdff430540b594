"""The trace path: kernel.mlir -> trace skeleton -> trace.so -> C++ cycle simulator.

Public API (see api.py): simulate, SimResult, TraceSimError, launch_record, log_launch.
"""

from simulator.trace.api import SimResult, TraceSimError, launch_record, log_launch, simulate

__all__ = ["SimResult", "TraceSimError", "launch_record", "log_launch", "simulate"]
