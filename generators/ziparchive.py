"""Zip archives from members compressed once and reused.

Every docx of a template shares most of its parts (styles, settings, fonts, relationships). The
standard library's zipfile compresses each member on every write; here a member can be deflated
once per process (`Member.compress`) and copied into each archive as raw bytes, so a document
costs only the deflate of its own XML. The format written is plain PKZIP with deflate (method 8)
or stored members (method 0) and no data descriptors, which Word, WPS, LibreOffice and zipfile all read.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

# DOS date/time of 1980-01-01 00:00: a fixed stamp keeps identical input byte-identical.
_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1
_UTF8_FLAG = 0x0800


@dataclass(frozen=True)
class Member:
    name: str
    crc: int
    size: int
    compressed: bytes  # raw deflate stream (no zlib header), or the data itself when stored
    method: int = 8  # 8 deflate, 0 stored (data that is compressed already, such as PNG)

    @classmethod
    def stored(cls, name: str, data: bytes) -> Member:
        return cls(name, zlib.crc32(data), len(data), data, 0)

    @classmethod
    def compress(cls, name: str, data: bytes, level: int = 6) -> Member:
        deflater = zlib.compressobj(level, zlib.DEFLATED, -15)
        return cls(name, zlib.crc32(data), len(data), deflater.compress(data) + deflater.flush())


def write_zip(members: list[Member]) -> bytes:
    """The archive bytes: local headers and data, then the central directory."""
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for m in members:
        name = m.name.encode("utf-8")
        flags = _UTF8_FLAG if not m.name.isascii() else 0
        local = struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, flags, m.method, _DOS_TIME, _DOS_DATE,
            m.crc, len(m.compressed), m.size, len(name), 0,
        )
        chunks += (local, name, m.compressed)
        central.append(struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, m.method, _DOS_TIME, _DOS_DATE,
            m.crc, len(m.compressed), m.size, len(name), 0, 0, 0, 0, 0, offset,
        ) + name)
        offset += len(local) + len(name) + len(m.compressed)
    directory = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), offset, 0)
    return b"".join(chunks) + directory + end
