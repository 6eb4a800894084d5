"""Generate the conformance vectors of docs/spec.md §10 into spec/vectors/.

Everything is derived from fixed seeds and a fixed time, and Ed25519 and zlib are deterministic, so
running this again writes the same bytes; ``tests/test_spec_vectors.py`` fails when the committed
files drift from what this script makes. The keys are test keys: their seeds are published.

    .venv/bin/python spec/generate_vectors.py           # rewrite spec/vectors/
"""

from __future__ import annotations

import hashlib
import json
import sys
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import cbor2

from credential import CertificateClaims, MaskedId, encode, url_form
from credential.base45 import b45encode, base43
from credential.constants import CertificateKey, Claim
from credential.cose import sig_structure
from credential.directory import Directory, Institution, KeyEntry, Scope, StatusChange
from credential.signed_document import TYP_DIRECTORY, sign_document
from credential.status_list import StatusList
from credential.status_token import sign_status_list_token
from keys import Signer

OUT = Path(__file__).resolve().parent / "vectors"
NOW = int(datetime(2026, 11, 28, 4, 0, tzinfo=UTC).timestamp())  # 12:00 China Standard Time
REGISTRY_BASE = "https://registry.example.cn"
OFFICIAL = "https://verify.example.cn"
VERIFIER_HOSTS = ("verify.example.cn", "127.0.0.1:8701")
D = date.fromisoformat


def _signer(name: str) -> Signer:
    return Signer(hashlib.sha256(f"skillpass spec vectors: {name}".encode()).digest())


REGISTRY = _signer("registry")
KEYS = {
    name: _signer(name)
    for name in (
        "a",
        "a-retired",
        "a-revoked",
        "a-future",
        "a-expired",
        "b",
        "removed",
        "suspended",
        "late",
        "odd",
    )
}
STRANGER = _signer("stranger")  # no directory lists it

ACTIVE = StatusChange("active", D("2020-01-01"), 1_577_808_000, "filed")
ELECTRICIAN = Scope("6-31-01-03", "电工", (1, 2, 3, 4, 5), D("2020-01-01"), None, ("--", "维修电工"))
RAIL = Scope(
    "4-02-01-05",
    "城市轨道交通信号与通信系统设备智能化运维检修及故障诊断技术员",
    (1,),
    D("2020-01-01"),
    None,
    ("--", "高速铁路牵引供电接触网检修工"),
)


def _key(name: str, valid_from: str = "2020-01-01", **window: str) -> KeyEntry:
    signer = KEYS[name]
    limits = {k: D(v) for k, v in window.items()}
    return KeyEntry(signer.kid, signer.public_key.raw, D(valid_from), **limits)


def _institution(
    code: str, name: str, statuses: tuple[StatusChange, ...], scopes: tuple[Scope, ...], *keys: KeyEntry
) -> Institution:
    return Institution(code, name, "91110000000000000X", code[0], statuses, scopes, keys)


def directory() -> Directory:
    """The trust data every vector is judged against."""
    return Directory(
        sequence=42,
        issued_at=NOW - 3600,
        expires_at=NOW + 7 * 86400,
        status_list_base=f"{REGISTRY_BASE}/api/v1/status-lists/",
        verifier_hosts=VERIFIER_HOSTS,
        institutions=(
            _institution(
                "Y000011000001", "中国国家铁路集团有限公司", (ACTIVE,), (ELECTRICIAN,),
                _key("a"), _key("a-retired", retired="2026-03-01"), _key("a-revoked", revoked="2026-06-01"),
                _key("a-future", valid_from="2027-01-01"), _key("a-expired", valid_until="2025-12-31"),
            ),
            _institution("S000065999999", "乌鲁木齐市技能人才评价站", (ACTIVE,), (RAIL,), _key("b")),
            _institution(
                "Y000021000001", "已移出目录的机构", (ACTIVE, StatusChange("removed", D("2026-05-01"), 1_777_000_000)),
                (ELECTRICIAN,), _key("removed"),
            ),
            _institution(
                "Y000031000001", "已暂停的机构", (ACTIVE, StatusChange("suspended", D("2026-04-01"), 1_775_000_000)),
                (ELECTRICIAN,), _key("suspended"),
            ),
            _institution(
                "Y000041000001", "尚未生效的机构", (StatusChange("active", D("2027-01-01"), 1_790_000_000),),
                (ELECTRICIAN,), _key("late"),
            ),
            # A code whose last digit is FULLWIDTH DIGIT ONE: no number may be rebuilt from it.
            _institution("Y00005100000１", "编号不规范的机构", (ACTIVE,), (ELECTRICIAN,), _key("odd")),
        ),
    )  # fmt: skip


REVOKED_INDEX, SUSPENDED_INDEX, UNDEFINED_INDEX = 1000, 1001, 1002


def status_list() -> StatusList:
    """List 0: three entries set, the rest VALID."""
    entries = StatusList(2**20, 2)
    entries.set(REVOKED_INDEX, 1)
    entries.set(SUSPENDED_INDEX, 2)
    entries.set(UNDEFINED_INDEX, 3)
    return entries


def claims(**changes: Any) -> CertificateClaims:
    """The typical certificate of institution Y000011000001, optionally changed."""
    fields: dict[str, Any] = {
        "certificate_number": "Y000011000001263000001",
        "holder_name": "张三丰",
        "id_type": "居民身份证",
        "id_masked": MaskedId.of("11010519491231002X"),
        "occupation_code": "6-31-01-03",
        "level": 3,
        "work_type": "--",
        "issue_date": D("2026-11-24"),
        "status_list": 0,
        "status_index": 123456,
    }
    fields.update(changes)
    day: date = fields["issue_date"]
    number = fields["certificate_number"]
    fields["certificate_number"] = f"{number[:13]}{day.year % 100:02d}{fields['level']}{number[16:]}"
    return CertificateClaims(**fields)


LONGEST = claims(
    certificate_number="S000065999999261999999",
    holder_name="阿卜杜热合曼·买买提艾力·阿不都热西提·吐尔逊江",
    id_type="护照",
    id_masked=MaskedId.of("E1234567890ABCDEFGH(K)-PQRTUVW"),
    occupation_code="4-02-01-05",
    level=1,
    work_type="高速铁路牵引供电接触网检修工",
    issue_date=D("2026-11-20"),
    status_list=0,
    status_index=1048575,
)


# --- building credentials by hand, for the hostile vectors ------------------------------------------


def payload(value: CertificateClaims) -> bytes:
    return cbor2.dumps(value.to_cwt())


def cose(
    body: bytes,
    signer: Signer = KEYS["a"],
    *,
    protected: bytes | None = None,
    unprotected: bytes = b"\xa0",
    signature: bytes | None = None,
) -> bytes:
    """COSE_Sign1 bytes assembled byte by byte, so that nothing re-encodes a deliberate flaw."""
    if protected is None:
        protected = cbor2.dumps({1: -8, 4: signer.kid})
    if signature is None:
        signature = signer.sign(sig_structure(protected, body))
    return b"\xd2\x84" + cbor2.dumps(protected) + unprotected + cbor2.dumps(body) + cbor2.dumps(signature)


def plain(data: bytes) -> str:
    return "SP2:" + b45encode(data)


def url(data: bytes, origin: str = OFFICIAL) -> str:
    return origin.upper() + "/#SP2." + base43().encode(data)


def body_with(mutate: Callable[[dict[int, Any]], None], *, sort: bool = True) -> bytes:
    cwt = claims().to_cwt()
    inner = dict(cwt[Claim.CERTIFICATE])
    mutate(inner)
    keys = sorted(inner) if sort else sorted(inner, reverse=True)
    return cbor2.dumps({Claim.CERTIFICATE: {k: inner[k] for k in keys}})


def typical_cose() -> bytes:
    return cose(payload(claims()))


def _tampered_name() -> str:
    good = typical_cose()
    forged = good.replace("张三丰".encode(), "李四光".encode())
    return plain(forged)


def valid_vectors() -> list[tuple[str, str, str | None]]:
    """(name, text, warning) of credentials that verify."""
    a = KEYS["a"]
    typical = encode(claims(), a)
    longest = encode(LONGEST, KEYS["b"])
    vectors: list[tuple[str, str, str | None]] = [
        ("typical_plain", typical, None),
        ("typical_url", url_form(typical, OFFICIAL), None),
        ("longest_plain", longest, None),
        ("longest_url", url_form(longest, OFFICIAL), None),
    ]
    for level in range(1, 6):
        vectors.append((f"level_{level}", encode(claims(level=level, status_index=200 + level), a), None))
    id_numbers = [
        "11010519491231002X",
        "E12345678",
        "H1234567801",
        "9123456701",
        "156123456789012",
        "810000199001011234",
    ]
    id_types = [
        "居民身份证",
        "护照",
        "港澳居民来往内地通行证",
        "台湾居民来往大陆通行证",
        "外国人永久居留身份证",
        "港澳台居民居住证",
    ]
    for n, (id_type, number) in enumerate(zip(id_types, id_numbers, strict=True), start=1):
        text = encode(claims(id_type=id_type, id_masked=MaskedId.of(number), status_index=300 + n), a)
        vectors.append(
            (
                f"id_type_{n}_{'url' if n % 2 == 0 else 'plain'}",
                url_form(text, OFFICIAL) if n % 2 == 0 else text,
                None,
            )
        )
    vectors += [
        ("work_type_carried", encode(claims(work_type="维修电工", status_index=400), a), None),
        ("zlib_compressed_plain", plain(zlib.compress(typical_cose(), 9)), None),
        ("zlib_compressed_url", url(zlib.compress(typical_cose(), 9)), None),
        ("http_url_on_a_loopback_verifier", url_form(typical, "http://127.0.0.1:8701"), None),
        ("url_lowercased_by_a_camera", "https://verify.example.cn/#" + url_form(typical, OFFICIAL).split("#")[1], None),
        ("alg_ed25519_minus_19", plain(cose(payload(claims()), a, protected=cbor2.dumps({1: -19, 4: a.kid}))), None),
        ("key_retired_after_the_issue_date", encode(claims(issue_date=D("2026-02-01"), status_index=501), KEYS["a-retired"]), None),
        ("key_revoked_after_the_issue_date", encode(claims(issue_date=D("2026-05-01"), status_index=502), KEYS["a-revoked"]), None),
        ("institution_removed_after_the_issue_date", encode(claims(certificate_number="Y000021000001263000007", issue_date=D("2026-04-01"), status_index=503), KEYS["removed"]), None),
        ("foreign_host_in_the_url_form", url_form(typical, "https://verify.examp1e.cn"), "verifier_host_foreign"),
    ]  # fmt: skip
    return vectors


def invalid_vectors() -> list[tuple[str, str, str, str | None]]:
    """(name, text, expected code, warning) of credentials that do not verify."""
    a = KEYS["a"]
    good = typical_cose()
    kid = a.kid
    canonical_protected = cbor2.dumps({1: -8, 4: kid})
    level_3 = payload(claims())

    def re_signed(body: bytes, protected: bytes = canonical_protected, unprotected: bytes = b"\xa0") -> str:
        return plain(cose(body, a, protected=protected, unprotected=unprotected))

    def issued(signer: str, **changes: Any) -> str:
        return encode(claims(**changes), KEYS[signer])

    assert level_3.count(b"\x03\x03") == 1
    return [
        # format: every rejection of §3.3, §4 and §5
        ("empty_text", "", "qr_empty", None),
        ("text_longer_than_any_qr_code", "SP2:" + "0" * 4300, "qr_too_long", None),
        ("eu_digital_covid_certificate", "HC1:" + b45encode(good), "prefix_missing", None),
        ("wechat_official_account_qr", "https://weixin.qq.com/r/mp/aBcDeFgHiJkLmN", "prefix_missing", None),
        ("plain_text_qr", "欢迎光临", "prefix_missing", None),
        ("version_1_prefix", "SP1:" + b45encode(good), "prefix_version", None),
        ("url_form_of_a_future_version", OFFICIAL.upper() + "/#SP3." + base43().encode(good), "prefix_version", None),
        ("url_form_with_a_path", OFFICIAL.upper() + "/CHECK/#SP2." + base43().encode(good), "url_invalid", None),
        ("url_form_over_http_to_a_public_host", "HTTP://VERIFY.EXAMPLE.CN/#SP2." + base43().encode(good), "url_invalid", None),
        ("url_form_with_a_malformed_host", "HTTPS://VERIFY..EXAMPLE.CN/#SP2." + base43().encode(good), "url_invalid", None),
        ("base45_triplet_over_range", "SP2:GGW", "base45_invalid", None),
        ("base45_dangling_character", "SP2:" + b45encode(good[:-1]) + "A", "base45_invalid", None),
        ("base45_in_the_url_form", OFFICIAL.upper() + "/#SP2." + b45encode(good).replace(" ", "%20"), "base43_invalid", None),
        ("zlib_broken", plain(b"\x78\x9c\x00\x01garbage"), "zlib_invalid", None),
        ("zlib_bomb", plain(zlib.compress(b"\x00" * 1_000_000, 9)), "zlib_too_large", None),
        ("zlib_trailing_bytes", plain(zlib.compress(good) + b"\x00"), "zlib_trailing", None),
        ("cbor_truncated", plain(good[:40]), "cbor_invalid", None),
        ("cbor_trailing_bytes", plain(good + b"\x00"), "cbor_trailing", None),
        ("cbor_nesting_bomb", plain(b"\x81" * 20 + b"\x00"), "cbor_too_complex", None),
        ("cose_sign_not_sign1", plain(b"\xd8\x62" + good[1:]), "cose_not_sign1", None),
        ("cose_array_of_three", plain(cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"x"]))), "cose_shape", None),
        ("cbor_true_as_the_alg_label", re_signed(level_3, b"\xa2\x04\x48" + kid + b"\xf5\x27"), "cose_protected_header", None),
        ("typ_in_a_credential_header", re_signed(level_3, cbor2.dumps({1: -8, 4: kid, 16: "x"})), "cose_protected_header", None),
        ("unknown_critical_header", re_signed(level_3, cbor2.dumps({1: -8, 2: [99], 4: kid, 99: 1})), "cose_unknown_critical", None),
        ("unknown_unprotected_member", re_signed(level_3, unprotected=b"\xa1\x18\x63\x01"), "cose_unprotected_header", None),
        ("alg_es256", re_signed(level_3, cbor2.dumps({1: -7, 4: kid})), "cose_algorithm", None),
        ("alg_none", re_signed(level_3, cbor2.dumps({1: 0, 4: kid})), "cose_algorithm", None),
        ("kid_of_four_bytes", re_signed(level_3, cbor2.dumps({1: -8, 4: kid[:4]})), "cose_kid", None),
        ("signature_of_63_bytes", plain(cose(level_3, a, signature=b"\x00" * 63)), "cose_signature_length", None),
        ("level_as_a_one_byte_integer", re_signed(level_3.replace(b"\x03\x03", b"\x03\x18\x03")), "cbor_not_canonical", None),
        ("payload_length_written_long", plain(good[:17] + b"\x59" + good[18:19].rjust(2, b"\x00") + good[19:]), "cbor_not_canonical", None),
        ("claims_keys_out_of_order", re_signed(body_with(lambda body: None, sort=False)), "cbor_not_canonical", None),
        ("level_out_of_range", re_signed(body_with(lambda body: body.update({CertificateKey.LEVEL: 9}))), "claims_invalid", None),
        ("unknown_claim_key", re_signed(body_with(lambda body: body.update({99: "x"}))), "claims_invalid", None),
        ("certificate_number_as_text", re_signed(body_with(lambda body: body.update({CertificateKey.SERIAL: "Y000011000001263000001"}))), "claims_invalid", None),
        ("no_work_type_written_out", re_signed(body_with(lambda body: body.update({CertificateKey.WORK_TYPE: "--"}))), "claims_invalid", None),
        ("bidi_override_in_the_name", re_signed(body_with(lambda body: body.update({CertificateKey.HOLDER_NAME: "张\u202e三"}))), "claims_invalid", None),
        # trust: keys, signature, windows, institution, scope, number, status
        ("key_not_in_the_directory", encode(claims(), STRANGER), "key_unknown", None),
        ("wrong_key_behind_a_known_kid", plain(cose(level_3, STRANGER, protected=canonical_protected)), "signature_invalid", None),
        ("holder_name_changed_after_signing", _tampered_name(), "signature_invalid", None),
        ("issued_in_the_future", issued("a", issue_date=D("2026-12-25")), "issue_date_future", None),
        ("key_not_yet_valid", issued("a-future", issue_date=D("2026-06-01")), "key_not_yet_valid", None),
        ("key_expired", issued("a-expired", issue_date=D("2026-06-01")), "key_expired", None),
        ("key_retired_before_the_issue_date", issued("a-retired", issue_date=D("2026-06-01")), "key_retired", None),
        ("key_revoked_on_the_issue_date", issued("a-revoked", issue_date=D("2026-06-01")), "key_revoked", None),
        ("institution_removed", issued("removed", certificate_number="Y000021000001263000001", issue_date=D("2026-06-01")), "institution_removed", None),
        ("institution_suspended", issued("suspended", certificate_number="Y000031000001263000001", issue_date=D("2026-06-01")), "institution_suspended", None),
        ("institution_not_yet_active", issued("late", certificate_number="Y000041000001263000001"), "institution_not_active", None),
        ("occupation_out_of_scope", issued("a", occupation_code="4-02-01-05"), "occupation_out_of_scope", None),
        ("level_out_of_scope", encode(claims(**{**LONGEST.__dict__, "level": 2, "certificate_number": "S000065999999262999999"}), KEYS["b"]), "level_out_of_scope", None),
        ("work_type_out_of_scope", issued("a", work_type="焊工"), "work_type_out_of_scope", None),
        ("institution_code_with_a_fullwidth_digit", issued("odd"), "certno_mismatch", None),
        ("revoked", issued("a", status_index=REVOKED_INDEX), "revoked", None),
        ("suspended", issued("a", status_index=SUSPENDED_INDEX), "suspended", None),
        ("undefined_status_value", issued("a", status_index=UNDEFINED_INDEX), "status_unknown", None),
        ("status_list_not_published", issued("a", status_list=7), "trust_missing", None),
        ("revoked_behind_a_foreign_host", url_form(issued("a", status_index=REVOKED_INDEX), "https://verify.examp1e.cn"), "revoked", "verifier_host_foreign"),
    ]  # fmt: skip


def build() -> dict[str, bytes]:
    """Every file of spec/vectors/, by name."""
    registry = REGISTRY
    trust_list = sign_document(directory().to_payload(), registry, TYP_DIRECTORY)
    token = sign_status_list_token(
        status_list(),
        registry,
        uri=f"{REGISTRY_BASE}/api/v1/status-lists/0",
        issued_at=NOW - 3600,
        expires_at=NOW + 86400,
        ttl=300,
    )
    vectors = {
        "now": NOW,
        "registry_public_key": registry.public_key.raw.hex(),
        "verifier_hosts": list(VERIFIER_HOSTS),
        "valid": [
            {"name": name, "text": text, "expect": {"code": "valid", **({"warning": w} if w else {})}}
            for name, text, w in valid_vectors()
        ],
        "invalid": [
            {"name": name, "text": text, "expect": {"code": code, **({"warning": w} if w else {})}}
            for name, text, code, w in invalid_vectors()
        ],
    }
    keys = {
        "note": "TEST KEYS ONLY: the seeds are public, so that anyone can regenerate the vectors.",
        "registry": {"seed_label": "skillpass spec vectors: registry", "public_key": registry.public_key.raw.hex()},
        "institutions": {
            name: {"seed_label": f"skillpass spec vectors: {name}", "public_key": s.public_key.raw.hex(), "kid": s.kid.hex()}
            for name, s in KEYS.items()
        },
    }  # fmt: skip
    return {
        "directory.cose": trust_list,
        "status-list-0.cwt": token,
        "vectors.json": (json.dumps(vectors, ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
        "keys.json": (json.dumps(keys, ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
    }


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, data in build().items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(build())} files to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
