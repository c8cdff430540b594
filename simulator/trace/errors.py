"""The trace path's errors: every failure a caller should handle is a TraceSimError."""

from __future__ import annotations


class TraceSimError(RuntimeError):
    """A trace simulation failed; the message names the kernel's artifacts."""

    def __init__(self, message: str, artifacts: dict[str, str] | None = None):
        self.artifacts = artifacts or {}
        where = "".join(f"\n  {k}: {v}" for k, v in self.artifacts.items())
        super().__init__(message + (f"\nartifacts:{where}" if where else ""))


class SkeletonError(TraceSimError, ValueError):
    """kernel.mlir does not follow the conventions the trace skeleton relies on."""


class LoweringError(TraceSimError):
    """The skeleton did not lower to C++ or the C++ did not compile."""


class CostSamplingError(TraceSimError):
    """The one-tile cost sample could not be built or run."""
