"""Artifact cache: nothing half-built is ever trusted, and concurrent builders build once."""

import subprocess
import sys
import textwrap

import pytest

from npusim import cache
from npusim.paths import REPO_ROOT, cache_dir

PAYLOAD = b"artifact bytes " * 1000


class Crash(RuntimeError):
    pass


def good_builder(calls):
    def build(tmp):
        calls.append(tmp)
        tmp.write_bytes(PAYLOAD)
    return build


def leftovers(entry):
    """Files in the entry other than trusted artifacts, their stamps and the lock."""
    return sorted(p.name for p in entry.dir.iterdir() if p.name.endswith(".tmp"))


def test_cache_dir_follows_env(tmp_path):
    assert cache_dir() == tmp_path / "cache"
    entry = cache.entry("k" * 64)
    assert entry.dir == tmp_path / "cache" / "kernels" / ("k" * 64)


def test_build_once_then_reuse():
    entry, calls = cache.entry("h1"), []
    path, built = entry.build("kernel.elf", good_builder(calls))
    assert built and path.read_bytes() == PAYLOAD
    assert (entry.dir / "kernel.elf.ok").read_text() == cache.sha256_file(path)
    again, built_again = cache.entry("h1").build("kernel.elf", good_builder(calls))
    assert (again, built_again, len(calls)) == (path, False, 1)


def test_artifacts_of_another_generator_are_rebuilt_and_the_rest_kept():
    entry, calls = cache.entry("h-gen"), []
    entry.require_generator("elf.key", "toolchain-1", ("kernel.elf",))
    entry.build("kernel.elf", good_builder(calls))
    entry.put_text("kernel.mlir", "module {}")
    entry.require_generator("elf.key", "toolchain-1", ("kernel.elf",))
    assert not entry.build("kernel.elf", good_builder(calls))[1]  # same generator: reused
    entry.require_generator("elf.key", "toolchain-2", ("kernel.elf",))
    assert (entry.dir / "elf.key").read_text() == "toolchain-2"
    assert entry.build("kernel.elf", good_builder(calls))[1] and len(calls) == 2
    assert entry.valid("kernel.mlir")  # not derived by that generator: untouched


def test_builder_crash_midway_leaves_nothing_trusted():
    entry = cache.entry("h2")

    def crashing(tmp):
        tmp.write_bytes(PAYLOAD[: len(PAYLOAD) // 2])  # half an artifact, then die
        raise Crash("compiler died")

    with pytest.raises(Crash):
        entry.build("trace.so", crashing)
    assert not entry.valid("trace.so")
    assert not entry.path("trace.so").exists(), "a half-built artifact must not take the real name"
    assert leftovers(entry) == []
    calls = []
    path, built = entry.build("trace.so", good_builder(calls))
    assert built and len(calls) == 1 and path.read_bytes() == PAYLOAD


def test_builder_that_writes_nothing_is_an_error():
    entry = cache.entry("h3")
    with pytest.raises(RuntimeError, match="wrote nothing"):
        entry.build("cost.json", lambda tmp: None)
    assert not entry.valid("cost.json") and leftovers(entry) == []


@pytest.mark.parametrize(
    "damage",
    ["truncate", "flip_byte", "stamp_mismatch", "stamp_missing", "artifact_missing"],
)
def test_damaged_entry_is_rebuilt_not_trusted(damage):
    entry, calls = cache.entry("h4"), []
    path, _ = entry.build("kernel.elf", good_builder(calls))
    stamp = entry.dir / "kernel.elf.ok"
    if damage == "truncate":  # a half-written file under the real name
        with open(path, "r+b") as handle:
            handle.truncate(len(PAYLOAD) // 3)
    elif damage == "flip_byte":  # same size, different content
        data = bytearray(path.read_bytes())
        data[100] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "stamp_mismatch":
        stamp.write_text("0" * 64)
    elif damage == "stamp_missing":  # died between the rename and the stamp
        stamp.unlink()
    elif damage == "artifact_missing":
        path.unlink()
    assert not entry.valid("kernel.elf")
    path, built = entry.build("kernel.elf", good_builder(calls))
    assert built and len(calls) == 2
    assert path.read_bytes() == PAYLOAD and entry.valid("kernel.elf")


def test_put_text_round_trip():
    entry = cache.entry(cache.sha256_text("module {}"))
    path, built = entry.put_text("kernel.mlir", "module {}\n")
    assert built and path.read_text() == "module {}\n"
    assert entry.put_text("kernel.mlir", "ignored")[1] is False


BUILDER_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from npusim import cache
    builds_log, go = Path(sys.argv[1]), Path(sys.argv[2])

    def slow_build(tmp):
        with open(builds_log, "a") as handle:  # one line per real build
            handle.write(f"{os.getpid()}\\n")
        with open(tmp, "wb") as out:
            for _ in range(20):  # written slowly so readers could see it half-done
                out.write(b"x" * 4096)
                out.flush()
                time.sleep(0.005)

    while not go.exists():
        time.sleep(0.001)
    path, built = cache.entry("shared").build("kernel.elf", slow_build)
    assert path.stat().st_size == 20 * 4096, path.stat().st_size
    print("built" if built else "reused")
    """
)


def test_concurrent_builders_in_processes_build_exactly_once(tmp_path):
    builds_log, go = tmp_path / "builds.log", tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", BUILDER_SCRIPT, str(builds_log), str(go)],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
        )
        for _ in range(6)
    ]
    go.touch()
    outcomes = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        outcomes.append(out.strip())
    assert sorted(outcomes) == ["built"] + ["reused"] * 5
    assert len(builds_log.read_text().splitlines()) == 1
    entry = cache.entry("shared")
    assert entry.valid("kernel.elf") and leftovers(entry) == []


# --- damaged entries and unusable caches (bad input gets a clear error and loses nothing) -----
@pytest.mark.parametrize("damage", ["plain file", "dangling link"])
def test_a_damaged_entry_is_rebuilt(damage, tmp_path):
    entry, calls = cache.entry("d1"), []
    entry.build("kernel.elf", good_builder(calls))
    import shutil

    shutil.rmtree(entry.dir)
    if damage == "plain file":
        entry.dir.write_text("not a directory")
    else:
        entry.dir.symlink_to(tmp_path / "nowhere")
    again = cache.entry("d1")
    path, built = again.build("kernel.elf", good_builder(calls))
    assert again.dir.is_dir() and built and path.read_bytes() == PAYLOAD and len(calls) == 2


def test_a_directory_in_place_of_an_artifact_is_rebuilt():
    entry, calls = cache.entry("d2"), []
    (entry.dir / "kernel.elf").mkdir()
    (entry.dir / "kernel.elf" / "junk").write_text("x")
    (entry.dir / "kernel.elf.ok").mkdir()
    path, built = entry.build("kernel.elf", good_builder(calls))
    assert built and path.read_bytes() == PAYLOAD
    assert entry.valid("kernel.elf")


def test_a_garbled_stamp_is_not_trusted():
    entry, calls = cache.entry("d3"), []
    entry.build("kernel.elf", good_builder(calls))
    (entry.dir / "kernel.elf.ok").write_bytes(b"\xff\xfe not utf-8")
    assert not entry.valid("kernel.elf")
    entry.build("kernel.elf", good_builder(calls))
    assert len(calls) == 2


def test_an_unusable_cache_dir_is_one_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("NPUSIM_CACHE_DIR", str(blocker / "cache"))  # a path under a file
    with pytest.raises(cache.CacheError) as error:
        cache.entry("d4")
    message = str(error.value)
    assert str(blocker / "cache") in message and "NPUSIM_CACHE_DIR" in message and "\n" not in message


def test_an_unwritable_entry_is_one_clear_error(tmp_path, monkeypatch):
    entry = cache.entry("d5")
    import shutil

    shutil.rmtree(entry.dir)
    entry.dir.parent.joinpath("d5").write_text("x")
    monkeypatch.setattr(cache, "_remove", lambda path: None)  # the damaged entry cannot be removed
    with pytest.raises(cache.CacheError) as error:
        cache.entry("d5")
    assert str(entry.dir) in str(error.value) and "NPUSIM_CACHE_DIR" in str(error.value)
