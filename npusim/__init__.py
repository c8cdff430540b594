"""npusim core: paths, NPU configs, run log, artifact cache, doctor and CLI.

The compiler, simulators, harness and reports all build on these; see
CONTRACTS.md for the interfaces between them.
"""

__version__ = "0.1.0"
