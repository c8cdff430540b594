"""The artifact cache: one directory per kernel hash (CONTRACTS.md section 6).

`entry(hash).build(name, builder)` returns the path of an artifact, building it
at most once across threads and processes: the builder writes a temporary
file, which is renamed into place under the entry's file lock, then a
`<name>.ok` stamp records its sha256. An artifact whose stamp is missing or
does not match (half-written, corrupted) is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from filelock import FileLock

from npusim.paths import CacheError, cache_dir  # noqa: F401  (CacheError: part of this module's API)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _remove(path: Path) -> None:
    """Delete whatever stands at `path` (file, link, directory) so it can be made again."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


class CacheEntry:
    def __init__(self, key: str, root: Path | None = None):
        self.key = key
        self.dir = (root or cache_dir()) / "kernels" / key
        try:
            if (self.dir.exists() or self.dir.is_symlink()) and not self.dir.is_dir():
                _remove(self.dir)  # a damaged entry (a plain file, a dangling link): rebuilt from scratch
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(f"cannot create the artifact cache entry {self.dir}: {exc.strerror or exc}; "
                             "make it writable or set NPUSIM_CACHE_DIR to a writable directory") from exc

    def path(self, name: str) -> Path:
        return self.dir / name

    def _stamp(self, name: str) -> Path:
        return self.dir / f"{name}.ok"

    def lock(self) -> FileLock:
        return FileLock(str(self.dir / ".lock"))

    def valid(self, name: str) -> bool:
        artifact, stamp = self.path(name), self._stamp(name)
        if not artifact.is_file() or not stamp.is_file():
            return False
        try:
            return stamp.read_text().strip() == sha256_file(artifact)
        except (OSError, UnicodeDecodeError):  # unreadable or garbled: not trusted, rebuilt
            return False

    def build(self, name: str, builder: Callable[[Path], None]) -> tuple[Path, bool]:
        """Return (artifact path, built_now). `builder(tmp_path)` must write tmp_path."""
        target = self.path(name)
        if self.valid(name):
            return target, False
        try:
            return self._build_locked(name, target, builder)
        except OSError as exc:
            if exc.filename is None or not str(exc.filename).startswith(str(self.dir)):
                raise  # not the cache's own file: the builder's error, kept as it is
            raise CacheError(f"cannot write {name} in the artifact cache entry {self.dir}: "
                             f"{exc.strerror or exc}; make it writable or set NPUSIM_CACHE_DIR to a "
                             "writable directory") from exc

    def _build_locked(self, name: str, target: Path, builder: Callable[[Path], None]) -> tuple[Path, bool]:
        with self.lock():
            if self.valid(name):  # another process built it while we waited
                return target, False
            _remove(self._stamp(name))
            if target.is_dir() and not target.is_symlink():
                _remove(target)  # a damaged artifact (a directory in its place)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.dir)
            os.close(fd)
            tmp_path = Path(tmp)
            try:
                builder(tmp_path)
                if not tmp_path.exists() or tmp_path.stat().st_size == 0:
                    raise RuntimeError(f"builder for {target} wrote nothing")
                os.replace(tmp_path, target)
            finally:
                tmp_path.unlink(missing_ok=True)
            digest = sha256_file(target)
            stamp_tmp = self._stamp(name).with_suffix(".ok.tmp")
            stamp_tmp.write_text(digest)
            os.replace(stamp_tmp, self._stamp(name))
            return target, True

    def put_text(self, name: str, text: str) -> tuple[Path, bool]:
        return self.build(name, lambda p: p.write_text(text))

    def require_generator(self, record: str, generator: str, names: tuple[str, ...]) -> None:
        """The entry's key is the kernel hash alone, but artifacts derived from kernel.mlir also
        depend on the code that built them. `record` holds that code's key (`generator`);
        under another key, `names` are deleted (so `build` makes them again) and the record
        is updated."""
        path = self.path(record)

        def current() -> bool:
            return path.exists() and path.read_text().strip() == generator

        if current():
            return
        with self.lock():
            if current():
                return
            for name in names:
                self.path(name).unlink(missing_ok=True)
            temporary = path.with_name(f".{record}.{os.getpid()}.tmp")
            temporary.write_text(generator)
            os.replace(temporary, path)


def entry(key: str) -> CacheEntry:
    return CacheEntry(key)
