"""Checksums, in one place: the sha256 of a file or of bytes (lower-case hex), and the
SHA256SUMS files that list them.

Only the standard library, so the reader (``ice287g.consume.loader``) uses it as the builder does.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from pathlib import Path

from ..errors import InputError

BLOCK_BYTES = 1 << 20  # a file is hashed a mebibyte at a time, never held whole


def sha256_of(path: Path) -> str:
    """The sha256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """The sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def parse_sums(data: bytes, label: str) -> dict[str, str]:
    """``<hex>  <relative path>`` lines (``sha256sum`` format, as SHA256SUMS holds) -> {normalized
    path: hex}; InputError naming ``label`` at a line of another form."""
    sums = {}
    for line in data.decode("utf-8").splitlines():
        if not line.strip():
            continue
        match = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](.+)", line)
        if not match:
            raise InputError(label, f"not a sha256sum line: {line!r}")
        sums[posixpath.normpath(match[2])] = match[1].lower()
    return sums
