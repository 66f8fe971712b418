"""RFC 6962 Merkle tree hashing and RFC 9162 proof verification: pure functions, no storage.

A leaf is ``SHA-256(0x00 ‖ data)``, a node ``SHA-256(0x01 ‖ left ‖ right)``, the empty tree
``SHA-256()``; a tree of ``n > 1`` leaves splits at ``k``, the largest power of two below ``n``.
The verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2 to the letter and return ``False`` for any
malformed input. Like every RFC 9162 verifier they authenticate a tree size only through the root
it is checked against: the size must come from a signed tree head, which binds the two.

References
----------
.. [1] RFC 6962, *Certificate Transparency*, §2.1.
.. [2] RFC 9162, *Certificate Transparency Version 2.0*, §2.1.3–2.1.4.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_sha = hashlib.sha256
EMPTY_ROOT = _sha(b"").digest()
HASH = 32


def leaf_hash(data: bytes) -> bytes:
    return _sha(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """``k`` with ``k < n <= 2k`` (n >= 2): the RFC 6962 split point."""
    if n < 2:
        raise ValueError("n >= 2 is needed to split a tree")
    return 1 << ((n - 1).bit_length() - 1)


# --------------------------------------------------------------------------- verification
def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf hash ``leaf`` at ``index`` in the tree of
    ``size`` with ``root``? Malformed input is ``False``, never an exception."""
    if not (isinstance(index, int) and isinstance(size, int)) or not 0 <= index < size:
        return False
    if len(leaf) != HASH or len(root) != HASH or any(len(p) != HASH for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree ``(size2, root2)`` an append-only extension of
    ``(size1, root1)``? Malformed input is ``False``."""
    if not (isinstance(size1, int) and isinstance(size2, int)) or not 0 <= size1 <= size2:
        return False
    if len(root1) != HASH or len(root2) != HASH or any(len(p) != HASH for p in proof):
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return not proof and root1 == EMPTY_ROOT
    if not proof:  # step 1: an empty path proves nothing between different sizes
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the first subtree is root1 itself
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root1 and sr == root2


def reference_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """``MTH`` of a list of leaf hashes, bottom-up (RFC 6962 shape: odd nodes carried up)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        nxt = [node_hash(a, b) for a, b in zip(level[0::2], level[1::2], strict=False)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]
