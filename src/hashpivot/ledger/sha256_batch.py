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
import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .._numba import HAVE_NUMBA

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

#: Messages hashed in lockstep by one task: the rounds run over lanes, which the compiler
#: vectorises (multi-buffer SHA-256).
LANES = 32

if HAVE_NUMBA:
    from numba import njit, prange

    _K64 = _K.astype(np.uint64)  # numba widens uint32 arithmetic to 64 bits: work there, masked
    _H64 = _H0.astype(np.uint64)

    @njit(cache=True, inline="always")
    def _rotr(x, n):  # pragma: no cover - compiled
        return ((x >> np.uint64(n)) | (x << np.uint64(32 - n))) & np.uint64(0xFFFFFFFF)

    @njit(cache=True, inline="always")
    def _round(a, b, c, d, e, f, g, h, k, w, j):  # pragma: no cover - compiled
        # One SHA-256 round on every lane; the new e goes to d's array, the new a to h's (the
        # caller rotates the roles, FIPS 180-4 §6.2.2 step 3).
        mask = np.uint64(0xFFFFFFFF)
        for lane in range(a.shape[0]):
            x = e[lane]
            y = a[lane]
            ch = (x & f[lane]) ^ (~x & g[lane] & mask)
            t1 = (
                h[lane] + (_rotr(x, 6) ^ _rotr(x, 11) ^ _rotr(x, 25)) + ch + k + w[j, lane]
            ) & mask
            maj = (y & b[lane]) ^ (y & c[lane]) ^ (b[lane] & c[lane])
            t2 = ((_rotr(y, 2) ^ _rotr(y, 13) ^ _rotr(y, 22)) + maj) & mask
            d[lane] = (d[lane] + t1) & mask
            h[lane] = (t1 + t2) & mask

    @njit(cache=True)
    def _group(prefix, src, offsets, i0, m, buf, w, st, s, out):  # pragma: no cover - compiled
        # Messages i0 .. i0 + m − 1 (m <= LANES) in lockstep: each lane's padded message
        # (FIPS 180-4 §5.1.1) in buf, its state in st; a lane whose message ends keeps its state.
        n_lanes = buf.shape[0]
        mask = np.uint64(0xFFFFFFFF)
        n_blocks = np.zeros(n_lanes, dtype=np.int64)
        most = 0
        for lane in range(n_lanes):
            i = i0 + lane if lane < m else i0
            length = offsets[i + 1] - offsets[i]
            total = length + 1
            nb = (total + 8) // 64 + 1  # room for 0x80 and the 64-bit length
            end = nb * 64
            n_blocks[lane] = nb
            most = max(most, nb)
            buf[lane, 0] = prefix
            for p in range(length):
                buf[lane, 1 + p] = src[offsets[i] + p]
            buf[lane, total] = 0x80
            for p in range(total + 1, end - 8):
                buf[lane, p] = 0
            bits = np.uint64(total) * np.uint64(8)
            for q in range(8):
                buf[lane, end - 1 - q] = np.uint8((bits >> np.uint64(8 * q)) & np.uint64(0xFF))
            for p in range(end, buf.shape[1]):
                buf[lane, p] = 0
            for j in range(8):
                st[j, lane] = _H64[j]
        a, b, c, d, e, f, g, h = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
        for blk in range(most):
            base = blk * 64
            for j in range(16):
                q = base + 4 * j
                for lane in range(n_lanes):
                    w[j, lane] = (
                        (np.uint64(buf[lane, q]) << np.uint64(24))
                        | (np.uint64(buf[lane, q + 1]) << np.uint64(16))
                        | (np.uint64(buf[lane, q + 2]) << np.uint64(8))
                        | np.uint64(buf[lane, q + 3])
                    )
            for j in range(16, 64):
                for lane in range(n_lanes):
                    x = w[j - 15, lane]
                    y = w[j - 2, lane]
                    s0 = _rotr(x, 7) ^ _rotr(x, 18) ^ (x >> np.uint64(3))
                    s1 = _rotr(y, 17) ^ _rotr(y, 19) ^ (y >> np.uint64(10))
                    w[j, lane] = (w[j - 16, lane] + s0 + w[j - 7, lane] + s1) & mask
            for j in range(8):
                for lane in range(n_lanes):
                    s[j, lane] = st[j, lane]
            for j in range(0, 64, 8):
                _round(a, b, c, d, e, f, g, h, _K64[j], w, j)
                _round(h, a, b, c, d, e, f, g, _K64[j + 1], w, j + 1)
                _round(g, h, a, b, c, d, e, f, _K64[j + 2], w, j + 2)
                _round(f, g, h, a, b, c, d, e, _K64[j + 3], w, j + 3)
                _round(e, f, g, h, a, b, c, d, _K64[j + 4], w, j + 4)
                _round(d, e, f, g, h, a, b, c, _K64[j + 5], w, j + 5)
                _round(c, d, e, f, g, h, a, b, _K64[j + 6], w, j + 6)
                _round(b, c, d, e, f, g, h, a, _K64[j + 7], w, j + 7)
            for j in range(8):  # after 64 rounds the roles are back where they started
                for lane in range(n_lanes):
                    if blk < n_blocks[lane]:
                        st[j, lane] = (st[j, lane] + s[j, lane]) & mask
        for lane in range(m):
            for j in range(8):
                for q in range(4):
                    out[i0 + lane, 4 * j + q] = np.uint8(
                        (st[j, lane] >> np.uint64(24 - 8 * q)) & np.uint64(0xFF)
                    )

    @njit(parallel=True, cache=True, nogil=True)
    def _many(prefix, src, offsets, max_length, out):  # pragma: no cover - compiled
        n = out.shape[0]
        n_groups = (n + LANES - 1) // LANES
        cap = ((max_length + 9) // 64 + 1) * 64
        for group in prange(n_groups):  # scratch per task
            buf = np.empty((LANES, cap), dtype=np.uint8)
            w = np.empty((64, LANES), dtype=np.uint64)
            st = np.empty((8, LANES), dtype=np.uint64)
            s = np.empty((8, LANES), dtype=np.uint64)
            i0 = group * LANES
            _group(prefix, src, offsets, i0, min(LANES, n - i0), buf, w, st, s, out)


#: Messages per call from which the compiled path is used; smaller batches (a CLI append of one
#: record) hash with ``hashlib`` and skip loading the compiled code.
BULK = 64


def hash_many(prefix: int, src: bytes, offsets: npt.ArrayLike, min_compiled: int = BULK) -> U8Array:
    """SHA-256 of ``bytes([prefix]) + src[offsets[i]:offsets[i + 1]]`` for every ``i``.

    Compiled from ``min_compiled`` messages, ``hashlib`` below (and without numba).

    Parameters
    ----------
    prefix : int
        Domain byte prepended to every message (0x00 leaves, 0x01 nodes) [-].
    src : bytes
        The messages, concatenated.
    offsets : array_like of int
        Start offset of each message with the total length last [byte].
    min_compiled : int
        Fewest messages for which the compiled path runs [-].

    Returns
    -------
    numpy.ndarray of uint8
        Digests as rows ``[n, 32]``.

    References
    ----------
    .. [1] FIPS 180-4, *Secure Hash Standard*, §6.2 (SHA-256).
    """
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    n = offsets.shape[0] - 1
    if n < max(min_compiled, 1) or not HAVE_NUMBA:
        sha, p = hashlib.sha256, bytes([prefix])
        bounds = offsets.tolist()
        digests = b"".join([sha(p + src[lo:hi]).digest() for lo, hi in itertools.pairwise(bounds)])
        return np.frombuffer(digests, dtype=np.uint8).reshape(-1, 32)
    out = np.empty((n, 32), dtype=np.uint8)
    max_length = int(np.diff(offsets).max())
    _many(np.uint8(prefix), np.frombuffer(src, dtype=np.uint8), offsets, max_length, out)
    return out


def leaf_digests(
    items: Sequence[bytes], data: bytes | None = None, offsets: npt.ArrayLike | None = None
) -> bytes:
    """RFC 9162 leaf hashes ``SHA-256(0x00 || item)`` of ``items``, concatenated (32 bytes each).

    Parameters
    ----------
    items : sequence of bytes
        The entries.
    data : bytes or None
        ``b"".join(items)``, when the caller has it already.
    offsets : array_like of int or None
        The items' start offsets with the total last [byte], with ``data``.

    Returns
    -------
    bytes
        ``32 · len(items)`` bytes.
    """
    if data is None or offsets is None:
        data = b"".join(items)
        offsets = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum([len(x) for x in items], out=offsets[1:])
    return hash_many(LEAF_PREFIX, data, offsets).tobytes()


def node_digests(children: bytes) -> bytes:
    """RFC 9162 interior hashes ``SHA-256(0x01 || left || right)`` of consecutive pairs.

    Parameters
    ----------
    children : bytes
        32-byte digests concatenated; an odd last one is left out.

    Returns
    -------
    bytes
        The parents' digests, concatenated.
    """
    m = len(children) // 64
    return hash_many(NODE_PREFIX, children, np.arange(m + 1, dtype=np.int64) * 64).tobytes()
