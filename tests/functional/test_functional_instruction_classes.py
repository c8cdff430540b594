"""Instruction-class counting for the per-tile cost table, and the ELF
symbol reader it relies on."""

from __future__ import annotations

import pytest
import torch

from simulator.functional import elf_build, elf_symbols, spike
from simulator.functional.instruction_classes import CLASSES, classify, count_instruction_classes


@pytest.mark.parametrize("mnemonic, expected", [
    ("vle32.v", "vector_load"), ("vlse64.v", "vector_load"), ("vluxei32.v", "vector_load"),
    ("vl8re8.v", "vector_load"), ("vse8.v", "vector_store"), ("vsse32.v", "vector_store"),
    ("vs1r.v", "vector_store"), ("vfadd.vv", "vector_fp"), ("vfredusum.vs", "vector_fp"),
    ("vmflt.vf", "vector_fp"), ("vadd.vx", "vector_int"), ("vsub.vv", "vector_int"),
    ("vsll.vi", "vector_int"), ("vmseq.vi", "vector_int"), ("vsetvli", "vector_other"),
    ("vsetivli", "vector_other"), ("vmv.v.i", "vector_other"), ("vfmv.f.s", "vector_other"),
    ("vslidedown.vi", "vector_other"), ("ld", "scalar_mem"), ("c.ldsp", "scalar_mem"),
    ("sw", "scalar_mem"), ("c.fld", "scalar_mem"), ("fsw", "scalar_mem"), ("amoadd.w", "scalar_mem"),
    ("fadd.s", "scalar_fp"), ("fmv.x.w", "scalar_fp"), ("fcvt.s.w", "scalar_fp"), ("c.fldsp", "scalar_mem"),
    ("addi", "scalar"), ("c.beqz", "scalar"), ("fence", "scalar"), ("slli", "scalar"), ("sub", "scalar"),
    ("li", "scalar"), ("lui", "scalar"),
])
def test_classify(mnemonic, expected):
    assert classify(mnemonic) == expected


def test_kernel_symbols_are_found(add_kernel):
    path, _ = add_kernel
    elf = elf_build.build_elf(path)
    ranges = elf_symbols.function_ranges(elf)
    start, end = ranges["_mlir_ciface_kernel"]
    assert 0x80000000 <= start < end
    assert {"main", "memcpy", "npusim_exit", "npusim_call_kernel"} <= set(ranges)
    symbols = {s.name: s for s in elf_symbols.read_symbols(elf)}
    assert symbols["tohost"].address % 64 == 0


def test_add_classes_match_instret(add_kernel, tmp_path):
    path, meta = add_kernel
    elf = elf_build.build_elf(path)
    a, b = torch.randn(1024), torch.randn(1024)
    _, instret = spike.run_spike(elf, meta, [a, b, None, 1024], tmp_path / "plain")
    counts = count_instruction_classes(elf, meta, [a, b, None, 1024], tmp_path / "logged")
    assert set(counts) == set(CLASSES) | {"total"}
    assert counts["vector_load"] > 0 and counts["vector_store"] > 0 and counts["vector_fp"] > 0
    assert counts["vector_other"] > 0  # vsetvli
    # The call window excludes only the argument set-up around the call.
    assert 0 <= instret - counts["total"] <= 64
    own = count_instruction_classes(elf, meta, [a, b, None, 1024], tmp_path / "own", scope="kernel")
    assert 0 < own["total"] < counts["total"]  # memcpy is runtime code, not the kernel's
    assert own["vector_fp"] == counts["vector_fp"]
