"""Cost samples derive every size arg from one consistent assignment of the graph's symbols."""

from __future__ import annotations

import json

import sympy
import torch

import compiler  # noqa: F401
from npusim import cache, runlog
from simulator.trace.cost import sample_arguments, sample_shape_args


def view_transpose(x):
    # ks0 = s0 // 4 and ks1 = 4 * (s0 // 4) are precomputed from ks2 = s0: dependent size args
    return x.view(x.shape[0], -1, 4).transpose(1, 2).contiguous() + 1


def test_dependent_size_args_are_sampled_from_one_assignment(npusim_env):
    torch.compile(view_transpose, backend="npusim", dynamic=True)(torch.randn(3, 16))
    (compile_event,) = runlog.events("compile", npusim_env)
    meta = json.loads(cache.entry(compile_event["kernel_hash"]).path("kernel.json").read_text())
    sizes = [a for a in meta["args"] if a["kind"] == "size"]
    exprs = {a["name"]: sympy.sympify(a["expr"]) for a in sizes}
    tiles = meta["tiles"]
    assert any(len(str(e)) > 4 for e in exprs.values()), exprs  # some size arg is an expression (s0//4)
    for full in (True, False):
        shape = sample_shape_args(meta, full)
        # the size args that are bare graph symbols give the assignment; every other size arg
        # must be its expression at that same assignment (the old rule set each to 1 on its own)
        assignment = {e: shape[n] for n, e in exprs.items() if e.is_Symbol}
        assert {s for e in exprs.values() for s in e.free_symbols} <= set(assignment), exprs
        assert {n: int(sympy.floor(e.subs(assignment))) for n, e in exprs.items()} == shape
        # every buffer is as large as the kernel's indices need at that assignment: the sample
        # tensors are sized from the same numel expressions the kernel was compiled with
        for arg, value in zip(meta["args"], sample_arguments(meta, shape)):
            if arg["kind"] != "size":
                assert value.numel() >= 1
        xnumel = int(sympy.sympify(meta["xnumel"]).subs({sympy.Symbol(k): v for k, v in shape.items()}))
        assert xnumel >= (int(tiles.get("x", 1)) if full else 1)


def test_independent_size_args_sample_as_before():
    meta = {"args": [{"name": "ks0", "kind": "size", "expr": "s0"}, {"name": "ks1", "kind": "size", "expr": "s1"}],
            "size_args": ["ks0", "ks1"], "xnumel": "ks0*ks1", "rnumel": None, "tiles": {"x": 1024}}
    assert sample_shape_args(meta, full=True) == {"ks0": 1, "ks1": 1024}
    assert sample_shape_args(meta, full=False) == {"ks0": 1, "ks1": 1}


def test_a_divided_size_grows_until_its_dim_is_not_empty():
    meta = {"args": [{"name": "ks0", "kind": "size", "expr": "(s0//4)"}, {"name": "ks1", "kind": "size",
                                                                          "expr": "s0"}],
            "size_args": ["ks0", "ks1"], "xnumel": "ks0", "rnumel": None, "tiles": {"x": 1024}}
    assert sample_shape_args(meta, full=False) == {"ks0": 1, "ks1": 4}  # the old rule gave ks1 = 1 with ks0 = 1
    assert sample_shape_args(meta, full=True) == {"ks0": 1024, "ks1": 4096}

