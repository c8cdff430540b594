"""Fixtures for every project test."""

from __future__ import annotations

import random
import zlib

import pytest
import torch


@pytest.fixture(autouse=True)
def seeded_rng(request):
    """Seed torch and random from the test id: a failure reproduces on re-run, and
    one test's random draws do not depend on which tests ran before it in the worker."""
    seed = zlib.crc32(request.node.nodeid.encode())
    torch.manual_seed(seed)
    random.seed(seed)
    return seed
