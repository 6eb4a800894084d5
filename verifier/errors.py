"""The verifier's error model: anything that stops us from obtaining or keeping trust data.

A rejected *credential* is never an error here — it is a ``Verdict``. These are failures of the
machinery around the engine: the registry cannot be reached, its documents do not verify
against the pinned key, or they would move us backwards.
"""

from __future__ import annotations

from typing import Final

from common.errors import CataloguedError

_MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "registry_not_configured": (
        "未配置全国联网查询系统的地址",
        "no registry URL is configured",
    ),
    "registry_key_missing": (
        "未固定全国联网查询系统的公钥：请用 --registry-key 指定 JWK 文件或 SHA-256 指纹",
        "the registry's public key is not pinned: pass --registry-key with a JWK file or a SHA-256 fingerprint",
    ),
    "registry_key_invalid": ("全国联网查询系统的公钥无效", "the registry's public key is not valid"),
    "registry_key_mismatch": (
        "全国联网查询系统提供的公钥与固定的指纹不符",
        "the registry's public key does not match the pinned fingerprint",
    ),
    "trust_unreachable": (
        "无法从全国联网查询系统获取目录数据",
        "could not fetch the trust data from the registry",
    ),
    "trust_signature": (
        "目录数据的签名无效（不是全国联网查询系统签发的）",
        "the trust data's signature is invalid (not signed by the pinned registry key)",
    ),
    "trust_invalid": ("目录数据的内容或时间不合理", "the trust data is malformed or its times make no sense"),
    "trust_rollback": (
        "拒绝旧版本的目录数据：其版本低于本机已有的版本",
        "refusing trust data older than what this device already holds (rollback)",
    ),
    "trust_expired": ("获取的目录数据已过期", "the fetched trust data has already expired"),
    "registry_unreachable": (
        "无法连接全国联网查询系统",
        "the national registry could not be reached",
    ),
    "cache_unwritable": ("无法写入本机的目录数据缓存", "cannot write the local trust data cache"),
    "cache_unreadable": ("本机的目录数据缓存无法读取或已损坏", "the local trust data cache is unreadable"),
}


class VerifierError(CataloguedError):
    """Base of the verifier's errors: a stable ``code``, messages for people, an English ``detail``."""

    catalogue = _MESSAGES


class TrustError(VerifierError):
    """Trust data could not be fetched, verified, accepted or stored; what we held is unchanged."""


class RegistryUnavailableError(VerifierError):
    """An online request to the registry failed; the caller falls back to offline verification."""
