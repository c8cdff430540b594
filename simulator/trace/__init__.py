"""The trace path: kernel.mlir -> trace skeleton -> trace.so -> C++ cycle simulator.

Public API (see api.py): simulate, SimResult, TraceSimError, launch_record, log_launch.
Imported lazily, so `python -m simulator.trace.build` does not load the rest.
"""

from __future__ import annotations

__all__ = ["SimResult", "TraceSimError", "launch_record", "log_launch", "simulate"]


def __getattr__(name: str):
    if name in __all__:
        from simulator.trace import api

        return getattr(api, name)
    raise AttributeError(f"module 'simulator.trace' has no attribute {name!r}")
