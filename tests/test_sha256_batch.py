"""The bulk SHA-256 against hashlib: every digest, lengths around the block boundaries."""

from __future__ import annotations

import hashlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hashpivot.ledger import sha256_batch


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=300), min_size=0, max_size=120))
def test_leaf_digests_equal_hashlib(items: list[bytes]) -> None:
    expected = b"".join(hashlib.sha256(b"\x00" + x).digest() for x in items)
    assert sha256_batch.leaf_digests(items) == expected
    if items:  # the compiled path whatever the batch size
        offsets = np.r_[0, np.cumsum([len(x) for x in items])]
        got = sha256_batch.hash_many(0, b"".join(items), offsets, min_compiled=0)
        assert got.tobytes() == expected


def test_every_length_across_block_boundaries() -> None:
    # Padding differs by length mod 64 (0x80 and the 8-byte length either fit or spill into a
    # new block): every length up to four blocks, in lanes of mixed lengths.
    rng = np.random.default_rng(7)
    items = [rng.bytes(n) for n in range(260)]
    rng.shuffle(items)
    offsets = np.r_[0, np.cumsum([len(x) for x in items])]
    for prefix in (0, 1):
        got = sha256_batch.hash_many(prefix, b"".join(items), offsets, min_compiled=0)
        for row, x in zip(got, items, strict=True):
            assert row.tobytes() == hashlib.sha256(bytes([prefix]) + x).digest()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 3000), st.integers(0, 2**32 - 1))
def test_node_digests_equal_hashlib(n_children: int, seed: int) -> None:
    children = np.random.default_rng(seed).bytes(32 * n_children)
    expected = b"".join(
        hashlib.sha256(b"\x01" + children[64 * j : 64 * j + 64]).digest()
        for j in range(n_children // 2)
    )
    assert sha256_batch.node_digests(children) == expected
