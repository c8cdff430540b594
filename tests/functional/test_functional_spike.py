"""The functional path end to end on Spike: one shape-agnostic ELF per kernel,
runtime sizes, tails, the vector extension, host parity and the fault cases."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import torch

from simulator.functional import elf_build, entry, spike
from simulator.functional.errors import (
    FunctionalBuildError,
    LaunchArgumentError,
    SpikeExitError,
    SpikeNotFound,
    SpikeOutputError,
    SpikeTimeout,
)
from simulator.functional.launch_args import MAX_KERNEL_ARGS, prepare_arguments

pytestmark = pytest.mark.spike


def test_one_add_elf_serves_every_size(add_kernel, tmp_path):
    path, meta = add_kernel
    sizes = [1024, 1000, 7, 1, 0, 5000]  # the last is larger than the first call's
    results, builds_before = [], len(elf_build.build_log)
    for n in sizes:
        a, b = torch.randn(n), torch.randn(n)
        result = entry.launch(path, meta, [a, b, None, n], mode="spike", launch_dir=tmp_path / f"n{n}")
        assert result.outputs[:2] == [None, None] and result.outputs[3] is None
        out = result.outputs[2]
        assert out.shape == (n,) and out.dtype == torch.float32
        assert torch.equal(out, a + b), f"N={n}"
        results.append(result)
    reports = elf_build.build_log[builds_before:]
    assert len(reports) == len(sizes)
    assert not any(r.built for r in reports[1:]), "the ELF was rebuilt after the first launch"
    assert len({r.elf_path for r in results}) == 1
    # The binary really reads the size: more elements, more instructions.
    instret = {n: r.instret for n, r in zip(sizes, results)}
    assert instret[0] < instret[1] <= instret[7] < instret[1000] <= instret[1024] < instret[5000]


def test_rowsum_with_tails_in_both_dims(rowsum_kernel, tmp_path):
    path, meta = rowsum_kernel  # tiles of 4 rows x 64 columns
    for s0, s1 in [(10, 100), (4, 64), (1, 1), (37, 130), (3, 5), (8, 128)]:
        x = torch.randn(s0, s1)
        result = entry.launch(path, meta, [x, None, s0, s1], mode="spike", launch_dir=tmp_path / f"{s0}x{s1}")
        torch.testing.assert_close(result.outputs[1], x.sum(dim=1), rtol=1e-5, atol=1e-5)


def test_host_mode_matches_spike(add_kernel, rowsum_kernel, tmp_path):
    path, meta = add_kernel
    a, b = torch.randn(777), torch.randn(777)
    on_spike = entry.launch(path, meta, [a, b, None, 777], mode="spike", launch_dir=tmp_path / "add")
    on_host = entry.launch(path, meta, [a, b, None, 777], mode="host")
    assert on_host.instret is None and on_host.mode == "host"
    assert torch.equal(on_spike.outputs[2], on_host.outputs[2])
    assert on_host.outputs[0] is None
    path, meta = rowsum_kernel
    x = torch.randn(9, 70)
    on_spike = entry.launch(path, meta, [x, None, 9, 70], mode="spike", launch_dir=tmp_path / "rowsum")
    on_host = entry.launch(path, meta, [x, None, 9, 70], mode="host")
    torch.testing.assert_close(on_spike.outputs[1], on_host.outputs[1], rtol=1e-6, atol=1e-6)


def test_mode_comes_from_environment(add_kernel, monkeypatch):
    path, meta = add_kernel
    a, b = torch.ones(3), torch.ones(3)
    monkeypatch.setenv("NPUSIM_FUNCTIONAL", "host")
    assert entry.launch(path, meta, [a, b, None, 3]).mode == "host"
    monkeypatch.delenv("NPUSIM_FUNCTIONAL")
    result = entry.launch(path, meta, [a, b, None, 3])  # default: spike, temporary launch dir
    assert result.mode == "spike" and torch.equal(result.outputs[2], a + b)
    monkeypatch.setenv("NPUSIM_FUNCTIONAL", "gem5")
    with pytest.raises(Exception, match="NPUSIM_FUNCTIONAL"):
        entry.launch(path, meta, [a, b, None, 3])


def test_add_kernel_uses_the_vector_extension(add_kernel):
    path, _ = add_kernel
    elf_build.build_elf(path)
    assembly = elf_build.intermediate(path, "kernel.s").read_text()
    assert "vsetvli" in assembly
    assert "vfadd.vv" in assembly
    assert any(op in assembly for op in ("vle32.v", "vle8.v")), "no vector loads in the kernel"


def test_corrupted_elf_in_cache_is_rebuilt(add_kernel, tmp_path):
    path, meta = add_kernel
    elf = elf_build.build_elf(path)
    elf.write_bytes(b"\x7fELF garbage" + bytes(100))
    report = elf_build.build_elf(path, report=True)
    assert report.built and report.elf == elf
    a, b = torch.randn(50), torch.randn(50)
    outputs, _ = spike.run_spike(elf, meta, [a, b, None, 50], tmp_path)
    assert torch.equal(outputs[2], a + b)
    assert not elf_build.build_elf(path, report=True).built


def _spike_processes_in(launch_dir: Path) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if Path(f"/proc/{pid}/cwd").resolve() == launch_dir.resolve():
                found.append(int(pid))
        except OSError:
            pass
    return found


def test_timeout_kills_spike(add_kernel, tmp_path):
    path, meta = add_kernel
    elf = elf_build.build_elf(path)
    n = 3_000_000  # ~1 s of Spike
    a, b = torch.ones(n), torch.ones(n)
    start = time.perf_counter()
    with pytest.raises(SpikeTimeout) as caught:
        spike.run_spike(elf, meta, [a, b, None, n], tmp_path, timeout_s=0.05)
    assert time.perf_counter() - start < 5
    assert str(tmp_path) in str(caught.value)
    with pytest.raises(ProcessLookupError):
        os.kill(caught.value.pid, 0)  # killed and reaped
    assert _spike_processes_in(tmp_path) == []


def test_runtime_exit_code_names_the_failure(add_kernel, tmp_path):
    path, meta = add_kernel
    elf = elf_build.build_elf(path)
    prepared = prepare_arguments(meta, [torch.ones(4), torch.ones(4), None, 4])
    spike.write_launch_files(prepared, tmp_path)
    (tmp_path / "arg1.bin").write_bytes(b"\0" * 8)  # 2 of the 4 floats
    with pytest.raises(SpikeExitError) as caught:
        spike.run_prepared(elf, prepared, tmp_path)
    assert caught.value.exit_code == 8
    assert "shorter than count * elem_bytes" in str(caught.value)
    assert "argument 1" in str(caught.value)  # the runtime's own message, from Spike's output tail
    assert str(tmp_path) in str(caught.value)
    (tmp_path / "arg1.bin").unlink()
    with pytest.raises(SpikeExitError, match="could not be opened"):
        spike.run_prepared(elf, prepared, tmp_path)


def test_missing_output_file_is_reported(add_kernel, tmp_path):
    _, meta = add_kernel
    prepared = prepare_arguments(meta, [torch.ones(4), torch.ones(4), None, 4])
    with pytest.raises(SpikeOutputError, match="out2.bin"):
        spike.read_results(prepared, tmp_path)
    (tmp_path / "out2.bin").write_bytes(b"\0" * 15)
    with pytest.raises(SpikeOutputError, match="15 bytes, expected 16"):
        spike.read_results(prepared, tmp_path)


def test_missing_spike_is_reported(add_kernel, tmp_path, monkeypatch):
    from npusim.paths import ToolNotFound
    from simulator.functional import toolchain

    path, meta = add_kernel
    elf = elf_build.build_elf(path)

    def no_spike():
        raise ToolNotFound("spike not found on PATH")

    monkeypatch.setattr(toolchain, "spike_executable", no_spike)
    with pytest.raises(SpikeNotFound, match="Spike is not available"):
        spike.run_spike(elf, meta, [torch.ones(2), torch.ones(2), None, 2], tmp_path)


def test_arguments_are_checked_against_metadata(add_kernel, tmp_path):
    _, meta = add_kernel
    with pytest.raises(LaunchArgumentError, match="takes 4 arguments"):
        prepare_arguments(meta, [torch.ones(2), None, 2])
    with pytest.raises(LaunchArgumentError, match="dtype"):
        prepare_arguments(meta, [torch.ones(2, dtype=torch.float64), torch.ones(2), None, 2])
    with pytest.raises(LaunchArgumentError, match="indexes 3"):
        prepare_arguments(meta, [torch.ones(2), torch.ones(2), None, 3])
    too_many = {"name": "wide", "args": [{"name": f"s{i}", "kind": "size"} for i in range(MAX_KERNEL_ARGS + 1)]}
    with pytest.raises(LaunchArgumentError, match=f"at most {MAX_KERNEL_ARGS}"):
        prepare_arguments(too_many, list(range(MAX_KERNEL_ARGS + 1)))


def test_build_error_names_step_and_artifact_dir():
    with pytest.raises(FunctionalBuildError) as caught:
        elf_build.build_elf("module {\n  func.func @kernel() {\n    %x = arith.bogus\n  }\n}\n")
    message = str(caught.value)
    assert "lower (mlir-opt)" in message and "mlir-opt" in message
    assert str(caught.value.artifact_dir) in message and caught.value.artifact_dir.is_dir()
    assert caught.value.stderr_tail


@pytest.mark.parametrize("mode", ["spike", "host"])
def test_twelve_arguments_and_an_inout(wide_kernel, tmp_path, mode):
    path, meta = wide_kernel
    n = 300
    a, b, c, d, acc = (torch.randn(n) for _ in range(5))
    sizes = [n, 1, 20, 300, 4000, 50000]  # s1..s5 are passed on the stack
    result = entry.launch(path, meta, [a, b, c, d, acc, None, *sizes], mode=mode, launch_dir=tmp_path)
    assert [o is not None for o in result.outputs] == [False] * 4 + [True, True] + [False] * 6
    torch.testing.assert_close(result.outputs[4], acc + a)
    torch.testing.assert_close(result.outputs[5], a + b + c + d + float(sum(sizes[1:])))
    assert not torch.equal(result.outputs[4], acc)  # the caller's inout tensor is not written in place


@pytest.mark.parametrize("dtype, mlir_type", [(torch.float16, "f16"), (torch.bfloat16, "bf16"),
                                              (torch.float64, "f64")])
def test_add_in_other_float_types(add_kernel, tmp_path, dtype, mlir_type):
    """f16/bf16 need the runtime's conversion helpers (rv64gcv has no Zfh)."""
    path, meta = add_kernel
    text = path.read_text().replace("f32", mlir_type)
    meta = {**meta, "args": [dict(a) for a in meta["args"]]}
    for arg in meta["args"][:3]:
        arg.update(dtype=str(dtype).removeprefix("torch."), elem_bits=8 * dtype.itemsize)
    a, b = (torch.randn(1000) * 100).to(dtype), (torch.randn(1000) * 100).to(dtype)
    expected = (a.double() + b.double()).to(dtype)  # one rounding, as the promoted add does
    for mode in ("spike", "host"):
        result = entry.launch(text, meta, [a, b, None, 1000], mode=mode, launch_dir=tmp_path / mode)
        assert torch.equal(result.outputs[2], expected), mode


def test_signature_drift_is_caught_before_launch(add_kernel, tmp_path):
    path, meta = add_kernel
    wrong_dtype = {**meta, "args": [dict(a) for a in meta["args"]]}
    wrong_dtype["args"][0].update(dtype="float64", elem_bits=64)
    with pytest.raises(LaunchArgumentError, match="argument 0 .* does not hold float64"):
        entry.launch(path, wrong_dtype, [torch.ones(2, dtype=torch.float64), torch.ones(2), None, 2],
                     launch_dir=tmp_path)
    missing_size = {**meta, "args": meta["args"][:3]}
    with pytest.raises(LaunchArgumentError, match="@kernel has 4 parameters"):
        entry.launch(path, missing_size, [torch.ones(2), torch.ones(2), None], launch_dir=tmp_path)
    rank2 = ("module {\n  func.func @kernel(%a: memref<?x?xf32>, %b: memref<?xf32>, %c: memref<?xf32>, %n: i64)"
             " attributes {llvm.emit_c_interface} {\n    return\n  }\n}\n")
    with pytest.raises(LaunchArgumentError, match="rank-1 memref"):
        entry.launch(rank2, meta, [torch.ones(2), torch.ones(2), None, 2], launch_dir=tmp_path)


def test_trap_in_kernel_is_reported(tmp_path):
    """A store far outside RAM traps; the runtime's handler reports it and exits 100 + mcause."""
    text = ("module {\n  func.func @kernel(%out: memref<?xf32>, %at: i64) attributes {llvm.emit_c_interface} {\n"
            "    %i = arith.index_cast %at : i64 to index\n    %one = arith.constant 1.0 : f32\n"
            "    memref.store %one, %out[%i] : memref<?xf32>\n    return\n  }\n}\n")
    meta = {"name": "trap_test", "args": [{"name": "out", "kind": "output", "dtype": "float32", "numel": 1},
                                          {"name": "at", "kind": "size", "dtype": "int64"}]}
    with pytest.raises(SpikeExitError) as caught:
        entry.launch(text, meta, [None, 1 << 40], mode="spike", launch_dir=tmp_path)
    assert caught.value.exit_code == 107
    assert "store access fault" in str(caught.value) and "mcause=7" in str(caught.value)


def test_elf_is_rebuilt_when_the_toolchain_changes(add_kernel, monkeypatch):
    path, _ = add_kernel
    elf = elf_build.build_elf(path)
    assert not elf_build.build_elf(path, report=True).built
    with monkeypatch.context() as patch:
        patch.setattr(elf_build, "toolchain_key", lambda: "a-newer-runtime")
        assert elf_build.build_elf(path, report=True).built
        assert not elf_build.build_elf(path, report=True).built
    assert elf_build.build_elf(path, report=True).built and elf.exists()


def test_runtime_memcpy_and_memset_at_any_alignment(tmp_path):
    path = Path(__file__).resolve().parent / "data" / "bytecopy.mlir"
    meta = {"name": "npusim_bytecopy_test", "args": [
        {"name": "in", "kind": "input", "dtype": "uint8", "numel": "src + len"},
        {"name": "out", "kind": "output", "dtype": "uint8", "numel": "total"},
        *({"name": n, "kind": "size", "dtype": "int64"} for n in ("src", "dst", "len", "total"))]}
    elf_build.build_elf(path)
    assembly = elf_build.intermediate(path, "kernel.s").read_text()
    assert "memset" in assembly  # the fill became a call into the runtime
    source = torch.randint(0, 256, (5000,), dtype=torch.uint8)
    for src, dst, length in [(0, 0, 4096), (1, 0, 1000), (0, 3, 999), (8, 16, 2048), (5, 7, 1), (0, 0, 0)]:
        total = dst + length + 13
        result = entry.launch(path, meta, [source, None, src, dst, length, total], mode="spike",
                              launch_dir=tmp_path / f"{src}-{dst}-{length}")
        expected = torch.full((total,), 0x5A, dtype=torch.uint8)
        expected[dst:dst + length] = source[src:src + length]
        assert torch.equal(result.outputs[1], expected), (src, dst, length)


@pytest.mark.parametrize("mode", ["spike", "host"])
def test_memref_copy_calls_memrefcopy(tmp_path, mode):
    path = Path(__file__).resolve().parent / "data" / "stridedcopy.mlir"
    meta = {"name": "npusim_stridedcopy_test", "args": [
        {"name": "in", "kind": "input", "dtype": "float32", "numel": "s0*s1"},
        {"name": "out", "kind": "output", "dtype": "float32", "numel": "s0*s1"},
        {"name": "s0", "kind": "size", "dtype": "int64"}, {"name": "s1", "kind": "size", "dtype": "int64"}]}
    for rows, cols in [(3, 5), (1, 7), (64, 33)]:
        x = torch.randn(cols, rows)
        result = entry.launch(path, meta, [x, None, rows, cols], mode=mode, launch_dir=tmp_path / f"{rows}x{cols}")
        assert torch.equal(result.outputs[1], x.t().contiguous().view(-1))


def test_concurrent_builds_of_one_kernel_build_once(add_kernel):
    """Several processes (pytest -n, parallel launches) asking for one new kernel: one build."""
    import subprocess
    import sys
    import uuid

    path, _ = add_kernel
    text = path.read_text() + f"// {uuid.uuid4()}\n"  # a kernel hash nobody built yet
    script = ("import sys; from simulator.functional import elf_build; "
              "r = elf_build.build_elf(sys.stdin.read(), report=True); print(int(r.built), r.elf)")
    processes = [subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, cwd=Path(elf_build.__file__).resolve().parents[2]) for _ in range(3)]
    answers = [p.communicate(text, timeout=120)[0].split() for p in processes]
    assert all(p.returncode == 0 for p in processes)
    assert sorted(int(built) for built, _ in answers) == [0, 0, 1]
    assert len({elf for _, elf in answers}) == 1
