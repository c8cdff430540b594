"""pytest entry point (pyproject `pytest11`): loads the harness plugin.

The entry point must import even while `harness/plugin.py` is not written
yet, or every pytest run in the venv (tests/ included) dies at start-up. Only
the plugin module itself being absent is tolerated; an import error inside it
propagates.
"""

from __future__ import annotations

import importlib.util

HARNESS_PLUGIN = "harness.plugin"


def _harness_plugin_exists() -> bool:
    try:
        return importlib.util.find_spec(HARNESS_PLUGIN) is not None
    except ModuleNotFoundError:  # the harness package itself is absent
        return False


pytest_plugins = [HARNESS_PLUGIN] if _harness_plugin_exists() else []
