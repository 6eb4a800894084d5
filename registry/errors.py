"""The registry's error model: one base class, one stable code per failure, mapped to HTTP in one place.

Every failure a caller can act on is a ``RegistryError`` with an HTTP status, a snake_case ``code`` and
a Chinese and English message; ``details`` carries per-item findings (e.g. per-field problems).
"""

from __future__ import annotations

from typing import Any

from common.errors import SkillpassError

# code -> (HTTP status, zh-CN, English). Codes are part of the API contract and are never renamed.
ERRORS: dict[str, tuple[int, str, str]] = {
    "invalid_request": (422, "请求内容不符合接口要求", "the request does not follow the API"),
    "invalid_json": (400, "请求体不是有效的 UTF-8 JSON", "the request body is not valid UTF-8 JSON"),
    "invalid_characters": (
        400,
        "请求中含有无法保存的字符（如 NUL 空字符）",
        "the request holds a character that cannot be stored (such as NUL)",
    ),
    "body_too_large": (413, "请求体过大", "the request body is too large"),
    "unauthenticated": (401, "缺少或无法识别访问令牌", "missing or unknown bearer token"),
    "token_expired": (401, "访问令牌已过期", "the bearer token has expired"),
    "token_revoked": (401, "访问令牌已被吊销", "the bearer token has been revoked"),
    "token_unknown": (404, "没有该编号的令牌", "no token has this id"),
    "token_state": (409, "令牌已被吊销", "the token is already revoked"),
    "forbidden": (403, "无权执行此操作", "this role may not do that"),
    "not_found": (404, "未找到", "not found"),
    "method_not_allowed": (405, "不支持该请求方法", "method not allowed"),
    "write_conflict": (
        409,
        "写入与登记系统已有记录冲突，未做任何更改；请重试",
        "the write conflicts with the registry's records; nothing was changed; try again",
    ),
    "internal_error": (
        500,
        "登记系统内部错误，已记录，未做任何更改；请稍后再试或联系管理员",
        "the registry failed internally (logged); nothing was changed; try later or tell the administrator",
    ),
    "rate_limited": (429, "查询过于频繁，请稍后再试", "too many queries; try again later"),
    "too_busy": (
        429,
        "该令牌同时进行的提交、审核或发布过多，请等前一个完成后再试",
        "this token has too many submissions, reviews or publications in flight; retry when one is done",
    ),
    "quota_exceeded": (
        429,
        "本账户今日查询额度不足，本次查询未执行；请明日再试或联系登记系统管理员调整额度",
        "this account's daily quota does not cover the request, so none of it ran; try tomorrow or ask "
        "the registry's administrator for a larger quota",
    ),
    "employer_unknown": (404, "用人单位账户不存在", "no such employer account"),
    "employer_invalid": (422, "统一社会信用代码不正确", "the unified social credit code is invalid"),
    "institution_invalid": (422, "机构信息不正确", "the institution record is invalid"),
    "institution_exists": (409, "机构已存在", "the institution already exists"),
    "institution_unknown": (404, "机构不存在", "no such institution"),
    "status_invalid": (422, "机构状态变更不正确", "the institution status change is invalid"),
    "key_invalid": (422, "公钥不正确", "the public key is invalid"),
    "key_exists": (409, "该公钥已登记", "this key is already registered"),
    "key_unknown": (404, "密钥不存在", "no such key for this institution"),
    "key_state": (409, "密钥已停用或吊销", "the key is already retired or revoked"),
    "key_backdated": (
        422,
        "机构只能登记自今日起生效的公钥；更早的生效日期请联系登记系统管理员",
        "an institution registers keys valid from today on; ask the registry's administrator for an earlier day",
    ),
    "key_revoke_future": (422, "吊销日期不能晚于今天", "the revocation day cannot be after today"),
    "key_retire_early": (
        422,
        "停用日期不能早于公钥生效日期",
        "the retirement day cannot be before valid_from",
    ),
    "key_change_backdated": (
        422,
        "机构只能自今日起停用或吊销公钥；更早的日期请联系登记系统管理员",
        "an institution retires or revokes its keys from today on; ask the registry's administrator for an earlier day",
    ),
    "institution_not_active": (
        409,
        "机构今日不是正常状态，只能查询，不能变更密钥、提交、发布或变更证书状态；请联系登记系统管理员",
        "the institution is not active today: it may read but not change keys, submit, publish or change "
        "certificate status; ask the registry's administrator",
    ),
    "status_authority": (
        403,
        "该暂停由更高一级的主管部门作出，只能由其解除",
        "a higher authority placed this suspension; only it may lift it",
    ),
    "batch_conflict": (409, "同一批次号已提交了不同的内容", "this batch id was submitted with other content"),
    "batch_ambiguous": (
        409,
        "多个机构使用了该批次号，请指定 institution_code",
        "several institutions use this batch id; pass institution_code",
    ),
    "batch_too_large": (413, "批次行数超出上限", "the batch has too many rows"),
    "row_unknown": (422, "批次中没有该行", "the batch has no such row"),
    "row_not_pending": (409, "该行不是待审核状态", "the row is not pending review"),
    "serial_exhausted": (409, "证书流水号已用尽", "no certificate serials are left for this year and level"),
    "status_change_invalid": (
        409,
        "证书状态不允许此变更",
        "the certificate's status does not allow this change",
    ),
    "status_category_invalid": (
        422,
        "原因类别须从规定列表中选择（恢复时不填）",
        "the reason category must come from the fixed list (reinstating takes none)",
    ),
    "token_role_invalid": (422, "令牌角色或机构不正确", "the token's role or institution is invalid"),
    "audit_range": (422, "审计日志范围不正确", "the audit log range is invalid"),
    "statistics_invalid": (422, "统计查询参数不正确", "the statistics query is invalid"),
    "complaint_invalid": (422, "投诉内容不符合要求", "the complaint is invalid"),
    "complaint_unknown": (
        404,
        "没有该受理编号的投诉，或查询密码不正确",
        "no complaint has this tracking number, or the secret is wrong",
    ),
    "complaint_state": (409, "投诉当前状态不允许此处理", "the complaint's state does not allow this step"),
    "certificate_unknown": (404, "没有该编号的已发布证书", "no published certificate has this number"),
    "evidence_too_large": (413, "证据文件过大或过多", "the evidence files are too large or too many"),
    "evidence_type": (
        415,
        "证据文件类型不支持（仅限 PDF、PNG、JPEG）",
        "the evidence file type is not accepted (PDF, PNG or JPEG only)",
    ),
    "challenge_failed": (
        422,
        "防刷校验未通过，请重新获取校验题",
        "the anti-spam challenge was not solved; fetch a new one",
    ),
    "credit_event_unknown": (
        422,
        "引用的信用档案记录不存在或不属于该机构",
        "a credit event named does not exist or belongs to another institution",
    ),
    "supervision_invalid": (422, "督导记录不正确", "the supervision record is invalid"),
    "supervision_required": (
        409,
        "该机构的批次须先有质量督导记录才能审核通过",
        "this institution's batches need a supervision record before approval",
    ),
    "registry_uninitialised": (409, "登记系统尚未初始化", "the registry is not initialised"),
    "registry_exists": (409, "登记系统已初始化", "the registry is already initialised"),
    "database_unavailable": (503, "数据库暂不可用，请重试", "the database is busy or unavailable; retry"),
    "sign_in_failed": (401, "用户名或密码不正确", "wrong user name or password"),
    "account_locked": (
        423,
        "连续登录失败次数过多，账号已锁定 15 分钟",
        "too many failed sign-ins: the account is locked for 15 minutes",
    ),
    "password_weak": (422, "密码长度须为 12 至 256 个字符", "a password has 12 to 256 characters"),
    "password_wrong": (403, "当前密码不正确", "the current password is wrong"),
    "password_mismatch": (422, "两次输入的新密码不一致", "the two new passwords differ"),
    "username_invalid": (
        422,
        "用户名须为 2 至 64 位小写字母、数字、点、下划线或连字符",
        "a user name has 2 to 64 lower-case letters, digits, dots, underscores or hyphens",
    ),
    "user_exists": (409, "该用户名已存在", "this user name is taken"),
    "share_days_invalid": (422, "分享链接有效期须为 1 至 90 天", "a share link lasts 1 to 90 days"),
    "share_too_many": (
        409,
        "该证书的有效分享链接已达上限（20 个）",
        "this certificate has 20 live share links already",
    ),
    "share_link_gone": (
        404,
        "分享链接不存在、已过期或已撤销",
        "the share link does not exist, expired or was revoked",
    ),
    "csrf_failed": (
        403,
        "表单已过期或来源不明，请刷新页面后重试",
        "the form expired or did not come from this site; reload the page and try again",
    ),
}


class RegistryError(SkillpassError):
    """A failure with a stable code; the HTTP layer turns it into the error JSON."""

    def __init__(self, code: str, detail: str = "", details: list[dict[str, Any]] | None = None) -> None:
        status, zh, en = ERRORS[code]
        super().__init__(code, zh, en + (f": {detail}" if detail else ""), detail)
        self.status = status
        self.details = details or []

    def to_json(self) -> dict[str, Any]:
        """The error body every endpoint answers with."""
        return {
            "code": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "details": self.details,
        }
