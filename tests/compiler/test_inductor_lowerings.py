"""The backend swaps Inductor's lowering table only while it compiles (compiler/inductor_lowerings.py):
another backend compiling in the same process afterwards sees Inductor's own table."""

from __future__ import annotations

import pytest
import torch

from compiler.inductor_lowerings import lowerings_replaced


def test_every_swapped_lowering_is_restored_after_the_backend():
    from torch._inductor.lowering import lowerings

    from compiler.backend import npusim_lowerings

    before = dict(lowerings)
    with npusim_lowerings():
        inside = dict(lowerings)
    changed = {op for op in set(before) | set(inside) if before.get(op) is not inside.get(op)}
    # each capability module swaps its ops (matmul, conv, pool, scatter, floor division, gcd, diagonal)
    for op in (torch.ops.aten.mm.default, torch.ops.aten.convolution.default, torch.ops.aten.avg_pool2d.default,
               torch.ops.aten.scatter_add.default, torch.ops.aten.div.Tensor_mode, torch.ops.aten.gcd.default,
               torch.ops.aten.diagonal.default):
        assert op in changed, op
    assert dict(lowerings) == before


def test_an_op_inductor_did_not_lower_is_removed_again_and_an_error_restores_too():
    from torch._inductor.lowering import lowerings

    absent, present = object(), torch.ops.aten.mm.default
    original = lowerings[present]
    with pytest.raises(RuntimeError):
        with lowerings_replaced({absent: len, present: len}):
            assert lowerings[absent] is len and lowerings[present] is len
            raise RuntimeError("a failing compile")
    assert absent not in lowerings and lowerings[present] is original
