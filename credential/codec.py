"""The three operations on a credential: ``encode`` (sign), ``decode`` (parse, no trust decision)
and ``verify`` (check the signature against a key the caller chose to trust)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Final, NoReturn

import cbor2

from credential import cose
from credential.claims import KEY_ORDERS, CertificateClaims
from credential.constants import DEFAULT_LIMITS, Claim, Limits
from credential.errors import CredentialError
from credential.frozen import assemble
from credential.qr_text import read_qr_text, to_qr_text, to_url_text
from keys import PublicKey, Signer


def _refuse_tag(*_: object) -> NoReturn:
    raise ValueError("tags are not allowed in the claims")


# Every tag cbor2 would otherwise decode itself (dates, bignums, shared references, regular
# expressions, MIME, sets, ...); any other tag goes to ``_refuse_tag``.
_REFUSED_SEMANTIC_TAGS = dict.fromkeys(
    (0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 100, 256, 258, 260, 261, 262, 263, 270, 1004, 55799),
    _refuse_tag,
)


_CERTIFICATE = Claim.CERTIFICATE  # bound once: an IntEnum member lookup costs ~100 ns (Python 3.11)


@dataclass(frozen=True)
class ParsedCredential:
    """A credential whose format is valid and whose signature is not yet checked."""

    sign1: cose.Sign1
    claims: CertificateClaims
    compressed: bool
    cose_bytes: bytes  # as signed and published: the registry's record holds their SHA-256
    form: str = "plain"  # or "url": which printed form the text was
    verifier_host: str | None = None  # the host a URL form names (lower case, with any port)

    @property
    def kid(self) -> bytes:
        """The 8-byte key id from the protected header."""
        return self.sign1.kid


def encode(claims: CertificateClaims, signer: Signer, *, verifier_url: str | None = None) -> str:
    """Sign the claims as a CWT in COSE_Sign1 and return the QR text: the plain form, or the URL
    form for the verifier at ``verifier_url`` (``ValueError`` if that is not ``https://host``)."""
    # Plain int keys: cbor2 writes an IntEnum key (the certificate claim's) as the same integer, but
    # finds its encoder by a search that cost several times the rest of the top-level map.
    cwt = {int(key): value for key, value in claims.to_cwt().items()}
    signed = cose.sign1(cbor2.dumps(cwt), signer)
    return to_qr_text(signed) if verifier_url is None else to_url_text(signed, verifier_url)


def url_form(text: str, verifier_url: str) -> str:
    """The URL form of a credential's QR text of either form (the same signed bytes): what a
    certificate prints so that a phone camera or WeChat opens the verifier page."""
    return to_url_text(read_qr_text(text, DEFAULT_LIMITS).data, verifier_url)


def plain_form(text: str) -> str:
    """The plain form of a credential's QR text of either form."""
    return to_qr_text(read_qr_text(text, DEFAULT_LIMITS).data)


def decode(text: str, limits: Limits = DEFAULT_LIMITS) -> ParsedCredential:
    """Parse QR text through every format check; raises ``CredentialError`` with the first failure.

    The payload is decoded by cbor2 in its strict mode instead of being pre-scanned in Python
    (the costliest step after the signature): nesting is capped at ``max_cbor_depth``,
    indefinite lengths, duplicate keys and every tag are refused, the payload's size (already
    bounded) bounds its item count, and the strict claims parser refuses every shape but the
    certificate's (floats included).
    """
    payload = read_qr_text(text, limits)
    data = payload.data
    if len(data) > limits.max_decompressed:
        raise CredentialError("zlib_too_large", "the credential is larger than any valid one")
    # skillpass's own layout passes the header policy by construction; only other bytes are judged
    message = cose.canonical_sign1(data) or _general_sign1(data, limits)
    claims = _claims(message.payload, limits)
    return assemble(
        ParsedCredential,
        {
            "sign1": message,
            "claims": claims,
            "compressed": payload.compressed,
            "cose_bytes": data,
            "form": payload.form,
            "verifier_host": payload.verifier_host,
        },
    )


def _general_sign1(data: bytes, limits: Limits) -> cose.Sign1:
    """A COSE_Sign1 in any other layout, through every structural and header check."""
    message = cose.decode_sign1(data, limits)
    cose.require_eddsa_with_kid(message)
    if len(message.protected) != 2:  # exactly alg and kid: a credential has no other header
        raise CredentialError(
            "cose_protected_header", "a credential's protected header holds alg and kid only"
        )
    return message


def _claims(payload: bytes, limits: Limits) -> CertificateClaims:
    """The claims of any payload through every check, the first failure named (spec §4, §5)."""
    raw_claims, reencodes = _claims_item(payload, limits)
    claims = CertificateClaims.from_cwt(raw_claims)
    # Deterministic (spec §4): cbor2 writes every integer and length in its shortest form and keeps
    # the map order it read, so an equal re-encoding plus ascending keys is the canonical form. This
    # costs a fifth of a ``canonical=True`` encoding, which sorts every map: it is the hot path.
    # from_cwt checked the shape: the keys are the required ones, with or without the work type.
    if not reencodes or tuple(raw_claims[_CERTIFICATE]) not in KEY_ORDERS:  # type: ignore[index]
        raise CredentialError("cbor_not_canonical", "the claims are not deterministically encoded")
    return claims


def _loads(payload: bytes, limits: Limits) -> object:
    """The payload's first item, decoded by cbor2 with ``_strict_settings``."""
    settings = _DEFAULT_SETTINGS if limits is DEFAULT_LIMITS else _strict_settings(limits)
    try:
        return cbor2.loads(payload, **settings)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as e:
        raise CredentialError("claims_invalid", f"the payload is not strict CBOR: {e}") from e


def _claims_item(payload: bytes, limits: Limits) -> tuple[object, bool]:
    """``_strict_cbor``'s item, and whether re-encoding it gives back exactly ``payload``.

    cbor2's one-shot ``loads`` decodes the first item with the same strict settings for two thirds
    of the cost of building a ``CBORDecoder``, but it does not say where the item ended. When the
    re-encoding equals the payload, the payload is exactly that one item (a CBOR item delimits
    itself), so nothing follows it. Otherwise ``_strict_cbor`` decodes once more so that trailing
    bytes are named, and named first, exactly as before.
    """
    item = _loads(payload, limits)
    try:
        reencoded = cbor2.dumps(item)
    except (cbor2.CBOREncodeError, ValueError, TypeError):  # no claims: from_cwt will say so
        reencoded = b""
    if reencoded == payload:
        return item, True
    return _strict_cbor(payload, limits), False


def _strict_settings(limits: Limits) -> dict[str, Any]:
    """cbor2's decoder settings for claims: no tags, no indefinite lengths, no duplicate keys, no
    nesting beyond the limit."""
    return {
        "max_depth": limits.max_cbor_depth,
        "allow_indefinite": False,
        "allow_duplicate_keys": False,
        "tag_hook": _refuse_tag,
        "semantic_decoders": _REFUSED_SEMANTIC_TAGS,
    }


_DEFAULT_SETTINGS: Final = _strict_settings(DEFAULT_LIMITS)  # built once: every verification uses them


def _strict_cbor(payload: bytes, limits: Limits) -> object:
    """Exactly one strictly encoded item (``_strict_settings``), and nothing after it."""
    stream = io.BytesIO(payload)
    decoder = cbor2.CBORDecoder(stream, **_strict_settings(limits))
    try:
        item = decoder.decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as e:
        raise CredentialError("claims_invalid", f"the payload is not strict CBOR: {e}") from e
    if stream.tell() != len(payload):
        raise CredentialError("cbor_trailing", "bytes follow the claims")
    return item


def verify(parsed: ParsedCredential, key: PublicKey) -> None:
    """Raise ``signature_invalid`` unless ``key`` (matching the kid) signed this credential."""
    if key.kid != parsed.kid:
        raise CredentialError("signature_invalid", "the key's id differs from the credential's kid")
    cose.verify_sign1(parsed.sign1, key)
