"""deploy/render_nginx_conf.py: the template becomes a config Debian's nginx accepts, and a wrong or
missing value stops the deployment instead of producing a proxy that routes nowhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RENDER = ROOT / "deploy" / "render_nginx_conf.py"
TEMPLATE = ROOT / "deploy" / "nginx" / "skillpass.conf.template"
NGINX = "/usr/sbin/nginx"

pytestmark = pytest.mark.xdist_group("deploy")


def _certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _render(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cert, key = _certificate(tmp_path)
    argv = [sys.executable, str(RENDER), "--prefix", str(tmp_path / "nginx"), "--certificate", str(cert),
            "--certificate-key", str(key), "--registry", "127.0.0.1:8700", *extra]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def test_rendered_config_passes_nginx_own_check(tmp_path: Path) -> None:
    result = _render(tmp_path, "--verifier", "127.0.0.1:8701", "--verifier", "127.0.0.1:8702",
                     "--listen-address", "127.0.0.1", "--http-port", "18080", "--https-port", "18443")  # fmt: skip
    assert result.returncode == 0, result.stderr
    conf = tmp_path / "nginx" / "nginx.conf"
    text = conf.read_text(encoding="utf-8")
    assert "{{" not in text
    assert "server 127.0.0.1:8701 " in text and "server 127.0.0.1:8702 " in text
    assert "least_conn;" in text
    assert "return 301 https://$host:18443$request_uri;" in text
    for name in ("temp", "cache", "logs"):
        assert (tmp_path / "nginx" / name).is_dir()
    check = subprocess.run([NGINX, "-t", "-p", str(tmp_path / "nginx"), "-c", str(conf)],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert "test is successful" in check.stderr


def test_standard_https_port_redirects_without_a_port(tmp_path: Path) -> None:
    result = _render(tmp_path, "--verifier", "verifier-1:8701", "--public-https-port", "443")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "nginx" / "nginx.conf").read_text(encoding="utf-8")
    assert "return 301 https://$host$request_uri;" in text
    assert "\nuser " not in text


def test_worker_user_only_when_asked(tmp_path: Path) -> None:
    result = _render(tmp_path, "--verifier", "127.0.0.1:8701", "--user", "www-data")
    assert result.returncode == 0, result.stderr
    assert "\nuser www-data;\n" in (tmp_path / "nginx" / "nginx.conf").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ((), "at least one --verifier"),
        (("--verifier", "127.0.0.1"), "not HOST:PORT"),
        (("--verifier", "127.0.0.1:8701; include /etc/passwd"), "not HOST:PORT"),
        (("--verifier", "127.0.0.1:8701", "--server-name", "evil; return 200"), "not a plain name"),
        (("--verifier", "127.0.0.1:8701", "--https-port", "70000"), "not a TCP port"),
        (("--verifier", "127.0.0.1:8701", "--access-log", "/tmp/a log"), "cannot take verbatim"),
    ],
)
def test_bad_values_stop_the_render(tmp_path: Path, extra: tuple[str, ...], message: str) -> None:
    result = _render(tmp_path, *extra)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "nginx" / "nginx.conf").exists()


def test_unfilled_placeholder_is_an_error(tmp_path: Path) -> None:
    template = tmp_path / "broken.template"
    template.write_text(TEMPLATE.read_text(encoding="utf-8") + "\n# {{no_such_value}}\n", encoding="utf-8")
    result = _render(tmp_path, "--verifier", "127.0.0.1:8701", "--template", str(template))
    assert result.returncode == 2
    assert "no value for placeholder(s): no_such_value" in result.stderr
