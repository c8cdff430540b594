"""Verifying an MLIR module with a message that names the kernel.

`Operation.verify()` of the MLIR Python bindings raises MLIRError on failure;
it never returns False, so `if not module.operation.verify()` cannot fire.
"""

from __future__ import annotations

from typing import Callable


def kernel_name_of(module) -> str:
    attributes = module.operation.attributes
    if "npusim.kernel_name" in attributes:
        return str(attributes["npusim.kernel_name"]).strip('"')
    return "<unnamed kernel>"


def verify(module, error: Callable[[str], Exception], what: str, kernel: str | None = None) -> None:
    """Raise `error(message)` naming the kernel and MLIR's diagnostics when `module` does not verify."""
    from mlir import ir

    try:
        module.operation.verify()
    except ir.MLIRError as failure:
        name = kernel or kernel_name_of(module)
        raise error(f"{what} of kernel {name} does not verify: {failure}") from failure
