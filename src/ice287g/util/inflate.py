"""Inflate a zip member a chunk at a time within a limit: never more than the limit, nor more
than its header declares (a header that lies is caught as soon as the bytes pass it).

Every zip the project reads goes through here: the workbooks ICE publishes, the packages
``ice287g.load`` and ``ice287g diff`` open. Only the standard library, so the reader stays light.
"""

from __future__ import annotations

import copy
import zipfile
from collections.abc import Iterator

from ..errors import InputError

CHUNK_BYTES = 2**20  # a mebibyte at a time: no member is ever held whole while it is checked


def chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, label: str) -> Iterator[bytes]:
    """The inflated bytes of ``info``, chunk by chunk; InputError naming ``label`` as soon as they
    pass ``limit`` or the size the member's header declares, or when they fall short of it.

    The member is opened through a copy of its directory entry that declares more than the limit,
    so that zipfile does not stop at the declared size; zipfile checks the CRC at the end."""
    if info.file_size > limit:
        raise InputError(label, f"member {info.filename} declares {info.file_size:,} bytes, more than {limit:,}")
    probe = copy.copy(info)
    probe.file_size = limit + 1
    size = 0
    with zf.open(probe) as fh:
        while chunk := fh.read(CHUNK_BYTES):
            size += len(chunk)
            if size > info.file_size:
                raise InputError(
                    label,
                    f"member {info.filename} inflates to more than the {info.file_size:,} bytes its header "
                    "declares: refused as a zip bomb",
                )
            yield chunk
    if size != info.file_size:
        raise InputError(
            label, f"member {info.filename} holds {size:,} bytes, not the {info.file_size:,} its header declares"
        )


def read(zf: zipfile.ZipFile, name: str, limit: int, label: str) -> bytes:
    """The whole of member ``name``, inflated within ``limit``."""
    return b"".join(chunks(zf, zf.getinfo(name), limit, label))
