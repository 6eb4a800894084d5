"""The audit log's latest signed checkpoint, with links to the JSON endpoints an auditor uses to
check it (entries, inclusion and consistency proofs, the registry key)."""

from __future__ import annotations

from dataclasses import dataclass

from registry.templates.layout import page
from registry.templates.markup import Safe, fill, join
from registry.templates.text import TEXT, Lang
from registry.templates.when import beijing_time


@dataclass(frozen=True)
class CheckpointView:
    """The checkpoint as the JSON endpoint answers it, and whether its signature checks out."""

    size: int
    root_hex: str
    time: int
    signature_ok: bool
    registry_kid: str


_AUDIT = """<h1>{title}</h1>
<p>{intro}</p>
<table class="fields">
<tr><th scope=row>{size_label}</th><td>{size}</td></tr>
<tr><th scope=row>{root_label}</th><td><code class="hash">{root}</code></td></tr>
<tr><th scope=row>{time_label}</th><td>{time}</td></tr>
<tr><th scope=row>{signature_label}</th><td>{signature}</td></tr>
</table>
<h2>{proofs_title}</h2>
<ul class="links">{links}</ul>"""
_LINK = '<li><a href="{url}">{label}</a> <code>{url}</code></li>'
_SIGNATURE = '<span class="status status-{kind}">{word}</span>'


def _links(lang: Lang, size: int) -> Safe:
    words = TEXT[lang]
    links = [
        ("/api/v1/audit/checkpoint", "link_checkpoint"),
        ("/api/v1/audit/checkpoints", "link_checkpoints"),
        (f"/api/v1/audit/entries?start=0&end={size}", "link_entries"),
        ("/api/v1/registry-key", "link_registry_key"),
    ]
    if size >= 1:
        links.insert(3, (f"/api/v1/audit/proof/inclusion?index=0&size={size}", "link_inclusion"))
        links.insert(4, (f"/api/v1/audit/proof/consistency?old=1&new={size}", "link_consistency"))
    return join(fill(_LINK, url=url, label=words[key]) for url, key in links)


def audit_page(lang: Lang, checkpoint: CheckpointView) -> str:
    """The latest checkpoint: size, root, time and signature status."""
    words = TEXT[lang]
    if checkpoint.signature_ok:
        signature = fill(
            _SIGNATURE, kind="valid", word=fill(words["signature_ok"], kid=checkpoint.registry_kid)
        )
    else:
        signature = fill(_SIGNATURE, kind="revoked", word=words["signature_bad"])
    main = fill(
        _AUDIT,
        title=words["audit_title"],
        intro=words["audit_intro"],
        size_label=words["label_size"],
        size=checkpoint.size,
        root_label=words["label_root"],
        root=checkpoint.root_hex,
        time_label=words["label_time"],
        time=beijing_time(checkpoint.time),
        signature_label=words["label_signature"],
        signature=signature,
        proofs_title=words["proofs_title"],
        links=_links(lang, checkpoint.size),
    )
    return page(lang, words["audit_title"], main, "/audit")
