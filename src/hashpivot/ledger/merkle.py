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
    """RFC 6962 leaf hash: ``SHA-256(0x00 || data)``.

    Parameters
    ----------
    data : bytes
        The entry.

    Returns
    -------
    bytes
        The 32-byte hash.

    References
    ----------
    .. [1] RFC 6962, *Certificate Transparency*, §2.1.
    """
    return _sha(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: ``SHA-256(0x01 || left || right)``.

    Parameters
    ----------
    left : bytes
        Hash of the left subtree (32 bytes).
    right : bytes
        Hash of the right subtree (32 bytes).

    Returns
    -------
    bytes
        The 32-byte hash.

    References
    ----------
    .. [1] RFC 6962, *Certificate Transparency*, §2.1.
    """
    return _sha(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """``k`` with ``k < n <= 2k`` (n >= 2): the RFC 6962 split point.

    Parameters
    ----------
    n : int
        Number of leaves [-], at least 2.

    Returns
    -------
    int
        The largest power of two smaller than ``n`` [-].
    """
    if n < 2:
        raise ValueError("n >= 2 is needed to split a tree")
    return 1 << ((n - 1).bit_length() - 1)


# --------------------------------------------------------------------------- verification
def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf hash ``leaf`` at ``index`` in the tree?

    Malformed input is ``False``, never an exception.

    Parameters
    ----------
    leaf : bytes
        The leaf hash (:func:`leaf_hash` of the entry).
    index : int
        The leaf's index [-], from 0.
    size : int
        Tree size [-].
    proof : sequence of bytes
        The audit path, leaf to root.
    root : bytes
        The tree's root hash.

    Returns
    -------
    bool
        ``True`` when the proof recomputes ``root``.

    References
    ----------
    .. [1] RFC 9162, *Certificate Transparency Version 2.0*, §2.1.3.2.
    """
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
    """RFC 9162 §2.1.4.2: is the tree ``(size2, root2)`` an append-only extension of the older one?

    Malformed input is ``False``.

    Parameters
    ----------
    size1 : int
        Size of the older tree [-].
    size2 : int
        Size of the newer tree [-].
    root1 : bytes
        Root hash of the older tree.
    root2 : bytes
        Root hash of the newer tree.
    proof : sequence of bytes
        The consistency proof.

    Returns
    -------
    bool
        ``True`` when the proof recomputes both roots.

    References
    ----------
    .. [1] RFC 9162, *Certificate Transparency Version 2.0*, §2.1.4.2.
    """
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
    """``MTH`` of a list of leaf hashes, bottom-up (RFC 6962 shape: odd nodes carried up).

    A slow, obviously correct reference that the tests hold the ledger's roots to.

    Parameters
    ----------
    leaf_hashes : sequence of bytes
        Leaf hashes in order.

    Returns
    -------
    bytes
        The 32-byte root (the hash of the empty string for no leaves).

    References
    ----------
    .. [1] RFC 6962, *Certificate Transparency*, §2.1.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        nxt = [node_hash(a, b) for a, b in zip(level[0::2], level[1::2], strict=False)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]
