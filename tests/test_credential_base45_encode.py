"""The base45 and base43 encoders (lane arithmetic in C) against a plain per-pair reference written from
RFC 9285's definition: every length from 0 to 600 bytes, every two-byte value, and random bytes."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credential.base45 import ALPHABET, BASE43_ALPHABET, TripletCodec, base43, base45

CODECS = {"base45": (base45, ALPHABET), "base43": (base43, BASE43_ALPHABET)}


def reference(data: bytes, alphabet: str) -> str:
    """Each big-endian pair n = c + r·d + r²·e as the characters c d e, a final byte n = c + r·d as c d."""
    radix, out = len(alphabet), []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out.append(alphabet[n % radix] + alphabet[n // radix % radix] + alphabet[n // radix // radix])
    if len(data) % 2:
        out.append(alphabet[data[-1] % radix] + alphabet[data[-1] // radix])
    return "".join(out)


@pytest.mark.parametrize("name", CODECS)
def test_every_length_up_to_600_bytes_encodes_as_the_reference(name: str) -> None:
    codec, alphabet = CODECS[name]
    rng = random.Random(name)
    for length in range(601):
        for data in (rng.randbytes(length), b"\xff" * length, b"\x00" * length):
            assert codec().encode(data) == reference(data, alphabet), (length, data.hex())


@pytest.mark.parametrize("name", CODECS)
def test_every_two_byte_value_encodes_as_the_reference(name: str) -> None:
    codec, alphabet = CODECS[name]
    data = b"".join(n.to_bytes(2, "big") for n in range(65536))
    assert codec().encode(data) == reference(data, alphabet)
    assert codec().encode(data[:6]) == reference(data[:6], alphabet)  # shorter again, after the longest


@settings(max_examples=300)
@given(st.binary(max_size=3000), st.sampled_from(sorted(CODECS)))
def test_random_bytes_encode_as_the_reference_and_decode_back(data: bytes, name: str) -> None:
    codec, alphabet = CODECS[name]
    text = codec().encode(data)
    assert text == reference(data, alphabet)
    assert codec().decode(text) == data


@pytest.mark.parametrize("radix", [10, 40, 256, 270])
def test_a_radix_whose_pairs_do_not_fit_three_digits_in_a_lane_is_refused(radix: int) -> None:
    """Too small a radix for three digits to hold a pair (40³ < 2¹⁶), a digit over a byte, or no exact division."""
    with pytest.raises(ValueError, match="cannot encode a pair"):
        TripletCodec((ALPHABET * 6)[:radix])
