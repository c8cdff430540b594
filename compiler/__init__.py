"""npusim compiler: the torch.compile backend "npusim" (Inductor -> MLIR kernels).

Importing this package registers the backend by name; installing the project
registers it through the `torch_dynamo_backends` entry point as well.
"""

from compiler.errors import UnsupportedOp, find_unsupported  # noqa: F401


def _register() -> None:
    from torch._dynamo.backends.registry import _BACKENDS, _COMPILER_FNS, register_backend

    from compiler.backend import npusim_backend

    # Dynamo's lookup of backend="npusim" may be what imports this package: it found the entry
    # point, loads it (importing us) and then registers the function itself. Registering here as
    # well would make its registration fail as a duplicate name.
    loading_entry_point = _BACKENDS.get("npusim") is not None
    if "npusim" not in _COMPILER_FNS and not loading_entry_point:
        register_backend(name="npusim")(npusim_backend)


_register()
