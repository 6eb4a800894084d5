#!/usr/bin/env python3
"""Fill deploy/nginx/skillpass.conf.template into a runnable nginx.conf, and prepare its prefix.

Why a script and not envsubst: the template is full of nginx's own `$variables`, the upstream list has
one line per verifier replica, and a placeholder left empty should stop the deployment, not produce a
proxy that silently routes nowhere. Standard library only, so it runs in the skillpass image, on an
operator's laptop, or in the test that brings the topology up on loopback.

    python deploy/render_nginx_conf.py --prefix /tmp/nginx \\
        --verifier 127.0.0.1:8701 --verifier 127.0.0.1:8702 --registry 127.0.0.1:8700 \\
        --certificate cert.pem --certificate-key key.pem
    nginx -p /tmp/nginx -c /tmp/nginx/nginx.conf -g 'daemon off;'
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

TEMPLATE = Path(__file__).parent / "nginx" / "skillpass.conf.template"
# Directories nginx writes into; created here so that nginx never needs a writable /var.
PREFIX_DIRS = ("temp", "cache", "logs")
_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")
_ADDRESS = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}$")
_NAME = re.compile(r"^[A-Za-z0-9.\-_*]+$")
_PATH = re.compile(r"^[^\s;{}'\"#$]+$")


class RenderError(Exception):
    """The template or the arguments cannot make a valid configuration; the message says which."""


def render(template: str, values: Mapping[str, str]) -> str:
    """Replace every `{{name}}` in `template`; an unknown or unused name is an error, not a blank."""
    missing = sorted({m.group(1) for m in _PLACEHOLDER.finditer(template)} - values.keys())
    if missing:
        raise RenderError(f"no value for placeholder(s): {', '.join(missing)}")
    unused = sorted(values.keys() - {m.group(1) for m in _PLACEHOLDER.finditer(template)})
    if unused:
        raise RenderError(f"the template has no placeholder(s): {', '.join(unused)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def values_from(args: argparse.Namespace) -> dict[str, str]:
    """The placeholder values for parsed command-line arguments (checked, so nginx gets no surprises)."""
    if not args.verifier:
        raise RenderError("at least one --verifier HOST:PORT is needed")
    prefix = Path(args.prefix).resolve()
    public_https = args.public_https_port or args.https_port
    return {
        "prefix": _path(str(prefix)),
        "user_directive": f"user {_name(args.user)};" if args.user else "",
        "worker_processes": str(args.worker_processes),
        "error_log": _path(args.error_log),
        "access_log": _path(args.access_log or str(prefix / "logs" / "access.log")),
        "verifier_servers": _servers(args.verifier, "max_fails=2 fail_timeout=10s"),
        "registry_servers": _servers([args.registry], "max_fails=0"),
        "certificate": _path(str(Path(args.certificate).resolve())),
        "certificate_key": _path(str(Path(args.certificate_key).resolve())),
        "listen_address": _name(args.listen_address),
        "http_port": str(_port(args.http_port)),
        "https_port": str(_port(args.https_port)),
        "https_port_suffix": "" if _port(public_https) == 443 else f":{public_https}",
        "server_name": _name(args.server_name),
        "registry_server_name": _name(args.registry_server_name),
    }


def prepare_prefix(prefix: Path) -> None:
    """Create the directories nginx writes into (pid file, temp files, proxy cache, logs)."""
    for name in PREFIX_DIRS:
        (prefix / name).mkdir(parents=True, exist_ok=True)


def build_parser() -> argparse.ArgumentParser:
    """Command-line arguments; every default suits the compose file in this folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--prefix", required=True, help="writable directory nginx runs from (-p)")
    parser.add_argument("--output", help="where to write the config (default PREFIX/nginx.conf)")
    parser.add_argument("--template", default=str(TEMPLATE))
    parser.add_argument("--verifier", action="append", default=[], metavar="HOST:PORT",
                        help="a verifier replica; repeat once per replica")  # fmt: skip
    parser.add_argument("--registry", default="registry:8700", metavar="HOST:PORT")
    parser.add_argument("--certificate", required=True, help="PEM certificate chain")
    parser.add_argument("--certificate-key", required=True, help="PEM private key of the certificate")
    parser.add_argument("--listen-address", default="0.0.0.0")  # noqa: S104 - a proxy listens on all
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--https-port", type=int, default=8443)
    parser.add_argument("--public-https-port", type=int, default=None,
                        help="the HTTPS port clients see, for redirects (default: --https-port)")  # fmt: skip
    parser.add_argument("--server-name", default="localhost")
    parser.add_argument("--registry-server-name", default="registry.localhost")
    parser.add_argument("--user", default=None, help="worker user (only meaningful when started as root)")
    parser.add_argument("--worker-processes", default="auto")
    parser.add_argument("--error-log", default="stderr")
    parser.add_argument("--access-log", default=None, help="default PREFIX/logs/access.log")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Render the template, write the config, create the prefix directories; 2 on a bad argument."""
    args = build_parser().parse_args(argv)
    try:
        values = values_from(args)
        text = render(Path(args.template).read_text(encoding="utf-8"), values)
    except (RenderError, OSError) as e:
        print(f"render_nginx_conf: {e}", file=sys.stderr)
        return 2
    prefix = Path(values["prefix"])
    prepare_prefix(prefix)
    output = Path(args.output) if args.output else prefix / "nginx.conf"
    output.write_text(text, encoding="utf-8")
    print(output)
    return 0


def _servers(addresses: Sequence[str], options: str) -> str:
    lines = []
    for address in addresses:
        if not _ADDRESS.match(address):
            raise RenderError(f"not HOST:PORT: {address!r}")
        lines.append(f"        server {address} {options};")
    return "\n".join(lines)


def _port(value: int) -> int:
    if not 0 < value < 65536:
        raise RenderError(f"not a TCP port: {value}")
    return value


def _path(value: str) -> str:
    if not _PATH.match(value):
        raise RenderError(f"a path nginx cannot take verbatim: {value!r}")
    return value


def _name(value: str) -> str:
    """Names go into the config verbatim, so only characters that cannot end a directive are allowed."""
    if not _NAME.match(value):
        raise RenderError(f"not a plain name: {value!r}")
    return value


if __name__ == "__main__":
    sys.exit(main())
