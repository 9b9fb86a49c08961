"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs, and the ledger's leaf encoding.

Pure functions over bytes (standard library only), so an outside auditor can re-implement or
run them. Two families:

* whole-list functions (``root``, ``inclusion_proof``, ``consistency_proof``) written literally
  after RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1; they are the reference the stored tree is
  tested against;
* node-addressed functions (``*_nodes`` and ``*_from``) that name the complete subtrees a root
  or proof needs as ``(level, index)`` pairs, so a store holding those node hashes answers
  any root or proof with O(log n) lookups. Node ``(level, index)`` is the root of the perfect
  subtree over leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 holds leaf hashes.

Verification follows RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256 of the empty string (RFC 9162 §2.1.1)."""

Node = tuple[int, int]
"""A complete subtree, ``(level, index)``: covers leaves [index << level, (index + 1) << level)."""

NodeLookup = Callable[[int, int], bytes]
"""Returns the hash of complete subtree ``(level, index)``."""


def hash_leaf(data: bytes) -> bytes:
    """Leaf hash, SHA-256(0x00 || data): the prefix keeps leaves and nodes apart (§2.1.1)."""
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Interior node hash, SHA-256(0x01 || left || right) (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n > 1), the RFC's k."""
    return 1 << ((n - 1).bit_length() - 1)


# --- Whole-list reference functions -------------------------------------------------------


def root_of_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaves given by their leaf hashes (RFC 9162 §2.1.1)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return hash_children(root_of_hashes(leaf_hashes[:k]), root_of_hashes(leaf_hashes[k:]))


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf *data* (each entry is hashed with ``hash_leaf`` first)."""
    return root_of_hashes([hash_leaf(leaf) for leaf in leaves])


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]) of RFC 9162 §2.1.3.1, for the tree of all given leaf hashes."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} is outside a tree of size {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*inclusion_proof(index, leaf_hashes[:k]), root_of_hashes(leaf_hashes[k:])]
    return [*inclusion_proof(index - k, leaf_hashes[k:]), root_of_hashes(leaf_hashes[:k])]


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1 (empty when m is 0 or m equals n)."""
    n = len(leaf_hashes)
    if not 0 <= old_size <= n:
        raise ValueError(f"old size {old_size} is outside 0..{n}")
    if old_size in (0, n):
        return []
    return _subproof(old_size, leaf_hashes, True)


def _subproof(m: int, leaf_hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(leaf_hashes)
    if m == n:
        return [] if whole else [root_of_hashes(leaf_hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaf_hashes[:k], whole), root_of_hashes(leaf_hashes[k:])]
    return [*_subproof(m - k, leaf_hashes[k:], False), root_of_hashes(leaf_hashes[:k])]


# --- Node-addressed functions (for stored trees) ------------------------------------------


def range_nodes(begin: int, end: int) -> list[Node]:
    """The complete subtrees, left to right, whose right fold is MTH(D[begin:end]).

    ``begin`` must be a multiple of a power of two at least ``end - begin``, which holds for
    every range the RFC's recursions produce (and for [0, n)).
    """
    size = end - begin
    if size <= 0:
        raise ValueError(f"empty range [{begin}, {end})")
    nodes: list[Node] = []
    position = begin
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            if position % (1 << level):
                raise ValueError(f"range [{begin}, {end}) is not aligned for an RFC 6962 subtree")
            nodes.append((level, position >> level))
            position += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """Right fold of subtree hashes: h0 | (h1 | (h2 ...)), how MTH joins a range's pieces."""
    if not hashes:
        raise ValueError("nothing to fold")
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = hash_children(left, result)
    return result


def root_nodes(size: int) -> list[Node]:
    """The complete subtrees (the compact range) whose fold is the root of a tree of ``size``."""
    return range_nodes(0, size) if size else []


def inclusion_proof_nodes(index: int, size: int) -> list[list[Node]]:
    """For each element of PATH(index, D[size]), the nodes whose fold gives it."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    elements: list[list[Node]] = []
    begin, end = 0, size
    while end - begin > 1:
        k = _split(end - begin)
        if index < begin + k:
            elements.append(range_nodes(begin + k, end))
            end = begin + k
        else:
            elements.append(range_nodes(begin, begin + k))
            begin = begin + k
    elements.reverse()  # the recursion appends on the way out: leaf side first
    return elements


def consistency_proof_nodes(old_size: int, new_size: int) -> list[list[Node]]:
    """For each element of PROOF(old_size, D[new_size]), the nodes whose fold gives it."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"consistency needs 0 <= old size <= new size, got {old_size}, {new_size}")
    if old_size in (0, new_size):
        return []
    elements: list[list[Node]] = []
    begin, end, m, whole = 0, new_size, old_size, True
    while m != end - begin:
        k = _split(end - begin)
        if m <= k:
            elements.append(range_nodes(begin + k, end))
            end = begin + k
        else:
            elements.append(range_nodes(begin, begin + k))
            begin, m, whole = begin + k, m - k, False
    if not whole:
        elements.append(range_nodes(begin, end))
    elements.reverse()
    return elements


def root_from(size: int, node: NodeLookup) -> bytes:
    """The root of the tree of ``size`` leaves from stored complete-subtree hashes."""
    nodes = root_nodes(size)
    return fold([node(level, index) for level, index in nodes]) if nodes else EMPTY_ROOT


def inclusion_proof_from(index: int, size: int, node: NodeLookup) -> list[bytes]:
    """PATH(index, D[size]) from stored complete-subtree hashes."""
    return [fold([node(*n) for n in nodes]) for nodes in inclusion_proof_nodes(index, size)]


def consistency_proof_from(old_size: int, new_size: int, node: NodeLookup) -> list[bytes]:
    """PROOF(old_size, D[new_size]) from stored complete-subtree hashes."""
    return [
        fold([node(*n) for n in nodes]) for nodes in consistency_proof_nodes(old_size, new_size)
    ]


@dataclass
class CompactRange:
    """The right edge of a growing tree: the hashes of ``root_nodes(size)``.

    ``append`` returns every complete subtree the new leaf completes, so a store can persist
    them and later answer proofs without rehashing.
    """

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def append(self, leaf_hash: bytes) -> list[tuple[Node, bytes]]:
        """Add the next leaf; returns the new complete nodes ``((level, index), hash)``."""
        index = self.size
        created: list[tuple[Node, bytes]] = [((0, index), leaf_hash)]
        current, level = leaf_hash, 0
        while index >> level & 1:  # a left sibling at this level completes a parent
            current = hash_children(self.hashes.pop(), current)
            level += 1
            created.append(((level, index >> level), current))
        self.hashes.append(current)
        self.size += 1
        return created

    def root(self) -> bytes:
        """The current root hash (the empty-tree hash for size 0)."""
        return fold(self.hashes) if self.hashes else EMPTY_ROOT


# --- Verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ------------------------------------------


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """True when ``proof`` shows the leaf at ``index`` is in the tree of ``size`` with that root."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True when ``proof`` shows the tree of ``old_size`` is a prefix of the one of ``new_size``.

    Equal sizes need an empty proof and equal roots (the empty-tree hash for size 0). RFC 9162
    defines proofs only for 0 < old_size < new_size; as in transparency-dev/merkle, a proof from
    the empty tree to a non-empty one is refused: it would prove nothing, so asking for one is
    a caller's mistake.
    """
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root and (old_size != 0 or old_root == EMPTY_ROOT)
    if old_size == 0:
        return False
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


# --- The ledger's leaf encoding -----------------------------------------------------------

EVENT_LEAF_FORMAT = 1
"""Version byte that opens every event leaf, so the encoding can change without ambiguity."""


def event_leaf(
    position: int, originator_id: UUID, originator_version: int, topic: str, state: bytes
) -> bytes:
    """The Merkle leaf data for one stored event: its position and stored content.

    Layout (all integers big-endian, unsigned), reproducible by an outside verifier::

        0x01                               format version (EVENT_LEAF_FORMAT)
        uint64  position                   the event's notification id in the log
        16 bytes originator_id             the aggregate's UUID, RFC 4122 byte order
        uint64  originator_version
        uint32  len(topic) || topic        UTF-8
        uint32  len(state) || state        the stored state bytes, exactly as persisted

    Every variable field carries its length, so no two different events encode alike. The
    leaf hash is then ``hash_leaf(event_leaf(...))``.
    """
    if position < 0 or originator_version < 0:
        raise ValueError("position and originator_version must not be negative")
    topic_bytes = topic.encode("utf-8")
    return b"".join(
        (
            struct.pack(">BQ", EVENT_LEAF_FORMAT, position),
            originator_id.bytes,
            struct.pack(">QI", originator_version, len(topic_bytes)),
            topic_bytes,
            struct.pack(">I", len(state)),
            state,
        )
    )
