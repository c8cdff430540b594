"""Errors the compiler raises instead of falling back."""

from __future__ import annotations


class UnsupportedOp(RuntimeError):
    """An op the npusim backend cannot lower. `op` names it; the harness reports it as unsupported."""

    def __init__(self, op: str, detail: str = "") -> None:
        self.op = op
        self.detail = detail
        message = f"npusim backend cannot lower op '{op}'"
        super().__init__(f"{message}: {detail}" if detail else message)


class InvalidKernel(RuntimeError):
    """The emitter built a kernel that does not verify: a compiler bug, never a coverage gap."""


def find_unsupported(exc: BaseException | None) -> UnsupportedOp | None:
    """Find an UnsupportedOp inside the wrappers torch.compile puts around backend errors."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, UnsupportedOp):
            return exc
        seen.add(id(exc))
        exc = getattr(exc, "inner_exception", None) or exc.__cause__ or exc.__context__
    return None
