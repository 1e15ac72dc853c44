"""Each segment's postings as arrays too: a sidecar file the NumPy scorer reads without decoding.

Whoosh's ``whoosh3`` codec stores a term's postings as zlib-compressed pickles of 128-posting
blocks. Decoding the blocks of words a process has not read before was most of a first-time
search at 100k documents (48 of 107 ms for the slowest queries, measured with cProfile). So
while Whoosh writes a segment's postings, the same docnums and weights are collected and, when
the field writer closes, written beside them as one more file of the segment
(``<segment id>.npa``; Whoosh packs it into the segment's compound file with the others, so it
is created, merged and deleted with the segment). The scorer then maps the file and slices a
term's arrays: no decompression, no unpickling.

Layout (little-endian, every part 8-byte aligned within the file):

    magic b"PDVPOST1" | uint64 terms | uint64 postings | uint64 weight bytes (4 or 8)
    int64[terms]      the offset of each term's postings in Whoosh's .pst file (ascending)
    int64[terms + 1]  where each term's postings start in the arrays below
    int32[postings]   docnums
    float32 or float64[postings]   weights (float32 when that holds every weight exactly)

A term is found by the offset its ``W3TermInfo`` gives. Segments written before this module
(or by another codec) have no sidecar; the scorer decodes their blocks as before.
"""

from __future__ import annotations

import mmap
import os
import sys
from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import W3FieldWriter
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage, OverlayStorage

SIDECAR_EXT = ".npa"  # NumPy arrays; Whoosh uses .trm .pst .vps .col .seg
MAGIC = b"PDVPOST1"
_CHECK_CHUNK = 1 << 20
_HEADER = np.dtype([("magic", "S8"), ("terms", "<u8"), ("postings", "<u8"), ("wbytes", "<u8")])


# --- writing -------------------------------------------------------------------------------


class _Collected:
    """What one field writer has written so far (for every field of its segment)."""

    def __init__(self) -> None:
        self.offsets = array("q")
        self.starts = array("q", [0])
        self.ids = array("i")
        self.weights = array("d")


def _collected(writer: Any) -> _Collected:
    found = writer.__dict__.get("_peerdesk_arrays")
    if found is None:
        found = writer.__dict__["_peerdesk_arrays"] = _Collected()
    return found


def _add(self: Any, docnum: int, weight: float, vbytes: bytes, length: int) -> None:
    self._postwriter.add_posting(docnum, weight, vbytes, length)
    collected = self.__dict__["_peerdesk_arrays"]
    collected.ids.append(docnum)
    collected.weights.append(weight)


_whoosh_start_term = W3FieldWriter.start_term
_whoosh_finish_term = W3FieldWriter.finish_term
_whoosh_close = W3FieldWriter.close


def _start_term(self: Any, btext: bytes) -> None:
    _whoosh_start_term(self, btext)
    _collected(self)


def _finish_term(self: Any) -> None:
    offset = self._postwriter._startoffset
    _whoosh_finish_term(self)
    collected = self.__dict__["_peerdesk_arrays"]
    if self._postfile.tell() > offset:  # written to the .pst file (not inlined in the terminfo)
        collected.offsets.append(offset)
        collected.starts.append(len(collected.ids))
    else:
        del collected.ids[collected.starts[-1] :]
        del collected.weights[collected.starts[-1] :]


def _close(self: Any) -> None:
    collected = self.__dict__.pop("_peerdesk_arrays", None)
    if collected is not None and collected.offsets:
        _write_sidecar(self._create_file(SIDECAR_EXT), collected)
    _whoosh_close(self)


def _write_sidecar(f: Any, collected: _Collected) -> None:
    # Written from the arrays' own memory where it can be: at 100k documents each rebuilding
    # process holds ~10M postings, and every copy costs another 40-80 MB.
    weights = np.frombuffer(collected.weights, dtype=np.float64)
    narrow = weights.astype(np.float32)
    exact = all(
        np.array_equal(narrow[i : i + _CHECK_CHUNK], weights[i : i + _CHECK_CHUNK])
        for i in range(0, weights.size, _CHECK_CHUNK)
    )
    stored = narrow if exact else weights
    header = np.array(
        [(MAGIC, len(collected.offsets), len(collected.ids), stored.itemsize)], dtype=_HEADER
    )
    f.write(header.tobytes())
    for part in (collected.offsets, collected.starts, collected.ids):
        f.write(_little_endian(part))
    if len(collected.ids) % 2:  # keep the weights 8-byte aligned
        f.write(b"\0" * 4)
    f.write(_little_endian(stored))
    f.close()


def _little_endian(values: Any) -> Any:
    if sys.byteorder == "little":
        return memoryview(values).cast("B")
    swapped = np.array(values)
    return swapped.byteswap().tobytes()


# Whoosh is pinned (2.7.4, frozen upstream); tests/knowledge/test_whoosh_postings.py checks that
# the sidecar of every segment kind (rebuild, update, merge, several processes) holds exactly
# the postings Whoosh's own blocks hold.
W3FieldWriter.start_term = _start_term
W3FieldWriter.add = _add
W3FieldWriter.finish_term = _finish_term
W3FieldWriter.close = _close


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sidecar:
    offsets: np.ndarray
    starts: np.ndarray
    ids: np.ndarray
    weights: np.ndarray

    def postings(self, offset: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(docnums, weights) of the term whose .pst postings start at ``offset``."""
        index = int(np.searchsorted(self.offsets, offset))
        if index == self.offsets.size or self.offsets[index] != offset:
            return None
        start, end = int(self.starts[index]), int(self.starts[index + 1])
        # float64 as the scorer computes: NumPy keeps float32 arrays float32 in arithmetic.
        return self.ids[start:end], self.weights[start:end].astype(np.float64)


def open_sidecar(reader: Any) -> Sidecar | None:
    """The sidecar of ``reader``'s segment, or None when it has none.

    On disk the file is mapped on its own (not through the reader's map): the arrays live in
    a per-segment cache that may outlast the reader, and a map with arrays over it cannot be
    closed."""
    segment = reader.segment()
    name = segment.make_filename(SIDECAR_EXT)
    storage = getattr(reader, "_storage", None)
    buffer: Any = None
    base = 0
    if isinstance(storage, OverlayStorage) and isinstance(storage.a, CompoundStorage):
        compound, main = storage.a, storage.b
        try:
            base, length = compound.range(name)
        except NameError:
            return None
        if isinstance(main, FileStorage):
            path = os.path.join(main.folder, segment.make_filename(segment.COMPOUND_EXT))
            buffer = _map(path)
        else:
            buffer = compound.open_file(name).read(length)
            base = 0
    elif storage is not None and storage.file_exists(name):
        if isinstance(storage, FileStorage):
            buffer = _map(os.path.join(storage.folder, name))
        else:
            buffer = storage.open_file(name).read()
    if buffer is None:
        return None
    return _parse(buffer, base)


def _map(path: str) -> mmap.mmap:
    with open(path, "rb") as file:
        return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)


def _parse(buffer: Any, base: int) -> Sidecar | None:
    header = np.frombuffer(buffer, dtype=_HEADER, count=1, offset=base)[0]
    if header["magic"] != MAGIC:
        return None
    terms, postings, wbytes = int(header["terms"]), int(header["postings"]), int(header["wbytes"])
    position = base + _HEADER.itemsize

    def take(dtype: str, count: int) -> np.ndarray:
        nonlocal position
        part = np.frombuffer(buffer, dtype=dtype, count=count, offset=position)
        position += part.nbytes
        return part

    # The term index is copied into memory (16 bytes a term): a part of a compound file sits at
    # any byte offset, and NumPy's binary search copies an unaligned array on every call.
    offsets = np.array(take("<i8", terms), dtype=np.int64)
    starts = np.array(take("<i8", terms + 1), dtype=np.int64)
    ids = take("<i4", postings)
    position += 4 * (postings % 2)
    weights = take("<f4" if wbytes == 4 else "<f8", postings)
    return Sidecar(offsets, starts, ids, weights)
