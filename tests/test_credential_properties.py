"""Property tests: valid certificates round-trip; any mutation of a QR text is rejected with a code."""

from __future__ import annotations

from datetime import date

import cbor2
from credential_fixtures import typical_claims
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credential import CertificateClaims, CredentialError, MaskedId, decode, encode, verify
from credential.base45 import ALPHABET, b45encode
from credential.constants import QR_PREFIX
from credential.cose import sig_structure
from keys import Signer
from schemas import vocabulary

SIGNER = Signer.generate()
GOOD = encode(typical_claims(), SIGNER)

_name_chars = st.sampled_from("张王李赵刘陈杨黄周吴郑孙马朱胡林郭何高罗𠮷艾买提力阿古丽")
names = st.lists(_name_chars, min_size=1, max_size=vocabulary.HOLDER_NAME_MAX).map("".join)
work_types = st.one_of(
    st.just("--"), st.lists(st.sampled_from("维修电工焊接车床操作"), min_size=1, max_size=14).map("".join)
)


@st.composite
def claims(draw: st.DrawFn) -> CertificateClaims:
    level = draw(st.integers(1, 5))
    issued = draw(st.dates(date(2019, 1, 1), date(2099, 12, 31)))
    serial = draw(st.integers(1, 999_999))
    id_number = draw(st.from_regex(r"[0-9A-Z]{6,30}", fullmatch=True))
    return CertificateClaims(
        certificate_number=f"{draw(st.sampled_from('YS'))}{draw(st.from_regex(r'[0-9]{12}', fullmatch=True))}"
        f"{issued.year % 100:02d}{level}{serial:06d}",
        holder_name=draw(names),
        id_type=draw(st.sampled_from(vocabulary.ID_TYPES)),
        id_masked=MaskedId.of(id_number),
        occupation_code=f"{draw(st.integers(1, 8))}-{draw(st.integers(0, 99)):02d}-"
        f"{draw(st.integers(0, 99)):02d}-{draw(st.integers(0, 99)):02d}",
        level=level,
        work_type=draw(work_types),
        issue_date=issued,
        status_list=draw(st.integers(0, 1000)),
        status_index=draw(st.integers(0, 2**20 - 1)),
    )


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(claims())
def test_any_valid_certificate_round_trips(value: CertificateClaims) -> None:
    for text in (encode(value, SIGNER), encode(value, SIGNER, verifier_url="https://verify.example.cn")):
        parsed = decode(text)
        verify(parsed, SIGNER.public_key)
        assert parsed.claims.with_institution(value.certificate_number[:13]) == value


mutations = st.one_of(
    st.tuples(st.just("replace"), st.integers(0, len(GOOD) - 1), st.sampled_from(ALPHABET + "a€\x00")),
    st.tuples(st.just("delete"), st.integers(0, len(GOOD) - 1), st.just("")),
    st.tuples(st.just("insert"), st.integers(0, len(GOOD)), st.sampled_from(ALPHABET)),
    st.tuples(st.just("truncate"), st.integers(0, len(GOOD) - 1), st.just("")),
)


@settings(max_examples=500)
@given(mutations)
def test_mutations_are_rejected_with_a_code(mutation: tuple[str, int, str]) -> None:
    kind, at, char = mutation
    text = {
        "replace": GOOD[:at] + char + GOOD[at + 1 :],
        "delete": GOOD[:at] + GOOD[at + 1 :],
        "insert": GOOD[:at] + char + GOOD[at:],
        "truncate": GOOD[:at],
    }[kind]
    if text == GOOD:
        return
    try:
        verify(decode(text), SIGNER.public_key)
    except CredentialError as e:
        assert e.code
    else:
        raise AssertionError(f"mutation {mutation} was accepted")


GOOD_COSE = decode(GOOD).cose_bytes


@settings(max_examples=1000)
@given(st.integers(0, len(GOOD_COSE) - 1), st.integers(0, 255), st.booleans())
def test_mutated_cose_bytes_are_rejected_with_a_code(at: int, value: int, truncate: bool) -> None:
    """Mutations below zlib and base45, where every COSE and CBOR check is reached."""
    data = GOOD_COSE[:at] if truncate else GOOD_COSE[:at] + bytes([value]) + GOOD_COSE[at + 1 :]
    if data == GOOD_COSE:
        return
    try:
        verify(decode(QR_PREFIX + b45encode(data)), SIGNER.public_key)
    except CredentialError as e:
        assert e.code
    else:
        raise AssertionError(f"mutation at {at} was accepted")


headers = st.recursive(
    st.one_of(
        st.integers(-70000, 70000), st.binary(max_size=10), st.text(max_size=5), st.booleans(), st.none()
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.integers(-5, 20), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=300)
@given(st.dictionaries(st.integers(-5, 20), headers, max_size=4))
def test_arbitrary_protected_headers_are_rejected_with_a_code_or_accepted_as_eddsa(
    header: dict[int, object],
) -> None:
    protected = cbor2.dumps(header)
    payload = decode(GOOD).sign1.payload
    cose_bytes = cbor2.dumps(
        cbor2.CBORTag(18, [protected, {}, payload, SIGNER.sign(sig_structure(protected, payload))])
    )
    try:
        parsed = decode(QR_PREFIX + b45encode(cose_bytes))
    except CredentialError as e:
        assert e.code
    else:
        assert parsed.sign1.protected[1] in (-8, -19) and len(parsed.kid) == 8
