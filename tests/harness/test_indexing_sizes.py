"""suites/indexing's row sorts sweep up to the sort's row buffer, not past it."""

from compiler.sort import ROW_CAPACITY
from harness.sizes import sweeps
from harness.spec import DTYPE_BITS
from npusim import config as npu_config
from suites.indexing import ops


def sort_spec(name):
    return next(spec for spec in ops.SPECS if spec.name == name)


def row_lengths(op_sweeps):
    return {dict(point)["N"] for sweep in op_sweeps for point in sweep.points}


def test_low_precision_sort_sweep_stops_at_the_row_buffer():
    """sort_lowp[f16] at nightly sizes asked for N = 262151, a KernelIndexError (the nightly of e2b7d32)."""
    config = npu_config.load("tpuv3-1core")
    spec = sort_spec("sort_lowp")
    for dtype in ("f16", "bf16"):
        uncapped = row_lengths(sweeps(spec.dims(), config, "nightly", elem_bits=DTYPE_BITS[dtype]))
        assert max(uncapped) > ROW_CAPACITY  # the policy's large size is past the buffer...
        capped = row_lengths(ops.sweeps_of(spec, dtype, "nightly", config))
        assert capped == {n for n in uncapped if n <= ROW_CAPACITY}  # ...and only it is left out
        assert max(capped) < ROW_CAPACITY


def test_other_specs_keep_the_size_policy():
    config = npu_config.load("tpuv3-1core")
    spec = sort_spec("cummax_last")
    assert ops.sweeps_of(spec, "f32", "nightly", config) == sweeps(spec.dims(), config, "nightly")
