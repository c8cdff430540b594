"""The physical-limit floor (harness/checks.py roofline) against the real timing core."""

from __future__ import annotations

import pytest

from harness import checks
from npusim import config as npu_config
from simulator.trace import simulate

from trace_helpers import config_variant


def _add_floor(config, n: int, vector_at_peak: float) -> dict:
    return checks.roofline(config, input_bytes=2 * 4 * n, output_bytes=4 * n, vector_at_peak=vector_at_peak)


@pytest.mark.parametrize("n", [1, 1000, 1 << 12, 1 << 18])
def test_add_is_never_below_its_floor(add_kernel, n):
    config = npu_config.load("tpuv3-1core")
    result = simulate(add_kernel, shape_args={"s0": n}, config=config)
    roof = _add_floor(config, n, result.busy_cycles["vector_at_peak"])
    checks.check_floor(result.cycles, roof, config.name)
    # DRAM-bound; double buffering of 1024-element tiles hides most, not all, of the access latency
    assert roof["bound"] == "dram" and result.cycles / roof["cycles"] < 2


def test_too_optimistic_dma_model_fails_the_floor(add_kernel):
    """A timing model whose DMA moves data faster than the config's DRAM (here: a config with 8x the
    bandwidth and no latency simulated, the real one checked) is caught as faster than physics."""
    real = npu_config.load("tpuv3-1core")
    optimistic = config_variant(dram__gbps_per_channel=256, dram__read_latency_cycles=0,
                                dram__write_latency_cycles=0, noc__latency_cycles=0)
    n = 1 << 18
    result = simulate(add_kernel, shape_args={"s0": n}, config=optimistic)
    with pytest.raises(AssertionError, match="faster than the hardware allows"):
        checks.check_floor(result.cycles, _add_floor(real, n, result.busy_cycles["vector_at_peak"]), real.name)


def test_floor_terms():
    config = npu_config.load("tpuv3-1core")
    dram_only = checks.roofline(config, input_bytes=544_681, output_bytes=0, vector_at_peak=0)
    assert dram_only["parts"]["dram"] == pytest.approx(1000, rel=1e-3)
    assert dram_only["latency"] == config["dram"]["read_latency_cycles"] + config["noc"]["latency_cycles"]
    vector = checks.roofline(config, input_bytes=64, output_bytes=64, vector_at_peak=5000)
    assert vector["bound"] == "vector" and vector["cycles"] == 5000 + 28 + 15 + 20
    macs = 2 * 128 * 128 * 1000  # two 128x128 arrays: 1000 cycles of MACs
    assert checks.roofline(config, input_bytes=64, output_bytes=64, vector_at_peak=0, macs=macs)["parts"][
        "systolic"] == pytest.approx(1000)
