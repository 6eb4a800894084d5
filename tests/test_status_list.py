"""Token Status List encoding against the draft's own examples, plus hostile and malformed lists."""

from __future__ import annotations

import zlib
from typing import Any

import cbor2
import pytest
from credential_fixtures import vector
from hypothesis import given, settings
from hypothesis import strategies as st

from credential.status_list import (
    CLAIM_EXP,
    CLAIM_IAT,
    CLAIM_STATUS,
    CLAIM_STATUS_LIST,
    CLAIM_SUB,
    CLAIM_TTL,
    Status,
    StatusList,
    StatusListError,
    StatusReference,
    parse_status_claim,
    parse_status_list_claims,
    status_claim,
    status_list_claims,
)

# The draft's examples, named rather than globbed so that a missing file fails its test.
ENCODING_VECTORS = [
    "status_list_encoding_cbor.txt",
    "status_list_encoding1_long_cbor.txt",
    "status_list_encoding2_cbor.txt",
    "status_list_encoding2_long_cbor.txt",
    "status_list_encoding4_cbor.txt",
    "status_list_encoding8_cbor.txt",
]
TAG_COSE_SIGN1 = 18
LONG = 2**20

# file -> (bits, size, {index: status}); every other entry is 0. From the draft's examples/README.
ENCODINGS: dict[str, tuple[int, int, dict[int, int]]] = {
    "status_list_encoding_cbor.txt": (
        1,
        16,
        {0: 1, 3: 1, 4: 1, 5: 1, 7: 1, 8: 1, 9: 1, 13: 1, 15: 1},
    ),
    "status_list_encoding2_cbor.txt": (
        2,
        12,
        {0: 1, 1: 2, 3: 3, 5: 1, 7: 1, 8: 1, 9: 2, 10: 3, 11: 3},
    ),
    "status_list_encoding1_long_cbor.txt": (
        1,
        LONG,
        dict.fromkeys((0, 1993, 25460, 159495, 495669, 554353, 645645, 723232, 854545, 934534, 1000345), 1),
    ),
    "status_list_encoding2_long_cbor.txt": (
        2,
        LONG,
        {
            0: 1,
            1993: 2,
            25460: 1,
            159495: 3,
            495669: 1,
            554353: 1,
            645645: 2,
            723232: 1,
            854545: 1,
            934534: 2,
            1000345: 3,
        },
    ),
    "status_list_encoding4_cbor.txt": (
        4,
        LONG,
        {
            0: 1,
            1993: 2,
            35460: 3,
            459495: 4,
            595669: 5,
            754353: 6,
            845645: 7,
            923232: 8,
            924445: 9,
            934534: 10,
            1004534: 11,
            1000345: 12,
            1030203: 13,
            1030204: 14,
            1030205: 15,
        },
    ),
}


def _hex_vector(name: str) -> bytes:
    """The hex after 'encoded:' (short examples) or the whole file (long ones), whitespace dropped."""
    text = vector("status-list", name).read_text()
    if "encoded:" in text:
        text = text.split("encoded:", 1)[1]
    return bytes.fromhex("".join(text.split()))


def _nonzero(status_list: StatusList) -> dict[int, int]:
    raw = status_list.to_bytes()
    per_byte = 8 // status_list.bits
    return {
        i: status_list.get(i)
        for byte_index, byte in enumerate(raw)
        if byte
        for i in range(byte_index * per_byte, (byte_index + 1) * per_byte)
        if status_list.get(i)
    }


def _cose_payload(name: str) -> dict[Any, Any]:
    """The minimal COSE_Sign1 unwrapping the test needs: tag 18, array of 4, payload claims."""
    tagged = cbor2.loads(_hex_vector(name))
    assert isinstance(tagged, cbor2.CBORTag) and tagged.tag == TAG_COSE_SIGN1
    assert isinstance(tagged.value, list | tuple) and len(tagged.value) == 4
    claims = cbor2.loads(tagged.value[2])
    assert isinstance(claims, dict)
    return claims


def _bomb(n_bytes: int) -> bytes:
    """n_bytes of zeros compressed, built in chunks so the test never holds the expansion."""
    compressor = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    parts = [compressor.compress(chunk) for _ in range(n_bytes >> 20)]
    return b"".join([*parts, compressor.flush()])


# --- the draft's examples -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_vector_decodes_to_listed_statuses(name: str) -> None:
    bits, size, expected = ENCODINGS[name]
    status_list = StatusList.from_cbor(_hex_vector(name))
    assert (status_list.bits, status_list.size) == (bits, size)
    assert _nonzero(status_list) == expected


def test_short_vectors_match_the_drafts_byte_arrays() -> None:
    assert StatusList.from_cbor(_hex_vector("status_list_encoding_cbor.txt")).to_bytes() == bytes(
        [0xB9, 0xA3]
    )
    assert StatusList.from_cbor(_hex_vector("status_list_encoding2_cbor.txt")).to_bytes() == bytes(
        [0xC9, 0x44, 0xF9]
    )


def test_eight_bit_vector_holds_every_nonzero_value_once() -> None:
    status_list = StatusList.from_cbor(_hex_vector("status_list_encoding8_cbor.txt"))
    assert (status_list.bits, status_list.size) == (8, LONG)
    assert sorted(_nonzero(status_list).values()) == list(range(1, 256))


@pytest.mark.parametrize("name", ENCODING_VECTORS)
def test_vector_reencodes_to_same_decompressed_bytes(name: str) -> None:
    original = cbor2.loads(_hex_vector(name))
    status_list = StatusList.from_cbor_map(original)
    rebuilt = StatusList.from_bytes(status_list.to_bytes(), status_list.bits)
    reencoded = cbor2.loads(rebuilt.to_cbor())
    assert list(reencoded) == list(original) == ["bits", "lst"]
    assert reencoded["bits"] == original["bits"]
    assert zlib.decompress(reencoded["lst"]) == zlib.decompress(original["lst"])


def test_built_list_encodes_like_the_draft() -> None:
    status_list = StatusList(12, 2)
    for index, value in ENCODINGS["status_list_encoding2_cbor.txt"][2].items():
        status_list.set(index, value)
    assert status_list.to_bytes() == bytes([0xC9, 0x44, 0xF9])
    assert StatusList.from_cbor(status_list.to_cbor()) == status_list


def test_status_list_token_vector_parses() -> None:
    parsed = parse_status_list_claims(_cose_payload("status_list_cwt.txt"))
    assert parsed.sub == "https://example.com/statuslists/1"
    assert (parsed.iat, parsed.exp, parsed.ttl) == (1686920170, 2291720170, 43200)
    assert parsed.status_list.to_bytes() == bytes([0xB9, 0xA3])


def test_referenced_token_vector_points_into_a_list() -> None:
    claims = _cose_payload("referenced_token_cwt.txt")
    reference = parse_status_claim(claims[CLAIM_STATUS])
    assert reference == StatusReference(idx=0, uri="https://example.com/statuslists/1")
    assert status_claim(reference) == claims[CLAIM_STATUS]


# --- building and reading -------------------------------------------------------------------------


def test_set_leaves_neighbours_alone() -> None:
    status_list = StatusList(9, 2)
    status_list.set(4, 3)
    status_list.set(4, 2)
    assert [status_list.get(i) for i in range(9)] == [0, 0, 0, 0, 2, 0, 0, 0, 0]
    assert status_list.to_bytes() == bytes([0x00, 0x02, 0x00])


def test_statuses_map_and_unknown_values_are_errors() -> None:
    status_list = StatusList(4, 2)
    status_list.set(1, Status.INVALID)
    status_list.set(2, Status.SUSPENDED)
    status_list.set(3, 3)
    assert [status_list.get_status(i) for i in range(3)] == [
        Status.VALID,
        Status.INVALID,
        Status.SUSPENDED,
    ]
    with pytest.raises(StatusListError) as info:
        status_list.get_status(3)
    assert info.value.code == "status_list_unknown_status"


def test_aggregation_uri_only_when_given() -> None:
    assert "aggregation_uri" not in StatusList(8, 1).to_cbor_map()
    with_uri = StatusList(8, 1, aggregation_uri="https://r.example/agg")
    assert with_uri.to_cbor_map()["aggregation_uri"] == "https://r.example/agg"
    assert StatusList.from_cbor(with_uri.to_cbor()).aggregation_uri == "https://r.example/agg"


def test_claims_round_trip() -> None:
    status_list = StatusList(LONG, 2)
    status_list.set(123_456, Status.SUSPENDED)
    claims = status_list_claims(
        sub="https://r.example/sl/7", iat=100, exp=200, ttl=60, status_list=status_list
    )
    assert set(claims) == {CLAIM_SUB, CLAIM_IAT, CLAIM_EXP, CLAIM_TTL, CLAIM_STATUS_LIST}
    assert (CLAIM_SUB, CLAIM_EXP, CLAIM_IAT, CLAIM_STATUS_LIST, CLAIM_TTL) == (2, 4, 6, 65533, 65534)
    parsed = parse_status_list_claims(cbor2.loads(cbor2.dumps(claims)))
    assert (parsed.sub, parsed.iat, parsed.exp, parsed.ttl) == ("https://r.example/sl/7", 100, 200, 60)
    assert parsed.status_list == status_list


@settings(max_examples=60, deadline=None)
@given(
    bits=st.sampled_from([1, 2, 4, 8]),
    size=st.integers(min_value=1, max_value=300),
    writes=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0)), max_size=60),
)
def test_random_writes_round_trip(bits: int, size: int, writes: list[tuple[int, int]]) -> None:
    status_list = StatusList(size, bits)
    model = [0] * size
    for raw_index, raw_value in writes:
        index, value = raw_index % size, raw_value % (1 << bits)
        status_list.set(index, value)
        model[index] = value
    decoded = StatusList.from_cbor(status_list.to_cbor())
    assert [decoded.get(i) for i in range(size)] == model
    # the wire has no size: it decodes to every entry the padded bytes hold, all extra ones 0
    assert decoded.size == len(status_list.to_bytes()) * 8 // bits >= size
    assert all(decoded.get(i) == 0 for i in range(size, decoded.size))


# --- rejections -----------------------------------------------------------------------------------


def _code(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(StatusListError) as info:
        call(*args, **kwargs)
    assert info.value.message_zh and info.value.message_en
    return info.value.code


def test_zlib_bomb_is_rejected_at_the_limit() -> None:
    bomb = _bomb(100 << 20)
    assert len(bomb) < 200_000
    obj = {"bits": 2, "lst": bomb}
    assert _code(StatusList.from_cbor_map, obj) == "status_list_too_large"
    assert _code(
        StatusList.from_cbor_map, {"bits": 2, "lst": zlib.compress(bytes(2049))}, max_entries=8192
    ) == ("status_list_too_large")


def test_list_exactly_at_the_limit_is_accepted() -> None:
    decoded = StatusList.from_cbor_map({"bits": 2, "lst": zlib.compress(bytes(2048))}, max_entries=8192)
    assert decoded.size == 8192


@pytest.mark.parametrize("bits", [0, 3, 5, 16, -1, True, "2", None, 2.0])
def test_bad_bits_are_rejected(bits: object) -> None:
    assert (
        _code(StatusList.from_cbor_map, {"bits": bits, "lst": zlib.compress(b"\x00")}) == "status_list_bits"
    )


@pytest.mark.parametrize("bits", [0, 3, 16])
def test_bad_bits_rejected_when_building(bits: int) -> None:
    assert _code(StatusList, 8, bits) == "status_list_bits"


def test_broken_zlib_is_rejected() -> None:
    good = zlib.compress(bytes(64))
    assert _code(StatusList.from_cbor_map, {"bits": 1, "lst": good[:-3]}) == "status_list_zlib"
    assert _code(StatusList.from_cbor_map, {"bits": 1, "lst": good + b"\x00"}) == "status_list_zlib"
    assert _code(StatusList.from_cbor_map, {"bits": 1, "lst": b"not zlib"}) == "status_list_zlib"
    flipped = bytearray(good)
    flipped[-1] ^= 1  # adler-32 checksum
    assert _code(StatusList.from_cbor_map, {"bits": 1, "lst": bytes(flipped)}) == "status_list_zlib"


@pytest.mark.parametrize(
    "obj",
    [
        [1, b"x"],
        {"bits": 1},
        {"bits": 1, "lst": "78da"},
        {"bits": 1, "lst": bytearray(zlib.compress(b"\x00"))},
        {"bits": 1, "lst": zlib.compress(b"")},
        {"bits": 1, "lst": zlib.compress(b"\x00"), "aggregation_uri": 5},
    ],
)
def test_malformed_maps_are_rejected(obj: object) -> None:
    assert _code(StatusList.from_cbor_map, obj) == "status_list_shape"


@pytest.mark.parametrize("data", [b"", b"\xa2\x64bits", b"\xff", b"\x1c"])
def test_invalid_cbor_is_rejected(data: bytes) -> None:
    assert _code(StatusList.from_cbor, data) == "status_list_cbor"


def test_indices_out_of_range_are_rejected() -> None:
    status_list = StatusList(10, 2)
    for index in (-1, 10, 2**64, True):
        assert _code(status_list.get, index) == "status_list_index"
        assert _code(status_list.set, index, 1) == "status_list_index"


def test_values_too_big_for_bits_are_rejected() -> None:
    for bits in (1, 2, 4, 8):
        status_list = StatusList(8, bits)
        assert _code(status_list.set, 0, 1 << bits) == "status_list_value"
        assert _code(status_list.set, 0, -1) == "status_list_value"
        assert status_list.get(0) == 0
    assert _code(StatusList(8, 2).set, 0, False) == "status_list_value"


@pytest.mark.parametrize("size", [0, -1, True])
def test_bad_sizes_are_rejected(size: int) -> None:
    assert _code(StatusList, size, 2) == "status_list_shape"


def _claims(**changes: object) -> dict[int, object]:
    claims: dict[int, object] = {
        CLAIM_SUB: "https://r.example/sl/1",
        CLAIM_IAT: 10,
        CLAIM_EXP: 20,
        CLAIM_TTL: 5,
        CLAIM_STATUS_LIST: StatusList(8, 1).to_cbor_map(),
    }
    keys = {"sub": CLAIM_SUB, "iat": CLAIM_IAT, "exp": CLAIM_EXP, "ttl": CLAIM_TTL, "lst": CLAIM_STATUS_LIST}
    for name, value in changes.items():
        if value is None:
            del claims[keys[name]]
        else:
            claims[keys[name]] = value
    return claims


@pytest.mark.parametrize(
    "changes",
    [
        {"sub": None},
        {"sub": ""},
        {"sub": 7},
        {"iat": None},
        {"iat": "10"},
        {"exp": 10},
        {"exp": True},
        {"ttl": -1},
        {"ttl": 1.5},
        {"lst": None},
    ],
)
def test_malformed_token_claims_are_rejected(changes: dict[str, object]) -> None:
    assert _code(parse_status_list_claims, _claims(**changes)) == "status_list_claims"


def test_token_claims_must_be_a_map_holding_a_valid_list() -> None:
    assert _code(parse_status_list_claims, [1, 2]) == "status_list_claims"
    assert _code(parse_status_list_claims, _claims(lst={"bits": 3, "lst": b""})) == "status_list_bits"


def test_building_claims_checks_them() -> None:
    args = {"sub": "u", "iat": 10, "exp": 10, "ttl": 1, "status_list": StatusList(8, 1)}
    assert _code(status_list_claims, **args) == "status_list_claims"


@pytest.mark.parametrize(
    "value",
    [
        None,
        {},
        {"status_list": []},
        {"status_list": {"idx": -1, "uri": "https://x"}},
        {"status_list": {"idx": "0", "uri": "https://x"}},
        {"status_list": {"idx": 0}},
        {"status_list": {"idx": 0, "uri": ""}},
    ],
)
def test_malformed_status_claims_are_rejected(value: object) -> None:
    assert _code(parse_status_claim, value) == "status_claim_shape"


def test_lst_is_compressed_at_the_highest_zlib_level_with_the_run_length_strategy() -> None:
    """draft-ietf-oauth-status-list §4.1 recommends the highest level; the run-length strategy keeps
    the output within a tenth of the default strategy's on a sparse list, and smaller on a dense one
    (the size the verifiers download), at a fraction of the re-signing time."""
    import random
    import zlib

    for size, share in ((2**16, 600), (2**16, 6_554)):
        status_list = StatusList(size, 2)
        for index in random.Random(3).sample(range(size), share):
            status_list.set(index, 1)
        raw = status_list.to_bytes()
        deflater = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS, 9, zlib.Z_RLE)
        assert status_list.compressed() == deflater.compress(raw) + deflater.flush()
        assert zlib.decompress(status_list.compressed()) == raw
        assert len(status_list.compressed()) < len(zlib.compress(raw, 6))
        assert len(status_list.compressed()) <= 1.1 * len(zlib.compress(raw, 9))
