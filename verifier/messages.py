"""Every sentence the verifier says, in Chinese and English, keyed by stable codes.

The web page, the CLI and the HTTP API show these words without rewriting them, so they are
written for a shop-floor supervisor, not for a cryptographer. Format failures reuse the
credential layer's own catalogue (``credential.REJECTIONS``) for their specific reason.
"""

from __future__ import annotations

from typing import Final

from credential import REJECTIONS
from schemas.vocabulary import STATUS_REASON_CATEGORIES

Text = tuple[str, str]

#: The seven outcomes (DESIGN "Verification verdict"): code -> the words of the headline. The page,
#: the CLI and the API's ``outcome_label`` all show exactly these, with the symbol beside them so
#: that the outcome never rests on colour alone (print, colour blindness, screen readers).
OUTCOME_LABELS: Final[dict[str, Text]] = {
    "valid": ("有效", "Valid"),
    "holder_mismatch": ("持证人不符", "Holder does not match"),
    "revoked": ("已撤销", "Revoked"),
    "suspended": ("已暂停", "Suspended"),
    "invalid": ("无效", "Invalid"),
    "indeterminate": ("无法确定", "Indeterminate"),
    "unrecognized": ("未识别为证书", "Not a recognised certificate"),
}
OUTCOME_SYMBOLS: Final[dict[str, str]] = {
    "valid": "✓",
    "holder_mismatch": "≠",
    "revoked": "⊘",
    "suspended": "‖",
    "invalid": "✗",
    "indeterminate": "?",
    "unrecognized": "○",
}

#: The checks in DESIGN's order: code -> (what a pass means in zh, in en).
CHECK_PASSED: Final[dict[str, Text]] = {
    "format": ("二维码格式正确", "the QR code is a well-formed skillpass credential"),
    "key_known": (
        "签名密钥已在全国目录中登记",
        "the signing key is registered in the national directory",
    ),
    "signature": ("签名有效，证书内容未被改动", "the signature is valid: the content is unaltered"),
    "key_valid": ("签发当日签名密钥在有效期内", "the signing key was in force on the issue date"),
    "institution_active": (
        "签发当日评价机构处于正常备案状态",
        "the institution was active on the issue date",
    ),
    "scope": (
        "签发当日机构有权认定该职业（工种）和等级",
        "the institution was authorised for this occupation and level on the issue date",
    ),
    "certificate_number": (
        "证书编号与证书内容和签发机构一致",
        "the certificate number agrees with the certificate and its institution",
    ),
    "status": ("证书状态正常（未撤销、未暂停）", "the certificate is neither revoked nor suspended"),
    "registry_record": (
        "全国联网查询系统中的记录与此证书一致",
        "the national registry's record matches this certificate",
    ),
}

NOT_RUN: Final[Text] = ("未检查（前面的检查未通过）", "not checked (an earlier check did not pass)")

#: Failure codes of the checks after the format check: code -> (zh, en).
FAILURES: Final[dict[str, Text]] = {
    "key_unknown": (
        "签名密钥未在全国目录中登记：证书不是由已备案的评价机构签发的",
        "the signing key is not in the national directory: no registered institution issued this",
    ),
    "signature_invalid": (
        "签名无效：证书内容已被改动，或不是由该机构签发",
        "the signature is invalid: the certificate was altered or not signed by this institution",
    ),
    "issue_date_future": (
        "证书的发证日期在未来：真实签发的证书不可能如此",
        "the certificate is dated in the future: no genuinely issued certificate can be",
    ),
    "key_not_yet_valid": (
        "证书的签发日期早于签名密钥的启用日期",
        "the certificate is dated before its signing key came into use",
    ),
    "key_expired": (
        "签名密钥在证书签发日期之前已过期",
        "the signing key had expired before the issue date",
    ),
    "key_retired": (
        "签名密钥在证书签发日期之前已停用（已更换新密钥）",
        "the signing key had been retired (replaced) before the issue date",
    ),
    "key_revoked": (
        "签名密钥已被吊销（可能泄露），吊销生效后签发的证书不可信",
        "the signing key was revoked (possibly compromised) on or before the issue date",
    ),
    "institution_suspended": (
        "签发当日该评价机构已被暂停",
        "the institution was suspended on the issue date",
    ),
    "institution_removed": (
        "签发当日该评价机构已被移出目录",
        "the institution had been removed from the directory by the issue date",
    ),
    "institution_not_active": (
        "签发当日该评价机构尚未备案生效",
        "the institution was not yet registered on the issue date",
    ),
    "occupation_out_of_scope": (
        "签发当日该机构无权认定此职业",
        "the institution was not authorised to certify this occupation on the issue date",
    ),
    "level_out_of_scope": (
        "签发当日该机构无权认定此职业的这一等级",
        "the institution was not authorised to certify this level of the occupation on the issue date",
    ),
    "work_type_out_of_scope": (
        "签发当日该机构无权认定此工种（职业方向）",
        "the institution was not authorised to certify this work type on the issue date",
    ),
    "certno_mismatch": (
        "证书编号与证书内容或签发机构不符",
        "the certificate number does not agree with the certificate or its institution",
    ),
    "revoked": ("证书已被撤销", "the certificate has been revoked"),
    "suspended": ("证书已被暂停使用", "the certificate is suspended"),
    "status_unknown": (
        "状态列表中查不到此证书，无法确定其状态",
        "the status list does not cover this certificate, so its status is unknown",
    ),
    "record_mismatch": (
        "全国联网查询系统中该编号登记的是另一份证书",
        "the national registry holds a different credential under this number",
    ),
    "record_missing": (
        "全国联网查询系统中查不到此证书",
        "the national registry has no record of this certificate",
    ),
    "trust_missing": (
        "本机没有全国目录数据，无法判断真伪；请联网同步后再试",
        "there is no national directory data on this device; sync with the registry and try again",
    ),
    "trust_expired": (
        "本机的全国目录数据已过期，无法判断真伪；请联网同步后再试",
        "the national directory data on this device has expired; sync with the registry and try again",
    ),
}

VALID: Final[Text] = (
    "证书有效：由已备案的评价机构签发，内容未被改动，状态正常",
    "valid: issued by a registered institution, unaltered and in good standing",
)
_INVALID_PREFIX: Final[Text] = ("证书无效：", "invalid: ")
_INDETERMINATE_PREFIX: Final[Text] = ("无法确定：", "cannot decide: ")
_UNRECOGNIZED_PREFIX: Final[Text] = ("未识别为证书：", "not a recognised certificate: ")
_NOT_OURS: Final[Text] = (
    "这不是职业技能等级电子证书的二维码。这本身并不说明证书是伪造的",
    "this is not a skill certificate QR code; that alone does not mean a forgery",
)
_NOT_A_CREDENTIAL: Final[Text] = (
    "这不是有效的职业技能等级电子证书二维码，或二维码已损坏",
    "this is not a valid skill certificate QR code, or the code is damaged",
)

#: holder_mismatch: which of the typed fields differ -> the verdict's sentence.
HOLDER_MISMATCH: Final[dict[str, Text]] = {
    "name": (
        "证书真实且状态正常，但与输入的持证人不符：姓名不一致",
        "the certificate is genuine and in force, but not the holder you entered: the name differs",
    ),
    "id_number": (
        "证书真实且状态正常，但与输入的持证人不符：证件号码不一致",
        "the certificate is genuine and in force, but not the holder you entered: the ID number differs",
    ),
    "both": (
        "证书真实且状态正常，但与输入的持证人不符：姓名和证件号码都不一致",
        "the certificate is genuine and in force, but not the holder you entered: both the name and the"
        " ID number differ",
    ),
}

#: Check (8), passed: where the status came from.
STATUS_PASSED_REGISTRY: Final[Text] = (
    "证书状态正常（全国联网查询系统实时确认）",
    "the certificate is neither revoked nor suspended (confirmed by the national registry just now)",
)
STATUS_PASSED_AS_OF: Final[Text] = (
    "证书状态正常（以 {as_of} 的状态列表为准）",
    "the certificate is neither revoked nor suspended (as of the status list of {as_of})",
)

REGISTRY_UNREACHABLE: Final[Text] = (
    "无法连接全国联网查询系统，已改用本机数据离线核验",
    "the national registry could not be reached; verified offline with local data instead",
)
KEY_LATER_REVOKED: Final[Text] = (
    "签名密钥后来被吊销：离线无法排除用泄露的密钥倒签伪造，请联网核验",
    "the signing key was later revoked: offline, a back-dated forgery with the leaked key cannot be"
    " ruled out; verify online",
)
HOLDER_CHECK_OFFLINE: Final[Text] = (
    "无法联网核对持证人，已改用证书中的姓名和部分证件号码比对",
    "the registry could not confirm the holder; compared with the name and masked ID in the QR instead",
)
INSTITUTION_LATER_REMOVED: Final[Text] = (
    "发证机构后来已被撤销备案：离线无法排除伪造，请联网核验",
    "the issuing institution has since been removed from the directory: offline, a forgery with its"
    " key cannot be ruled out; verify online",
)
#: A verdict's notes by code: warnings and explanations beside the result, never instead of it.
NOTES: Final[dict[str, Text]] = {
    "registry_unreachable": REGISTRY_UNREACHABLE,
    "holder_offline": HOLDER_CHECK_OFFLINE,
    "key_later_revoked": KEY_LATER_REVOKED,
    "institution_later_removed": INSTITUTION_LATER_REMOVED,
}


def failure_text(code: str) -> Text:
    """What a failed check says: the verifier's own words, or the credential layer's for format codes."""
    return FAILURES.get(code) or REJECTIONS[code]


def summary(code: str, indeterminate: bool) -> Text:
    """The verdict's one sentence for a failure code."""
    zh, en = _INDETERMINATE_PREFIX if indeterminate else _INVALID_PREFIX
    if code in REJECTIONS and code not in FAILURES:
        reason_zh, reason_en = REJECTIONS[code]
        return (
            f"{zh}{_NOT_A_CREDENTIAL[0]}（{reason_zh}）",
            f"{en}{_NOT_A_CREDENTIAL[1]} ({reason_en})",
        )
    reason_zh, reason_en = failure_text(code)
    return f"{zh}{reason_zh}", f"{en}{reason_en}"


def status_summary(status: str, day: str | None, category: str | None, as_of: str | None) -> Text:
    """revoked / suspended: genuine, no longer in force, since when and why (when we know)."""
    zh_word, en_word = ("撤销", "revoked") if status == "revoked" else ("暂停使用", "suspended")
    zh = f"证书真实，但已于 {day} {zh_word}" if day else f"证书真实，但已被{zh_word}"
    en = (
        f"the certificate is genuine, but it was {en_word} on {day}"
        if day
        else (f"the certificate is genuine, but it has been {en_word}")
    )
    if category in STATUS_REASON_CATEGORIES:
        reason_zh, reason_en = STATUS_REASON_CATEGORIES[category]
        zh, en = f"{zh}（原因类别：{reason_zh}）", f"{en} (reason: {reason_en})"
    if as_of:
        zh, en = f"{zh}；以 {as_of} 的状态列表为准", f"{en}; as of the status list of {as_of}"
    return f"{zh}，不再有效", f"{en}, and is no longer in force"


def unrecognized_summary(reason: Text | None) -> Text:
    """Not one of our certificates: say so, and say it is not a finding of forgery."""
    zh = f"{_UNRECOGNIZED_PREFIX[0]}{_NOT_OURS[0]}"
    en = f"{_UNRECOGNIZED_PREFIX[1]}{_NOT_OURS[1]}"
    if reason is None:
        return zh, en
    return f"{zh}（{reason[0]}）", f"{en} ({reason[1]})"


#: The warning about a URL-form QR that names a host the signed directory does not list.
VERIFIER_HOST_FOREIGN: Final[Text] = (
    "注意：此二维码指向的网站 {host} 不是官方核验网站，可能是仿冒网站；请以本页结果为准，勿信该网站的核验结果。",
    "Warning: this QR code points to {host}, which is not an official verifier site and may be a"
    " look-alike; trust this result, not that site's.",
)
