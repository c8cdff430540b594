"""Foundation tests never touch the real artifact cache, run log or config choice."""

import pytest


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    monkeypatch.setenv("NPUSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("NPUSIM_RUNLOG", raising=False)
    monkeypatch.delenv("NPUSIM_CONFIG", raising=False)
