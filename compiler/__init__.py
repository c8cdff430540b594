"""npusim compiler: the torch.compile backend "npusim" (Inductor -> MLIR kernels).

Importing this package registers the backend by name; installing the project
registers it through the `torch_dynamo_backends` entry point as well.
"""

from compiler.errors import UnsupportedOp, find_unsupported  # noqa: F401


def _register() -> None:
    from torch._dynamo.backends.registry import _COMPILER_FNS, register_backend

    from compiler.backend import npusim_backend

    if "npusim" not in _COMPILER_FNS:
        register_backend(name="npusim")(npusim_backend)


_register()
