"""SHA-256 of many short messages at once: the ledger's leaf and node hashes in bulk.

``hashlib`` hashes one message per call, holding the GIL for messages this short (CPython
releases it only above 2 KiB), so a batch of 10,000 leaves is 10,000 interpreter round trips on
one core. Here a batch is one compiled call, parallel over messages: FIPS 180-4 SHA-256 [1]_
written out in numba. It is an accelerator, not a second source of truth: the tests hold every
digest to ``hashlib.sha256`` on random messages of every length around the block boundaries,
proofs and audits verify with ``hashlib``, and without numba the same functions fall back to
``hashlib``.

References
----------
.. [1] NIST (2015). FIPS PUB 180-4, *Secure Hash Standard*, §5.1.1 (padding), §6.2 (SHA-256).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .kernels import HAVE_NUMBA

U8Array = npt.NDArray[np.uint8]
LEAF_PREFIX = 0x00  # RFC 9162 §2.1.1: leaf hashes prefix 0x00, interior nodes 0x01
NODE_PREFIX = 0x01

_K = np.array(
    [
        0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4,
        0xAB1C5ED5, 0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE,
        0x9BDC06A7, 0xC19BF174, 0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F,
        0x4A7484AA, 0x5CB0A9DC, 0x76F988DA, 0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7,
        0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967, 0x27B70A85, 0x2E1B2138, 0x4D2C6DFC,
        0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85, 0xA2BFE8A1, 0xA81A664B,
        0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070, 0x19A4C116,
        0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
        0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7,
        0xC67178F2,
    ],
    dtype=np.uint32,
)  # fmt: skip
_H0 = np.array(
    [0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB,
     0x5BE0CD19],
    dtype=np.uint32,
)  # fmt: skip

if HAVE_NUMBA:
    from numba import njit, prange

    @njit(cache=True, inline="always")
    def _rotr(x, n):  # pragma: no cover - compiled
        return (x >> np.uint32(n)) | (x << np.uint32(32 - n))

    @njit(cache=True)
    def _digest(prefix, src, start, length, buf, w, h, out, row):  # pragma: no cover - compiled
        # SHA-256 of the message prefix || src[start : start + length] into out[row]; ``buf``
        # holds the padded message (FIPS 180-4 §5.1.1), big enough for it.
        total = length + 1  # bytes of message
        n_blocks = (total + 8) // 64 + 1  # room for 0x80 and the 64-bit length
        end = n_blocks * 64
        buf[0] = prefix
        for p in range(length):
            buf[1 + p] = src[start + p]
        buf[total] = 0x80
        for p in range(total + 1, end - 8):
            buf[p] = 0
        bits = np.uint64(total) * np.uint64(8)
        for b in range(8):
            buf[end - 1 - b] = np.uint8((bits >> np.uint64(8 * b)) & np.uint64(0xFF))
        for j in range(8):
            h[j] = _H0[j]
        for blk in range(n_blocks):
            base = blk * 64
            for j in range(16):
                q = base + 4 * j
                w[j] = (
                    (np.uint32(buf[q]) << np.uint32(24))
                    | (np.uint32(buf[q + 1]) << np.uint32(16))
                    | (np.uint32(buf[q + 2]) << np.uint32(8))
                    | np.uint32(buf[q + 3])
                )
            for j in range(16, 64):
                s0 = _rotr(w[j - 15], 7) ^ _rotr(w[j - 15], 18) ^ (w[j - 15] >> np.uint32(3))
                s1 = _rotr(w[j - 2], 17) ^ _rotr(w[j - 2], 19) ^ (w[j - 2] >> np.uint32(10))
                w[j] = np.uint32(w[j - 16] + s0 + w[j - 7] + s1)
            a, b_, c, d, e, f, g, hh = h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
            for j in range(64):
                s1 = _rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)
                ch = (e & f) ^ (~e & g)
                t1 = np.uint32(hh + s1 + ch + _K[j] + w[j])
                s0 = _rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)
                maj = (a & b_) ^ (a & c) ^ (b_ & c)
                t2 = np.uint32(s0 + maj)
                hh, g, f, e = g, f, e, np.uint32(d + t1)
                d, c, b_, a = c, b_, a, np.uint32(t1 + t2)
            h[0] = np.uint32(h[0] + a)
            h[1] = np.uint32(h[1] + b_)
            h[2] = np.uint32(h[2] + c)
            h[3] = np.uint32(h[3] + d)
            h[4] = np.uint32(h[4] + e)
            h[5] = np.uint32(h[5] + f)
            h[6] = np.uint32(h[6] + g)
            h[7] = np.uint32(h[7] + hh)
        for j in range(8):
            for b in range(4):
                out[row, 4 * j + b] = np.uint8((h[j] >> np.uint32(24 - 8 * b)) & np.uint32(0xFF))

    @njit(parallel=True, cache=True)
    def _many(prefix, src, offsets, max_length, out):  # pragma: no cover - compiled
        n = out.shape[0]
        n_tasks = min(n, 64)
        for task in prange(n_tasks):  # contiguous runs of messages, scratch per run
            buf = np.empty(((max_length + 9) // 64 + 1) * 64, dtype=np.uint8)
            w = np.empty(64, dtype=np.uint32)
            h = np.empty(8, dtype=np.uint32)
            for i in range(task * n // n_tasks, (task + 1) * n // n_tasks):
                length = offsets[i + 1] - offsets[i]
                _digest(prefix, src, offsets[i], length, buf, w, h, out, i)


def _hashlib_many(prefix: int, src: bytes, offsets: npt.NDArray[np.int64]) -> U8Array:
    sha, p = hashlib.sha256, bytes([prefix])
    digests = b"".join(
        sha(p + src[offsets[i] : offsets[i + 1]]).digest() for i in range(len(offsets) - 1)
    )
    return np.frombuffer(digests, dtype=np.uint8).reshape(-1, 32)


def hash_many(prefix: int, src: bytes, offsets: npt.NDArray[np.int64]) -> U8Array:
    """SHA-256 of ``bytes([prefix]) + src[offsets[i]:offsets[i + 1]]`` for every ``i``, as rows
    of a ``[n, 32]`` uint8 array."""
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    n = offsets.shape[0] - 1
    if not HAVE_NUMBA:  # pragma: no cover
        return _hashlib_many(prefix, src, offsets)
    out = np.empty((n, 32), dtype=np.uint8)
    if n:
        max_length = int(np.diff(offsets).max())
        _many(np.uint8(prefix), np.frombuffer(src, dtype=np.uint8), offsets, max_length, out)
    return out


#: Messages per call from which the compiled path is used; smaller batches (a CLI append of one
#: record) hash with ``hashlib`` and skip loading the compiled code.
BULK = 1024


def leaf_digests(
    items: Sequence[bytes], data: bytes | None = None, offsets: npt.ArrayLike | None = None
) -> bytes:
    """RFC 9162 leaf hashes ``SHA-256(0x00 || item)`` of ``items``, concatenated (32 bytes
    each). ``data`` and ``offsets`` (``b"".join(items)`` and the items' start offsets with the
    total last), when the caller has them already."""
    if len(items) < BULK or not HAVE_NUMBA:
        sha = hashlib.sha256
        return b"".join([sha(b"\x00" + x).digest() for x in items])
    if data is None or offsets is None:
        data = b"".join(items)
        offsets = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum([len(x) for x in items], out=offsets[1:])
    return hash_many(LEAF_PREFIX, data, np.asarray(offsets)).tobytes()


def node_digests(children: bytes) -> bytes:
    """RFC 9162 interior hashes ``SHA-256(0x01 || left || right)`` of consecutive pairs of the
    32-byte digests concatenated in ``children`` (an odd last one is left out), concatenated."""
    m = len(children) // 64
    if m < BULK or not HAVE_NUMBA:
        sha = hashlib.sha256
        return b"".join([sha(b"\x01" + children[64 * j : 64 * j + 64]).digest() for j in range(m)])
    return hash_many(NODE_PREFIX, children, np.arange(m + 1, dtype=np.int64) * 64).tobytes()
