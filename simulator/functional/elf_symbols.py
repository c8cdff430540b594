"""The symbol table of an ELF64 little-endian file (kernel.elf, kernel.o),
read with struct: enough to find function address ranges, no dependency."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

SHT_SYMTAB = 2
STT_FUNC = 2
SHN_UNDEF = 0


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int
    size: int
    type: int  # STT_*
    section_index: int

    @property
    def is_function(self) -> bool:
        return self.type == STT_FUNC

    @property
    def defined(self) -> bool:
        return self.section_index != SHN_UNDEF


class ElfFormatError(ValueError):
    pass


def read_symbols(path: str | Path) -> list[Symbol]:
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ElfFormatError(f"{path}: not a little-endian ELF64 file")
    (section_offset,) = struct.unpack_from("<Q", data, 0x28)
    entry_size, count = struct.unpack_from("<HH", data, 0x3A)
    sections = []
    for i in range(count):
        # sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_addralign, sh_entsize
        sections.append(struct.unpack_from("<IIQQQQIIQQ", data, section_offset + i * entry_size))
    symbols = []
    for _, kind, _, _, offset, size, link, _, _, symbol_size in sections:
        if kind != SHT_SYMTAB:
            continue
        strings_offset = sections[link][4]
        for at in range(offset, offset + size, symbol_size or 24):
            name_offset, info, _, shndx, value, sym_size = struct.unpack_from("<IBBHQQ", data, at)
            end = data.index(b"\0", strings_offset + name_offset)
            name = data[strings_offset + name_offset:end].decode(errors="replace")
            symbols.append(Symbol(name, value, sym_size, info & 0xF, shndx))
    return symbols


def function_ranges(path: str | Path, names: set[str] | None = None) -> dict[str, tuple[int, int]]:
    """name -> [start, end) of every defined function symbol (or only `names`)."""
    return {s.name: (s.address, s.address + s.size) for s in read_symbols(path)
            if s.is_function and s.defined and (names is None or s.name in names)}
