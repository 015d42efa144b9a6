"""Issue 5: the tutorial end to end and offline, as a user runs it (examples/tutorial/tutorial.sh).

Real processes throughout: `notation-devstack up` starts the Key Vault emulator and the registry (TLS, auth), the
script drives notation, the azure-kv plugin (real Azure SDK) and the devstack's az-like steps. Then the failure
paths a tutorial user meets, each one clear line.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "tutorial" / "tutorial.sh"
BIN = Path(sys.executable).parent
Tutorial = tuple[Path, Path, subprocess.CompletedProcess[str]]


def _env(state: Path, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTATION_", "DEVSTACK_", "AZURE_", "IDENTITY_"))}
    env.update(
        NOTATION_DEVSTACK_HOME=str(state),
        NOTATION_CONFIG=str(config),
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def _source(env_file: Path, env: dict[str, str]) -> dict[str, str]:
    out = dict(env)
    for line in env_file.read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        out[key] = shlex.split(value)[0] if value else ""
    return out


def _run(argv: list[str], env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, **kw)  # type: ignore[call-overload,no-any-return]


def _devstack_processes(state: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "notation_devstack" in line and str(state) in line]


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, subprocess.CompletedProcess[str]]]:
    base = tmp_path_factory.mktemp("tutorial")
    state, config = base / "devstack", base / "config"
    env = _env(state, config)
    started = time.monotonic()
    first = _run(["bash", str(SCRIPT)], {**env, "TUTORIAL_WORKDIR": str(base / "work1")})
    elapsed = time.monotonic() - started
    try:
        assert first.returncode == 0, first.stderr + first.stdout
        assert elapsed < 60, f"the quick start took {elapsed:.1f}s"
        yield state, config, first
    finally:
        _run([str(BIN / "notation-devstack"), "down"], env)


def test_every_step_of_the_tutorial(tutorial: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    _state, _config, run = tutorial
    out = run.stdout
    assert "azure-kv" in out and "SIGNATURE_GENERATOR.RAW" in out  # plugin ls
    assert "KEY_ID=https://127.0.0.1:" in out and "/keys/wabbit-networks-io/" in out
    assert "Successfully signed 127.0.0.1:" in out
    assert "└── application/vnd.cncf.notary.signature" in out  # notation ls
    assert "Successfully added following certificates to named store wabbit-networks.io of type ca:" in out
    assert "ca           wabbit-networks.io   wabbit-networks-io.pem" in out  # cert ls
    assert "Trust policy configuration imported successfully." in out
    assert '"x509.subject: CN=wabbit-networks.io,O=Notation,L=Seattle,ST=WA,C=US"' in out  # policy show
    last = out.strip().splitlines()[-1]
    assert last.startswith("Successfully verified signature for 127.0.0.1:") and "/net-monitor@sha256:" in last
    assert "Traceback" not in run.stderr


def test_second_run_on_the_same_machine(
    tutorial: tuple[Path, Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    state, config, _ = tutorial
    env = _env(state, config)
    again = _run(["bash", str(SCRIPT)], {**env, "TUTORIAL_WORKDIR": str(tmp_path)})
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1].startswith("Successfully verified signature for ")
    assert "already running" in again.stderr


def _image_env(state: Path, config: Path) -> dict[str, str]:
    return _source(state / "env", _env(state, config))


def test_plugin_not_installed(tutorial: tuple[Path, Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    state, config, _ = tutorial
    env = {**_image_env(state, config), "NOTATION_CONFIG": str(tmp_path / "empty")}
    ref = f"{env['DEVSTACK_REGISTRY']}/net-monitor:v1"
    proc = _run(["notation", "sign", "--id", "https://127.0.0.1:1/keys/x/1", "--plugin", "azure-kv", ref], env)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert "azure-kv" in proc.stderr and "Traceback" not in proc.stderr


def test_wrong_subject_in_trust_policy(
    tutorial: tuple[Path, Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    state, config, run = tutorial
    env = _image_env(state, config)
    image = run.stdout.strip().splitlines()[-1].removeprefix("Successfully verified signature for ")
    policy = (config / "trustpolicy.json").read_text().replace("CN=wabbit-networks.io", "CN=someone-else.io")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "trustpolicy.json").write_text(policy)
    os.symlink(config / "truststore", tmp_path / "config" / "truststore")
    proc = _run(["notation", "verify", image], {**env, "NOTATION_CONFIG": str(tmp_path / "config")})
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"Error: signature verification failed for all the signatures associated with {image}"


def test_tag_moved_after_signing(tutorial: tuple[Path, Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    """Verify by tag after a re-push: the new digest has no signature."""
    state, config, _ = tutorial
    env = _image_env(state, config)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM scratch\nCOPY app.txt /app.txt\n")
    (ctx / "app.txt").write_text("a different build\n")
    tag = f"{env['DEVSTACK_REGISTRY']}/net-monitor:v1"
    build = _run(
        ["notation-devstack", "image", "build", "-t", tag, str(ctx), "--query", "outputImages[0].digest", "-o", "tsv"],
        env,
    )
    assert build.returncode == 0, build.stderr
    digest = build.stdout.strip()
    proc = _run(["notation", "verify", tag], env)
    assert proc.returncode == 1
    ref = f"{env['DEVSTACK_REGISTRY']}/net-monitor@{digest}"
    assert proc.stderr.strip().splitlines()[-1] == (
        f'Error: signature verification failed: no signature is associated with "{ref}", '
        "make sure the artifact was signed successfully"
    )


def test_missing_access_policy(tutorial: tuple[Path, Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    """A principal allowed to read certificates but not to sign: the plugin reports Key Vault's 403 in one line."""
    state, config, run = tutorial
    env = _image_env(state, config)
    vault = env["DEVSTACK_VAULT_NAME"]
    _run(["notation-devstack", "vault", "delete-policy", "-n", vault, "--object-id", env["DEVSTACK_PRINCIPAL_ID"]], env)
    setp = _run(
        [
            "notation-devstack",
            "vault",
            "set-policy",
            "-n",
            vault,
            "--object-id",
            env["DEVSTACK_PRINCIPAL_ID"],
            "--certificate-permissions",
            "get",
            "create",
        ],
        env,
    )
    assert setp.returncode == 0, setp.stderr
    try:
        kid = next(line for line in run.stdout.splitlines() if line.startswith("KEY_ID=")).removeprefix("KEY_ID=")
        image = run.stdout.strip().splitlines()[-1].removeprefix("Successfully verified signature for ")
        proc = _run(
            [
                "notation",
                "sign",
                "--signature-format",
                "cose",
                "--id",
                kid,
                "--plugin",
                "azure-kv",
                "--plugin-config",
                "self_signed=true",
                image,
            ],
            env,
        )
        assert proc.returncode == 1
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: ") and "sign" in last and "Traceback" not in proc.stderr
        assert "does not have keys sign permission" in last or "Forbidden" in last or "not authorized" in last.lower()
    finally:
        _run(
            [
                "notation-devstack",
                "vault",
                "set-policy",
                "-n",
                vault,
                "--object-id",
                env["DEVSTACK_PRINCIPAL_ID"],
                "--certificate-permissions",
                "get",
                "create",
                "--key-permissions",
                "sign",
            ],
            env,
        )


def test_vault_not_running_and_down_leaves_nothing(
    tutorial: tuple[Path, Path, subprocess.CompletedProcess[str]],
) -> None:
    state, config, run = tutorial
    env = _image_env(state, config)
    down = _run(["notation-devstack", "down"], _env(state, config))
    assert down.returncode == 0
    deadline = time.monotonic() + 10
    while _devstack_processes(state) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _devstack_processes(state) == []
    kid = next(line for line in run.stdout.splitlines() if line.startswith("KEY_ID=")).removeprefix("KEY_ID=")
    proc = _run(
        ["notation-azure-kv", "describe-key"],
        env,
        input=f'{{"contractVersion":"1.0","keyId":"{kid}","pluginConfig":{{"self_signed":"true"}}}}',
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr


def test_down_up_keeps_endpoints_and_verify_passes_without_resigning(
    tutorial: tuple[Path, Path, subprocess.CompletedProcess[str]],
) -> None:
    """Issue 12 stable endpoints: `down && up` keeps the vault URL, registry host, KEY_IDs and trust-policy scopes;
    the env file says it is stale while down; the image signed before verifies again, and the KEY_ID still signs."""
    state, config, run = tutorial
    before = _source(state / "env", _env(state, config))
    _run(["notation-devstack", "down"], _env(state, config))
    stale = (state / "env").read_text()
    assert stale.startswith("# STALE:") and "DEVSTACK_STALE=1" in stale
    up = _run(["notation-devstack", "up"], _env(state, config))
    assert up.returncode == 0, up.stderr
    after = _source(state / "env", _env(state, config))
    assert "DEVSTACK_STALE" not in after
    for key in ("DEVSTACK_VAULT_URL", "DEVSTACK_REGISTRY", "IDENTITY_ENDPOINT", "HTTPS_PROXY"):
        assert after.get(key) == before.get(key), key
    ports = (state / "ports.json").read_text()
    assert '"cloud"' in ports and '"proxy"' in ports
    last = run.stdout.strip().splitlines()[-1]
    image = last.removeprefix("Successfully verified signature for ").strip()
    verified = _run(["notation", "verify", image], after)
    assert verified.returncode == 0, verified.stderr
    kid = next(line for line in run.stdout.splitlines() if line.startswith("KEY_ID=")).removeprefix("KEY_ID=")
    described = _run(
        ["notation-azure-kv", "describe-key"],
        after,
        input=f'{{"contractVersion":"1.0","keyId":"{kid}","pluginConfig":{{"self_signed":"true"}}}}',
    )
    assert described.returncode == 0, described.stderr
