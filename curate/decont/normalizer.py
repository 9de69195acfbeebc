"""Texts -> their normal form as one code-point array, with a class per code point (vectorised).

A batch of texts becomes one UTF-32 array (one ``str.encode`` of the joined texts), mapped through
:func:`curate.decont.char_table.char_table` with one gather: lower-cased, NFKC where NFKC is a per-character
mapping, format characters dropped, every character classed (separator / word / a script written without
spaces). Texts where NFKC depends on neighbouring characters (a decomposed accent that composes, combining marks
out of canonical order, conjoining jamo, "½") are first normalised by ``unicodedata`` and then mapped the same way,
so every text gets exactly :func:`curate.decont.char_table.reference_normal_form` (up to separators, which only
delimit tokens).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.decont.char_table import (
    CLASS_SHIFT,
    CP_MASK,
    EXPAND,
    FLAGS,
    HARD,
    MARK,
    NEIGHBOUR_FLAGS,
    PAIR_ONLY,
    SECOND,
    VALUE_MASK,
    CharTable,
    char_table,
    nfkc,
)


@dataclass
class NormalBatch:
    """Normal forms of a batch of texts, back to back: text ``i`` is ``values[offsets[i]:offsets[i + 1]]``."""

    values: np.ndarray  # uint32: code point | class << 24, what tokens are hashed over
    cls: np.ndarray  # uint8 class of each code point (char_table classes)
    offsets: np.ndarray  # int64, one more than texts

    def text(self, start: int, end: int) -> str:
        """The normal form between two positions, as a string."""
        return (self.values[start:end] & np.uint32(CP_MASK)).tobytes().decode("utf-32-le")


Texts = list[str] | pa.Array | pa.ChunkedArray


def text_lengths(texts: Texts) -> np.ndarray:
    """Characters of each text (nulls count 0)."""
    if isinstance(texts, list):
        return np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    return pc.fill_null(pc.utf8_length(texts), 0).to_numpy(zero_copy_only=False).astype(np.int64)


def _joined(texts: Texts) -> tuple[str, np.ndarray]:
    """All texts as one string, and where each starts (an Arrow column is decoded in one piece: no string per
    document, no join)."""
    lengths = text_lengths(texts)
    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if isinstance(texts, list):
        return "".join(texts), offsets
    array = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    if not len(array):
        return "", offsets
    if array.null_count:  # a null's slot may hold bytes: give it an empty string
        array = pc.fill_null(array, "")
    _, bounds, data = array.buffers()
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    ends = np.frombuffer(bounds, dtype=width, count=array.offset + len(array) + 1)
    first, last = int(ends[array.offset]), int(ends[array.offset + len(array)])
    return (str(memoryview(data)[first:last], "utf-8") if data is not None else ""), offsets


def _neighbour_texts(table: CharTable, cp: np.ndarray, entry: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Indices of the texts whose NFKC the per-character table cannot give (see the module docstring)."""
    hard = np.flatnonzero(entry & HARD)
    at = np.flatnonzero(entry & (SECOND | MARK))
    at = at[at > 0]
    if at.size:
        prev = cp[at - 1]
        prev_entry = entry[at - 1]
        # a mark, a second or a mapped character before (not for the Thai/Lao AM pair, where only the pair counts)
        mapped = ((prev_entry & np.uint32(CP_MASK)) != prev) | ((prev_entry & np.uint32(EXPAND)) != 0)
        risky = (((prev_entry & (MARK | SECOND)) != 0) | mapped) & ((entry[at] & PAIR_ONLY) == 0)
        second = (entry[at] & SECOND) != 0
        if second.any():
            keys = (prev[second].astype(np.uint64) << np.uint64(21)) | cp[at[second]].astype(np.uint64)
            found = np.searchsorted(table.pairs, keys)
            found[found == table.pairs.size] = 0
            risky[np.flatnonzero(second)] |= table.pairs[found] == keys if table.pairs.size else False
        mark = (entry[at] & MARK) != 0
        if mark.any():
            ccc = table.ccc
            risky[mark] |= ccc[prev[mark]] > ccc[cp[at[mark]]]  # out of canonical order: NFKC reorders them
        hard = np.concatenate([hard, at[risky]])
    if not hard.size:
        return hard
    return np.unique(np.searchsorted(offsets, hard, side="right") - 1)


def _map(table: CharTable, cp: np.ndarray, entry: np.ndarray, offsets: np.ndarray, flags: int) -> NormalBatch:
    cls = (entry >> np.uint32(CLASS_SHIFT)).astype(np.uint8) & np.uint8(15)
    if not flags:  # the common case: every entry is exactly code point | class
        return NormalBatch(entry, cls, offsets)
    out = entry & np.uint32(VALUE_MASK)
    if not flags & EXPAND:
        return NormalBatch(out, cls, offsets)
    # characters that map to none (format characters) or to several code points (ligatures, "™")
    at = np.flatnonzero(entry & np.uint32(EXPAND))
    lengths = table.exp_len[cp[at]].astype(np.int64)
    first = table.exp_start[cp[at]].astype(np.int64)
    shift = np.zeros(at.size + 1, dtype=np.int64)
    np.cumsum(lengths - 1, out=shift[1:])
    new_offsets = offsets + shift[np.searchsorted(at, offsets)]
    if at.size <= 256:  # usually a few per batch: splice slices
        cps: list[np.ndarray] = []
        classes: list[np.ndarray] = []
        prev = 0
        for i, length, start in zip(at.tolist(), lengths.tolist(), first.tolist(), strict=True):
            cps += [out[prev:i], table.expansion_values[start:start + length]]
            classes += [cls[prev:i], table.expansion_classes[start:start + length]]
            prev = i + 1
        cps.append(out[prev:])
        classes.append(cls[prev:])
        return NormalBatch(np.concatenate(cps), np.concatenate(classes), new_offsets)
    counts = np.ones(cp.size, dtype=np.int64)
    counts[at] = lengths
    mapped = np.repeat(out, counts)
    classes = np.repeat(cls, counts)
    where = at + shift[:-1]  # output position of each expanded character's first code point
    has = lengths > 0
    if has.any():
        k = np.repeat(np.arange(at.size)[has], lengths[has])
        within = np.arange(k.size) - np.repeat(np.concatenate([[0], np.cumsum(lengths[has])[:-1]]), lengths[has])
        mapped[where[k] + within] = table.expansion_values[first[k] + within]
        classes[where[k] + within] = table.expansion_classes[first[k] + within]
    return NormalBatch(mapped, classes, new_offsets)


def normalize_texts(texts: Texts) -> NormalBatch:
    """The normal forms of ``texts`` (a list of strings or an Arrow string column; see the module docstring)."""
    table = char_table()
    joined, offsets = _joined(texts)
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    entry = table.main[cp]
    flags = int(np.bitwise_or.reduce(entry)) & FLAGS if entry.size else 0  # one pass
    if flags & NEIGHBOUR_FLAGS:
        redo = _neighbour_texts(table, cp, entry, offsets)
        if redo.size:
            pieces = [joined[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]
            for i in redo.tolist():
                pieces[i] = nfkc(pieces[i])
            joined, offsets = _joined(pieces)
            cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
            entry = table.main[cp]
            flags = int(np.bitwise_or.reduce(entry)) & FLAGS if entry.size else 0  # marks stay: mask them off
    return _map(table, cp, entry, offsets, flags)
