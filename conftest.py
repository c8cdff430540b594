"""Root conftest: the npusim harness plugin (also registered as a pytest11 entry point)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# The entry point loads harness.plugin when the project is installed; load it here
# only when it is not already registered, so a plain checkout works too.
pytest_plugins = ["pytester"]  # the harness tests run throwaway pytest projects
try:
    import importlib.metadata as _md

    if not any(ep.value.startswith(("harness.plugin", "npusim.pytest_plugin"))
               for ep in _md.entry_points(group="pytest11")):
        pytest_plugins.append("harness.plugin")
except Exception:  # pragma: no cover - metadata unreadable: fall back to the conftest route
    pytest_plugins.append("harness.plugin")
