"""The credential layer's error model: one exception, one stable code per way a QR text can fail."""

from __future__ import annotations

from common.errors import CataloguedError

# code -> (zh-CN, English). Codes are stable: verifiers, the web page and tests key on them.
REJECTIONS: dict[str, tuple[str, str]] = {
    "qr_empty": ("二维码内容为空", "the QR text is empty"),
    "qr_too_long": ("二维码内容过长", "the QR text is longer than any valid credential"),
    "prefix_missing": (
        "不是 skillpass 证书二维码（缺少前缀 SP2: 或核验网址）",
        "not a skillpass credential (neither the SP2: prefix nor a verifier URL)",
    ),
    "url_invalid": (
        "二维码中的核验网址格式不正确",
        "the verifier URL in the QR is malformed (https://host/#SP2.… expected)",
    ),
    "prefix_version": ("证书二维码版本不受支持", "unsupported credential version prefix"),
    "base45_invalid": ("二维码内容不是有效的 Base45 编码", "the QR text is not valid base45"),
    "base43_invalid": (
        "核验网址中的证书数据编码无效",
        "the credential in the verifier URL is not valid base43",
    ),
    "zlib_invalid": ("压缩数据已损坏", "the compressed data is broken"),
    "zlib_too_large": ("解压后数据超出上限", "the data decompresses beyond the size limit"),
    "zlib_trailing": ("压缩数据后有多余内容", "extra bytes follow the compressed data"),
    "cbor_invalid": ("数据不是有效的 CBOR", "the data is not valid CBOR"),
    "cbor_trailing": ("数据末尾有多余字节", "extra bytes follow the credential"),
    "cbor_not_canonical": (
        "数据不是规范编码（同一内容只允许一种字节形式）",
        "the data is not in its one canonical encoding",
    ),
    "cbor_too_complex": ("数据结构嵌套过深或元素过多", "the data is nested too deeply or has too many items"),
    "cose_not_sign1": ("不是 COSE_Sign1 签名结构（标签 18）", "not a COSE_Sign1 structure (tag 18)"),
    "cose_shape": ("COSE_Sign1 结构不正确", "the COSE_Sign1 array has the wrong shape"),
    "cose_protected_header": ("受保护头部不是有效的映射", "the protected header is not a valid map"),
    "cose_unknown_critical": (
        "受保护头部含有未知的关键参数",
        "the protected header has unknown critical parameters",
    ),
    "cose_unprotected_header": (
        "未受保护头部必须为空",
        "the unprotected header must be empty",
    ),
    "cose_algorithm": ("签名算法不是 EdDSA (Ed25519)", "the signature algorithm is not EdDSA (Ed25519)"),
    "cose_kid": ("缺少密钥标识 kid 或长度错误", "the key id (kid) is missing or of the wrong length"),
    "cose_signature_length": ("签名长度不是 64 字节", "the signature is not 64 bytes long"),
    "signature_invalid": (
        "签名无效：证书内容已被篡改或签名密钥不符",
        "invalid signature: altered, or signed by another key",
    ),
    "claims_invalid": ("证书内容不符合格式要求", "the certificate claims do not follow the schema"),
}


class CredentialError(CataloguedError):
    """A rejected credential; ``code`` is one of ``REJECTIONS`` and ``detail`` says more in English."""

    catalogue = REJECTIONS
