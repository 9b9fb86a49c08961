"""RFC 6962 / RFC 9162 behaviour of domain/merkle.py.

Known-answer values are copied from transparency-dev/merkle (testonly/constants.go,
cmd/proofgen/main.go, rfc6962/rfc6962_test.go and testdata/{inclusion,consistency}/**):
the leaves "", 00, 10, 2021, 3031, 40414243, 5051525354555657, 606162...6f and their roots,
node hashes and proofs. Proof indices in proofgen are 1-based; here they are 0-based.
"""

from __future__ import annotations

import base64
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import merkle

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

# RootHashes(): index = tree size.
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# NodeHashes(): [level][index].
NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]

# proofgen's inclusionProofs, converted to 0-based leaf indices: (index, size, proof).
INCLUSION_VECTORS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# proofgen's consistencyProofs: (size1, size2, proof).
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def leaf_hashes(n: int) -> list[bytes]:
    return [merkle.hash_leaf(str(i).encode()) for i in range(n)]


def lookup_for(hashes: list[bytes]) -> merkle.NodeLookup:
    """A node lookup over an in-memory tree, built with the reference root function."""

    def node(level: int, index: int) -> bytes:
        begin = index << level
        assert begin + (1 << level) <= len(hashes), "asked for an incomplete subtree"
        return merkle.root_of_hashes(hashes[begin : begin + (1 << level)])

    return node


def h(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


# --- Hashing known answers (rfc6962_test.go) ---


def test_empty_tree_hash_is_sha256_of_nothing() -> None:
    assert merkle.root([]).hex() == ROOTS[0]


def test_leaf_hash_prefixes_zero_byte() -> None:
    assert merkle.hash_leaf(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )


def test_empty_leaf_hash_differs_from_empty_tree_hash() -> None:
    assert merkle.hash_leaf(b"").hex() == ROOTS[1] != ROOTS[0]


def test_node_hash_prefixes_one_byte() -> None:
    assert merkle.hash_children(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


@pytest.mark.parametrize("size", range(9))
def test_root_matches_published_root_for_each_size(size: int) -> None:
    assert merkle.root(LEAVES[:size]).hex() == ROOTS[size]


@pytest.mark.parametrize("size", range(9))
def test_compact_range_root_matches_published_root(size: int) -> None:
    compact = merkle.CompactRange()
    for leaf in LEAVES[:size]:
        compact.append(merkle.hash_leaf(leaf))
    assert compact.root().hex() == ROOTS[size]


def test_compact_range_emits_every_published_node_hash() -> None:
    compact = merkle.CompactRange()
    created: dict[merkle.Node, bytes] = {}
    for leaf in LEAVES:
        created.update(compact.append(merkle.hash_leaf(leaf)))
    expected = {
        (level, index): bytes.fromhex(value)
        for level, row in enumerate(NODE_HASHES)
        for index, value in enumerate(row)
    }
    assert created == expected


# --- Proof known answers (proofgen) ---


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_proof_matches_published_vector(index: int, size: int, proof: list[str]) -> None:
    hashes = [merkle.hash_leaf(leaf) for leaf in LEAVES[:size]]
    assert merkle.inclusion_proof(index, hashes) == h(proof)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_published_inclusion_vector_verifies(index: int, size: int, proof: list[str]) -> None:
    leaf_hash = merkle.hash_leaf(LEAVES[index])
    assert merkle.verify_inclusion(leaf_hash, index, size, h(proof), bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_consistency_proof_matches_published_vector(old: int, new: int, proof: list[str]) -> None:
    hashes = [merkle.hash_leaf(leaf) for leaf in LEAVES[:new]]
    assert merkle.consistency_proof(old, hashes) == h(proof)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_published_consistency_vector_verifies(old: int, new: int, proof: list[str]) -> None:
    assert merkle.verify_consistency(
        old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), h(proof)
    )


def b64(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


def test_testdata_inclusion_4_happy_path_verifies() -> None:
    # testdata/inclusion/4/happy-path.json
    assert merkle.verify_inclusion(
        base64.b64decode("lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c="),
        1,
        5,
        b64(
            [
                "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
                "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
                "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
            ]
        ),
        base64.b64decode("Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ="),
    )


def test_testdata_consistency_3_happy_path_verifies() -> None:
    # testdata/consistency/3/happy-path.json
    assert merkle.verify_consistency(
        2,
        5,
        base64.b64decode("+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="),
        base64.b64decode("Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ="),
        b64(
            [
                "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
                "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
            ]
        ),
    )


# --- Edge cases from testdata/consistency/additional and inclusion/* ---

EMPTY = bytes.fromhex(ROOTS[0])
DONT_CARE_1 = base64.b64decode("ZG9uJ3QgY2FyZSAx")
DONT_CARE_2 = base64.b64decode("ZG9uJ3QgY2FyZSAy")


@pytest.mark.parametrize(
    ("old", "new", "root1", "root2", "proof"),
    [
        pytest.param(0, 1, EMPTY, EMPTY, [EMPTY], id="size1-is-zero-is-useless"),
        pytest.param(0, 0, EMPTY, DONT_CARE_2, [], id="roots-do-not-match-and-sizes-are-zero"),
        pytest.param(1, 1, EMPTY, DONT_CARE_2, [], id="roots-do-not-match-and-sizes-are-one"),
        pytest.param(2, 1, DONT_CARE_1, DONT_CARE_2, [], id="size1-greater-than-size2"),
        pytest.param(0, 1, EMPTY, DONT_CARE_2, [], id="size1-zero-and-size2-not-zero"),
        pytest.param(0, 0, DONT_CARE_1, DONT_CARE_1, [], id="sizes-zero-but-not-empty-root"),
        pytest.param(1, 2, DONT_CARE_1, DONT_CARE_2, [], id="sizes-differ-and-proof-empty"),
        pytest.param(1, 1, EMPTY, EMPTY, [EMPTY], id="sizes-match-but-proof-not-empty"),
    ],
)
def test_consistency_rejects_published_bad_case(
    old: int, new: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> None:
    assert not merkle.verify_consistency(old, new, root1, root2, proof)


def test_consistency_accepts_equal_sizes_with_empty_proof() -> None:
    assert merkle.verify_consistency(1, 1, DONT_CARE_2, DONT_CARE_2, [])


def test_inclusion_rejects_index_outside_tree() -> None:
    leaf_hash = merkle.hash_leaf(LEAVES[0])
    assert not merkle.verify_inclusion(leaf_hash, 1, 1, [], leaf_hash)


def test_inclusion_rejects_trailing_proof_component() -> None:
    _, size, proof = INCLUSION_VECTORS[1]
    root_hash = bytes.fromhex(ROOTS[size])
    leaf_hash = merkle.hash_leaf(LEAVES[0])
    assert not merkle.verify_inclusion(leaf_hash, 0, size, [*h(proof), root_hash], root_hash)


# --- Node-addressed functions against the reference ---


def test_root_nodes_of_seven_are_four_two_one() -> None:
    assert merkle.root_nodes(7) == [(2, 0), (1, 2), (0, 6)]


def test_inclusion_proof_nodes_name_the_incomplete_right_subtree_by_pieces() -> None:
    # PATH(0, D[7]): D[1], MTH(D[2:4]), MTH(D[4:7]) = fold of (1, 2) and (0, 6).
    assert merkle.inclusion_proof_nodes(0, 7) == [[(0, 1)], [(1, 1)], [(1, 2), (0, 6)]]


def test_range_nodes_refuses_unaligned_range() -> None:
    with pytest.raises(ValueError, match="not aligned"):
        merkle.range_nodes(1, 4)


SIZES = st.integers(min_value=1, max_value=64)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), size=SIZES)
def test_every_inclusion_proof_from_nodes_matches_reference_and_verifies(
    data: st.DataObject, size: int
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    hashes = leaf_hashes(size)
    proof = merkle.inclusion_proof_from(index, size, lookup_for(hashes))
    assert proof == merkle.inclusion_proof(index, hashes)
    assert merkle.verify_inclusion(hashes[index], index, size, proof, merkle.root_of_hashes(hashes))


@settings(max_examples=200, deadline=None)
@given(data=st.data(), new=SIZES)
def test_every_consistency_proof_from_nodes_matches_reference_and_verifies(
    data: st.DataObject, new: int
) -> None:
    old = data.draw(st.integers(min_value=1, max_value=new))
    hashes = leaf_hashes(new)
    proof = merkle.consistency_proof_from(old, new, lookup_for(hashes))
    assert proof == merkle.consistency_proof(old, hashes)
    assert merkle.verify_consistency(
        old, new, merkle.root_of_hashes(hashes[:old]), merkle.root_of_hashes(hashes), proof
    )


def test_all_proofs_up_to_64_leaves_verify() -> None:
    hashes = leaf_hashes(64)
    roots = [merkle.root_of_hashes(hashes[:n]) for n in range(65)]
    for n in range(1, 65):
        node = lookup_for(hashes[:n])
        assert merkle.root_from(n, node) == roots[n]
        for i in range(n):
            proof = merkle.inclusion_proof_from(i, n, node)
            assert merkle.verify_inclusion(hashes[i], i, n, proof, roots[n])
        for m in range(1, n + 1):
            proof = merkle.consistency_proof_from(m, n, node)
            assert merkle.verify_consistency(m, n, roots[m], roots[n], proof)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), size=st.integers(min_value=2, max_value=64))
def test_inclusion_fails_for_a_tampered_leaf_or_proof(data: st.DataObject, size: int) -> None:
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    hashes = leaf_hashes(size)
    root_hash = merkle.root_of_hashes(hashes)
    proof = merkle.inclusion_proof(index, hashes)
    assert not merkle.verify_inclusion(merkle.hash_leaf(b"forged"), index, size, proof, root_hash)
    at = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    bad = [*proof]
    bad[at] = bytes([bad[at][0] ^ 1]) + bad[at][1:]
    assert not merkle.verify_inclusion(hashes[index], index, size, bad, root_hash)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), new=st.integers(min_value=2, max_value=64))
def test_consistency_fails_for_a_tampered_old_tree_or_proof(data: st.DataObject, new: int) -> None:
    old = data.draw(st.integers(min_value=1, max_value=new - 1))
    hashes = leaf_hashes(new)
    proof = merkle.consistency_proof(old, hashes)
    new_root = merkle.root_of_hashes(hashes)
    changed = [*hashes[:old]]
    changed[data.draw(st.integers(min_value=0, max_value=old - 1))] = merkle.hash_leaf(b"x")
    assert not merkle.verify_consistency(old, new, merkle.root_of_hashes(changed), new_root, proof)
    at = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    bad = [*proof]
    bad[at] = bytes([bad[at][0] ^ 1]) + bad[at][1:]
    assert not merkle.verify_consistency(
        old, new, merkle.root_of_hashes(hashes[:old]), new_root, bad
    )


# --- Leaf encoding ---

ORIGINATOR = uuid.UUID("12345678-1234-5678-1234-567812345678")


def test_event_leaf_layout_is_length_prefixed_big_endian() -> None:
    leaf = merkle.event_leaf(7, ORIGINATOR, 2, "a:B", b"{}")
    assert leaf == (
        b"\x01"
        + (7).to_bytes(8, "big")
        + ORIGINATOR.bytes
        + (2).to_bytes(8, "big")
        + (3).to_bytes(4, "big")
        + b"a:B"
        + (2).to_bytes(4, "big")
        + b"{}"
    )


def test_event_leaf_differs_when_bytes_move_between_topic_and_state() -> None:
    assert merkle.event_leaf(1, ORIGINATOR, 1, "ab", b"c") != merkle.event_leaf(
        1, ORIGINATOR, 1, "a", b"bc"
    )


def test_event_leaf_differs_by_position() -> None:
    assert merkle.event_leaf(1, ORIGINATOR, 1, "t", b"s") != merkle.event_leaf(
        2, ORIGINATOR, 1, "t", b"s"
    )
