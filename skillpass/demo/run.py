"""`skillpass demo`: seed a registry on the embedded SQLite default, issue real sample
certificates, then serve the registry and the verifier until Ctrl-C.

Run again with the same data directory, it reuses everything it made (`seeded.json` says what).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from common.calendar import registry_day
from common.cli_support import PASSPHRASE_ENV
from credential import verifier_origin
from keys import to_jwk
from registry.app import create_app as create_registry_app
from registry.setup import ADMIN_TOKEN_FILE, KEY_FILE, init_registry, open_registry
from skillpass.demo.seed import SeedResult, copy_samples, seed
from skillpass.demo.servers import BackgroundServer, DemoError
from verifier.errors import TrustError
from verifier.service import create_app as create_verifier_app
from verifier.verifier import Verifier, VerifierConfig

# Demo data only: a fixed passphrase so `make demo` needs nothing typed. Set SKILLPASS_KEY_PASSPHRASE
# to use another; never use demo keys for real certificates.
DEMO_PASSPHRASE = "skillpass-demo-only"  # noqa: S105
SEEDED_FILE = "seeded.json"


@dataclass(frozen=True)
class DemoOptions:
    """The command's flags."""

    data_dir: Path
    host: str = "127.0.0.1"
    registry_port: int = 8700
    verifier_port: int = 8701
    serve: bool = True


def run_demo(options: DemoOptions) -> int:
    """Seed (or reuse) the demo data, then serve both services unless ``serve`` is off."""
    data_dir = options.data_dir.resolve()
    passphrase = os.environ.get(PASSPHRASE_ENV, DEMO_PASSPHRASE)
    registry_url = f"http://{options.host}:{options.registry_port}"
    verifier_host = f"{options.host}:{options.verifier_port}".lower()
    registry_dir = data_dir / "registry"
    if registry_dir.exists() and not (data_dir / SEEDED_FILE).exists():
        print(
            f"上次演示数据生成未完成，重新开始 / the last seeding was interrupted; starting again in {data_dir}"
        )
        for partial in (registry_dir, data_dir / "work", data_dir / "samples", data_dir / "verifier-cache"):
            shutil.rmtree(partial, ignore_errors=True)
    if not (registry_dir / KEY_FILE).exists():
        init_registry(registry_dir, None, passphrase, public_url=registry_url)
    settings = open_registry(
        registry_dir,
        passphrase,
        public_url=registry_url,
        verifier_hosts=_official_hosts(data_dir, verifier_host),
    )
    registry = BackgroundServer(create_registry_app(settings), options.host, options.registry_port)
    registry.start()
    try:
        result = _seeded(data_dir, registry_url, registry_dir, passphrase, _verifier_url(verifier_host))
        (data_dir / "registry-public.jwk").write_text(json.dumps(to_jwk(settings.signer.public_key)) + "\n")
        verifier = Verifier(
            VerifierConfig(
                cache_dir=data_dir / "verifier-cache",
                registry_url=registry_url,
                registry_key=settings.signer.public_key,
            )
        )
        try:
            verifier.store.sync(int(datetime.now(UTC).timestamp()))
        except TrustError as e:
            raise DemoError(e.code, e.message_zh, e.message_en) from e
        _print_summary(options, data_dir, result)
        if options.serve:
            _serve_verifier(verifier, options)
    finally:
        registry.stop()
    return 0


def _official_hosts(data_dir: Path, verifier_host: str) -> tuple[str, ...]:
    """The verifier hosts the demo's directory lists: this run's, and the one the existing samples
    were printed with (a demo run again on other ports must not turn its own samples foreign)."""
    marker = data_dir / SEEDED_FILE
    printed = json.loads(marker.read_text(encoding="utf-8")).get("verifier_host") if marker.exists() else None
    return (verifier_host,) if printed in (None, verifier_host) else (verifier_host, printed)


def _verifier_url(host: str) -> str | None:
    """The demo verifier's address for URL-form QR codes; None (plain form) when the host is not
    this machine, since a URL form names plain http only for a loopback host."""
    url = f"http://{host}"
    try:
        verifier_origin(url)
    except ValueError:
        return None
    return url


def _seeded(
    data_dir: Path, registry_url: str, registry_dir: Path, passphrase: str, verifier_url: str | None
) -> SeedResult:
    marker = data_dir / SEEDED_FILE
    if marker.exists():
        print(f"复用已有演示数据 / reusing the demo data in {data_dir}")
        return SeedResult(**json.loads(marker.read_text(encoding="utf-8")))
    print(f"正在生成演示数据 / seeding the demo in {data_dir} …", flush=True)
    admin_token = (registry_dir / ADMIN_TOKEN_FILE).read_text(encoding="utf-8").strip()
    work_dir = data_dir / "work"
    result = seed(
        registry_url,
        admin_token,
        work_dir,
        passphrase,
        registry_day(time.time()),
        say=print,
        verifier_url=verifier_url,
    )
    copy_samples(work_dir, data_dir / "samples")
    marker.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    return result


def _serve_verifier(verifier: Verifier, options: DemoOptions) -> None:
    server = BackgroundServer(create_verifier_app(verifier), options.host, options.verifier_port)
    verifier.start()
    server.start()
    print("按 Ctrl-C 停止 / press Ctrl-C to stop", flush=True)
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _interrupt)
    try:
        while True:
            server.join(1.0)
    except KeyboardInterrupt:
        print("\n正在停止 / stopping …", flush=True)
    finally:
        server.stop()
        verifier.stop()


def _interrupt(signum: int, frame: object) -> None:
    """Ctrl-C and SIGTERM (``docker stop``, a service manager) stop the demo, as uvicorn's own
    handlers would: set explicitly, because a demo started from a script in the background inherits
    SIGINT ignored and would otherwise never stop on Ctrl-C."""
    raise KeyboardInterrupt


def _print_summary(options: DemoOptions, data_dir: Path, result: SeedResult) -> None:
    samples = data_dir / "samples"
    lines = [
        "",
        f"核验页面 verifier page:        http://{options.host}:{options.verifier_port}/",
        f"证书查询 public query (registry): http://{options.host}:{options.registry_port}/",
        f"样例证书 sample certificates:  {samples}",
        f"登记中心公钥 registry key:      {data_dir / 'registry-public.jwk'}",
        f"  有效 valid:       {', '.join(result.valid)}",
        f"  已撤销 revoked:   {', '.join(result.revoked)}",
        f"  已暂停 suspended: {', '.join(result.suspended)}",
    ]
    if not options.serve:
        lines.append("(--no-serve: 数据已生成，服务未启动 / seeded; services not started)")
    print("\n".join(lines), flush=True)
