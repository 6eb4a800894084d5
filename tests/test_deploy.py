"""The production topology of deploy/, brought up for real on loopback from the machine's own binaries.

PostgreSQL (the harness's server, a fresh database), the registry as a `skillpass registry serve`
process, two `skillpass verifier serve` replicas, and Debian's nginx running the config that
deploy/render_nginx_conf.py renders from deploy/nginx/skillpass.conf.template - the same files the
compose file uses - with TLS from a self-signed certificate made here. A certificate is filed, reviewed,
signed and published through the proxy's /registry/ path, then verified through the proxy over HTTPS.

One stack per module (seconds to start); the tests read it and only the last one stops a replica.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness.postgres import fresh_database
from harness.records import institution_record
from harness.servers import free_port, run_process_server

from common.calendar import registry_day
from common.qrimage import render_png
from credential import CertificateClaims, encode, url_form
from keys import Signer, to_jwk
from schemas import resident_id_check_char

pytestmark = [pytest.mark.xdist_group("deploy"), pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[1]
RENDER = ROOT / "deploy" / "render_nginx_conf.py"
NGINX = "/usr/sbin/nginx"
SKILLPASS = str(Path(sys.executable).with_name("skillpass"))
PASSPHRASE = "deployment test passphrase"
CODE = "Y000011000001"
REGISTRY_HOST = "registry.localhost"
OFFICIAL_HOST = "localhost"  # the proxy's server name, as compose.yaml passes SKILLPASS_SERVER_NAME
QUERY_BURST = 5  # the registry's public query burst here (refilled once in 1000 s)
_UPSTREAM = re.compile(r'upstream="([^"]*)"')
_CACHE = re.compile(r"cache=(\S+)")


@dataclass
class Proxied:
    """PostgreSQL, the registry and nginx, with one certificate issued through the proxy."""

    proxy: str
    plain: str
    registry: str
    registry_jwk: Path
    tls: ssl.SSLContext
    access_log: Path
    verifier_ports: list[int]
    certificate_number: str
    qr: str

    def client(self) -> httpx.Client:
        """An HTTPS client that trusts exactly the test's self-signed certificate."""
        return httpx.Client(base_url=self.proxy, verify=self.tls, timeout=30)

    def log_mark(self) -> int:
        """How many access log lines there are now (for `log_since`)."""
        return len(self.access_log.read_text(encoding="utf-8").splitlines())

    def log_since(self, mark: int) -> list[str]:
        """Access log lines written after `mark`."""
        return self.access_log.read_text(encoding="utf-8").splitlines()[mark:]


@dataclass
class Stack(Proxied):
    """The whole topology: the above plus the verifier replicas nginx balances over."""

    replicas: list[contextlib.ExitStack] = field(default_factory=list)


@pytest.fixture(scope="module")
def proxied(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    base = tmp_path_factory.mktemp("deploy")
    with contextlib.ExitStack() as stop, fresh_database(postgres_server_url) as database_url:
        registry = stop.enter_context(_registry(base / "registry", database_url))
        registry_jwk = base / "registry.jwk"
        registry_jwk.write_text(httpx.get(f"{registry}/api/v1/registry-key").text, encoding="utf-8")
        # The replicas' ports are in nginx's upstream before they run: nginx starts without them.
        ports = [free_port(), free_port()]
        cert, key = _certificate(base)
        http_port, https_port = free_port(), free_port()
        prefix = base / "nginx"
        _render(prefix, cert, key, registry, ports, http_port, https_port)
        nginx = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]
        stop.enter_context(run_process_server(nginx, f"http://127.0.0.1:{http_port}/healthz"))
        tls = ssl.create_default_context(cafile=str(cert))
        proxy = f"https://127.0.0.1:{https_port}"
        number, qr = _issue_through_proxy(proxy, tls, base / "registry")
        yield Proxied(
            proxy=proxy,
            plain=f"http://127.0.0.1:{http_port}",
            registry=registry,
            registry_jwk=registry_jwk,
            tls=tls,
            access_log=prefix / "logs" / "access.log",
            verifier_ports=ports,
            certificate_number=number,
            qr=qr,
        )


@pytest.fixture(scope="module")
def stack(proxied: Proxied, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("verifiers")
    with contextlib.ExitStack() as stop:
        replicas = []
        for port in proxied.verifier_ports:
            replica = _verifier(port, proxied.registry, proxied.registry_jwk, base / f"cache-{port}")
            replicas.append(stop.enter_context(replica))
        yield Stack(**vars(proxied), replicas=replicas)


# ---- the tests


def test_certificate_verifies_through_the_proxy_over_https(stack: Stack) -> None:
    with stack.client() as client:
        verdict = client.post("/api/v1/verify", json={"qr": stack.qr}).json()
    assert verdict["valid"] is True, verdict
    assert verdict["result"] == "valid"
    assert verdict["credential"]["certificate_number"] == stack.certificate_number
    assert verdict["institution"]["code"] == CODE


@pytest.mark.parametrize(
    ("verifier_url", "official"),
    [(f"https://{OFFICIAL_HOST}", True), ("https://skillpass-verify.example", False)],
)
def test_url_form_names_an_official_host_only_as_registry_serve_lists_it(
    stack: Stack, verifier_url: str, official: bool
) -> None:
    """`registry serve --verifier-host` reaches the signed directory the replicas fetch: a URL-form
    QR naming that host verifies quietly, one naming any other host verifies with the warning."""
    with stack.client() as client:
        verdict = client.post("/api/v1/verify", json={"qr": url_form(stack.qr, verifier_url)}).json()
    assert verdict["outcome"] == "valid", verdict
    host = verdict["verifier_host"]
    assert host["host"] == verifier_url.removeprefix("https://")
    assert host["official"] is official
    assert ("code" in host) is not official
    if not official:
        assert host["code"] == "verifier_host_foreign"


def test_compose_lists_the_proxy_name_as_the_official_verifier_host() -> None:
    compose = (ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8")
    assert '--verifier-host "$${SKILLPASS_SERVER_NAME}"' in compose
    assert "SKILLPASS_SERVER_NAME: ${SKILLPASS_SERVER_NAME:-localhost}" in compose.split("  nginx:")[0]


def test_uploaded_image_verifies_through_the_proxy(stack: Stack) -> None:
    files = {"file": ("certificate.png", render_png(stack.qr), "image/png")}
    with stack.client() as client:
        response = client.post("/api/v1/verify/image", files=files)
    assert response.status_code == 200, response.text
    assert response.json()["valid"] is True
    assert response.json()["decoded_from"] == "image"


def test_a_forged_certificate_is_invalid_through_the_proxy(stack: Stack) -> None:
    forged = encode(
        CertificateClaims.from_certificate(_certificate_doc_for_forgery(stack)), Signer.generate()
    )
    with stack.client() as client:
        verdict = client.post("/api/v1/verify", json={"qr": forged}).json()
    assert verdict["valid"] is False
    assert verdict["result"] != "valid"


def test_both_replicas_serve_requests(stack: Stack) -> None:
    mark = stack.log_mark()
    with stack.client() as client:
        for _ in range(6):
            assert client.post("/api/v1/verify", json={"qr": stack.qr}).json()["valid"] is True
    served = {_logged(_UPSTREAM, line) for line in stack.log_since(mark)}
    assert served == {f"127.0.0.1:{port}" for port in stack.verifier_ports}


def test_plain_http_redirects_to_https_except_the_health_probe(proxied: Proxied) -> None:
    redirect = httpx.get(f"{proxied.plain}/api/v1/verify?x=1", headers={"Host": "verify.example.cn"})
    assert redirect.status_code == 301
    port = proxied.proxy.rsplit(":", 1)[1]
    assert redirect.headers["location"] == f"https://verify.example.cn:{port}/api/v1/verify?x=1"
    health = httpx.get(f"{proxied.plain}/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}


def test_verifier_page_has_security_headers_that_allow_the_camera(stack: Stack) -> None:
    with stack.client() as client:
        page = client.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert page.headers["strict-transport-security"].startswith("max-age=")
    assert page.headers.get_list("x-content-type-options") == ["nosniff"]
    csp = page.headers.get_list("content-security-policy")
    assert len(csp) == 1, csp
    assert "default-src 'self'" in csp[0]
    assert "media-src 'self' blob:" in csp[0]
    assert "camera=(self)" in page.headers["permissions-policy"]


def test_registry_answers_under_its_prefix_and_its_own_name(proxied: Proxied) -> None:
    direct = httpx.get(f"{proxied.registry}/api/v1/registry-key").json()
    with proxied.client() as client:
        by_prefix = client.get("/registry/api/v1/registry-key")
        by_name = client.get(
            "/api/v1/registry-key",
            headers={"Host": REGISTRY_HOST},
            extensions={"sni_hostname": REGISTRY_HOST},
        )
    assert by_prefix.json() == direct
    assert by_name.json() == direct
    assert by_name.headers["strict-transport-security"].startswith("max-age=")
    assert "camera" in by_name.headers["permissions-policy"]


@pytest.mark.parametrize("path", ["/api/v1/trust-list", "/api/v1/status-lists/0"])
def test_signed_documents_pass_their_caching_headers_and_are_cached(proxied: Proxied, path: str) -> None:
    direct = httpx.get(f"{proxied.registry}{path}")
    assert direct.status_code == 200
    mark = proxied.log_mark()
    with proxied.client() as client:
        first = client.get(f"/registry{path}")
        second = client.get(f"/registry{path}")
        revalidated = client.get(f"/registry{path}", headers={"If-None-Match": direct.headers["etag"]})
    for response in (first, second):
        assert response.status_code == 200
        assert response.content == direct.content
        assert response.headers["etag"] == direct.headers["etag"]
        assert response.headers["cache-control"] == direct.headers["cache-control"]
        assert response.headers["content-type"] == direct.headers["content-type"]
        assert response.headers["access-control-allow-origin"] == "*"  # CORS passes the proxy
    assert revalidated.status_code == 304
    cache = [_logged(_CACHE, line) for line in proxied.log_since(mark)]
    assert cache[:2] == ["MISS", "HIT"], cache


def test_oversized_body_is_refused_by_the_proxy_with_our_error_shape(proxied: Proxied) -> None:
    files = {"file": ("huge.png", b"\x89PNG" + bytes(11 * 1024 * 1024), "image/png")}
    with proxied.client() as client:
        response = client.post("/api/v1/verify/image", files=files)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert response.json()["message_zh"]


def _query_from(proxied: Proxied, source: str, forwarded_for: str) -> int:
    """A public certificate query through nginx from the loopback address ``source``, claiming in
    X-Forwarded-For to be someone else; its status code."""
    transport = httpx.HTTPTransport(verify=proxied.tls, local_address=source)
    body = {"certificate_number": proxied.certificate_number, "holder_name": "王五"}
    with httpx.Client(base_url=proxied.proxy, transport=transport, timeout=30) as client:
        answer = client.post(
            "/registry/api/v1/certificates/query", json=body, headers={"X-Forwarded-For": forwarded_for}
        )
    return answer.status_code


def test_the_query_limit_counts_the_address_nginx_observed_not_the_one_claimed(proxied: Proxied) -> None:
    """A client rotating X-Forwarded-For used to get a fresh bucket per request (unlimited guesses at
    ID numbers); now it is counted by the address nginx saw, and another client keeps its own bucket."""
    codes = [_query_from(proxied, "127.0.0.3", f"198.51.100.{i}") for i in range(QUERY_BURST + 2)]
    assert codes == [404] * QUERY_BURST + [429, 429]
    assert _query_from(proxied, "127.0.0.4", "127.0.0.3") == 404


def test_compose_trusts_forwarded_for_from_the_proxy_alone() -> None:
    compose = (ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8")
    assert "FORWARDED_ALLOW_IPS" not in compose
    proxy = re.search(r"ipv4_address: (\S+)", compose)
    trusted = re.findall(r"SKILLPASS_TRUSTED_PROXIES: (\S+)", compose)
    assert proxy is not None and len(trusted) == 2  # the registry and the verifier replicas
    assert {proxy.group(1), *trusted} == {"${SKILLPASS_PROXY_ADDRESS:-172.28.240.10}"}
    template = (ROOT / "deploy" / "nginx" / "skillpass.conf.template").read_text(encoding="utf-8")
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in template


def test_one_replica_down_still_verifies_and_none_is_a_clear_503(stack: Stack) -> None:
    """Last in the module: it stops the replicas for good, one then the other."""
    stack.replicas[0].close()
    mark = stack.log_mark()
    with stack.client() as client:
        for _ in range(4):
            assert client.post("/api/v1/verify", json={"qr": stack.qr}).json()["valid"] is True
    # A request first sent to the stopped replica logs both addresses ("A, B"); the last one answered.
    last_hops = {_logged(_UPSTREAM, line).split(",")[-1].strip() for line in stack.log_since(mark)}
    assert last_hops == {f"127.0.0.1:{stack.verifier_ports[1]}"}

    stack.replicas[1].close()
    with stack.client() as client:
        response = client.post("/api/v1/verify", json={"qr": stack.qr})
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


def _logged(pattern: re.Pattern[str], line: str) -> str:
    """One field of our access log format (deploy/nginx/skillpass.conf.template, `log_format skillpass`)."""
    found = pattern.search(line)
    assert found is not None, line
    return found.group(1)


# ---- bringing the topology up


@contextlib.contextmanager
def _registry(data_dir: Path, database_url: str) -> Iterator[str]:
    """`skillpass registry init` once, then `skillpass registry serve`, as the compose file does."""
    env = {"SKILLPASS_KEY_PASSPHRASE": PASSPHRASE}
    init = subprocess.run(
        [SKILLPASS, "registry", "init", "--data-dir", str(data_dir), "--database-url", database_url],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [SKILLPASS, "registry", "serve", "--data-dir", str(data_dir), "--database-url", database_url,
            "--host", "127.0.0.1", "--port", str(port), "--public-url", url,
            "--query-burst", str(QUERY_BURST), "--query-rate", "0.001",
            "--verifier-host", OFFICIAL_HOST]  # fmt: skip
    # As in compose.yaml, the proxy's own address is the one trusted proxy (nginx reaches the registry
    # from 127.0.0.1 here). The wildcard uvicorn setting the compose file once shipped stays set, to
    # show it no longer has any effect.
    proxy = {"SKILLPASS_TRUSTED_PROXIES": "127.0.0.1", "FORWARDED_ALLOW_IPS": "*"}
    with run_process_server(argv, f"{url}/healthz", env={**env, **proxy}):
        yield url


def _verifier(port: int, registry: str, registry_jwk: Path, cache: Path) -> contextlib.ExitStack:
    """One verifier replica, started now; closing the returned stack stops it."""
    argv = [SKILLPASS, "verifier", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--registry", registry, "--registry-key", str(registry_jwk), "--cache-dir", str(cache)]  # fmt: skip
    # As in compose.yaml, nginx's address is the one trusted proxy (uvicorn's wildcard stays ignored).
    proxy = {"SKILLPASS_TRUSTED_PROXIES": "127.0.0.1", "FORWARDED_ALLOW_IPS": "*"}
    replica = contextlib.ExitStack()
    replica.enter_context(run_process_server(argv, f"http://127.0.0.1:{port}/healthz", env=proxy))
    return replica


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the proxy's names (and the bare loopback address)."""
    cert, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
         "-addext", f"subjectAltName=DNS:localhost,DNS:{REGISTRY_HOST},IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _render(
    prefix: Path, cert: Path, key: Path, registry: str, ports: list[int], http_port: int, https_port: int
) -> None:
    argv = [sys.executable, str(RENDER), "--prefix", str(prefix), "--listen-address", "127.0.0.1",
            "--http-port", str(http_port), "--https-port", str(https_port),
            "--certificate", str(cert), "--certificate-key", str(key),
            "--registry", registry.removeprefix("http://"), "--server-name", "localhost",
            "--registry-server-name", REGISTRY_HOST, "--worker-processes", "2"]  # fmt: skip
    for port in ports:
        argv += ["--verifier", f"127.0.0.1:{port}"]
    if os.geteuid() == 0:  # nginx started by root would hand its workers to `nobody`; keep them ours
        argv += ["--user", pwd.getpwuid(os.geteuid()).pw_name]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# ---- the certificate, issued through the proxy


def _issue_through_proxy(proxy: str, tls: ssl.SSLContext, data_dir: Path) -> tuple[str, str]:
    """File an institution, register its key, submit, approve, sign and publish one certificate."""
    admin = (data_dir / "admin.token").read_text(encoding="utf-8").strip()
    signer = Signer.generate()
    with httpx.Client(base_url=f"{proxy}/registry", verify=tls, timeout=30) as client:
        _ok(client, "/api/v1/institutions", admin, institution_record(CODE, levels=(3,)))
        token = _ok(client, "/api/v1/tokens", admin, {"role": "institution", "institution_code": CODE})[
            "token"
        ]
        reviewer = _ok(client, "/api/v1/tokens", admin, {"role": "reviewer"})["token"]
        key = {"jwk": to_jwk(signer.public_key), "valid_from": registry_day(time.time()).isoformat()}
        _ok(client, f"/api/v1/institutions/{CODE}/keys", token, key)
        row = _roster_row()
        _ok(
            client,
            "/api/v1/batches",
            token,
            {"batch_id": "deploy-1", "institution_code": CODE, "rows": [row]},
        )
        batch = _ok(client, "/api/v1/batches/deploy-1/review", reviewer, {"approve_all_valid": True})
        approved = batch["rows"][0]
        assert approved["state"] == "approved", approved
        qr = encode(
            CertificateClaims.from_certificate(_certificate_doc(row, approved["certificate"])), signer
        )
        published = _ok(
            client, "/api/v1/batches/deploy-1/publish", token, {"credentials": [{"row": 1, "qr": qr}]}
        )
        assert published["results"][0]["state"] == "published", published
    return approved["certificate"]["certificate_number"], qr


def _ok(client: httpx.Client, path: str, token: str, body: dict[str, Any]) -> Any:
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 300, (path, response.status_code, response.text)
    return response.json()


def _roster_row() -> dict[str, Any]:
    id17 = "11010519900307123"
    return {
        "holder_name": "李四",
        "id_type": "居民身份证",
        "id_number": id17 + resident_id_check_char(id17),
        "occupation_code": "6-31-01-03",
        "occupation_name": "电工",
        "work_type": "--",
        "level": 3,
        "assessment_date": (date.today() - timedelta(days=7)).isoformat(),
    }


def _certificate_doc(row: dict[str, Any], approved: dict[str, Any]) -> dict[str, Any]:
    """The certificate an institution signs: the row's fields plus what approval allocated."""
    doc = {name: value for name, value in row.items() if name != "assessment_date"}
    doc.update(
        certificate_number=approved["certificate_number"],
        issue_date=approved["issue_date"],
        status=approved["status"],
        institution_code=CODE,
    )
    return doc


def _certificate_doc_for_forgery(stack: Stack) -> dict[str, Any]:
    """The published certificate's data, to be signed by a key the registry never saw."""
    return {
        **{name: value for name, value in _roster_row().items() if name != "assessment_date"},
        "certificate_number": stack.certificate_number,
        "issue_date": date.today().isoformat(),
        "status": {"list": 0, "index": 1},
        "institution_code": CODE,
    }
