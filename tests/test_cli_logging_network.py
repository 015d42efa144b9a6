"""CLI-53: network failures worded as Go's net/http words them (test/e2e/suite/command/sign.go "with timestamping and
invalid tsa server" matches ``Error: timestamp: Post "http://invalid.com"`` and the resolver's text).

Name resolution is driven through a patched ``socket.getaddrinfo`` (the one OS call; no packet leaves the machine);
connection refused and TLS failures are real, against 127.0.0.1.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from notation._internal.cli.main import main
from notation._internal.oci.layout import write_image
from support import pki


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _failing_lookup(code: int, message: str) -> Callable[..., Any]:
    real = socket.getaddrinfo

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".invalid"):
            raise socket.gaierror(code, message)
        return real(host, *args, **kwargs)

    return lookup


@pytest.mark.parametrize(
    ("code", "message", "wording"),
    [
        (socket.EAI_NONAME, "Name or service not known", "no such host"),
        (socket.EAI_AGAIN, "Temporary failure in name resolution", "server misbehaving"),
    ],
)
def test_unresolvable_tsa_is_worded_as_go_cli53(
    code: int,
    message: str,
    wording: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NOTATION_EXPERIMENTAL", "1")
    monkeypatch.setattr(socket, "getaddrinfo", _failing_lookup(code, message))
    assert main(["cert", "generate-test", "--default", "k"]) == 0
    root = tmp_path / "tsa-root.pem"
    root.write_bytes(pki.root_ca("TSA Root").cert_pem())
    desc = write_image(tmp_path / "app", "v1", {"f": b"x"})
    capsys.readouterr()
    code_, _, err = run(
        capsys,
        "sign",
        "--oci-layout",
        "--timestamp-url",
        "http://tsa.invalid",
        "--timestamp-root-cert",
        str(root),
        f"{tmp_path / 'app'}@{desc.digest}",
    )
    assert code_ == 1
    assert f'Error: timestamp: Post "http://tsa.invalid": dial tcp: lookup tsa.invalid: {wording}\n' in err


def test_refused_registry_is_worded_as_go_cli53(capsys: pytest.CaptureFixture[str]) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    ref = f"localhost:{port}/app@sha256:{'0' * 64}"
    code, _, err = run(capsys, "ls", "--insecure-registry", ref)
    assert code == 1
    assert f'"http://localhost:{port}/v2/app/manifests/sha256:{"0" * 64}": ' in err
    assert f"dial tcp 127.0.0.1:{port}: connect: connection refused" in err
    assert "Max retries" not in err and "HTTPConnectionPool" not in err
