"""Issue 13: the tutorial's own `az` lines, run by the real Azure CLI (azure-cli from PyPI), offline.

`examples/tutorial/tutorial-az.sh` runs the Microsoft Learn tutorial's `az` and `notation` lines verbatim against
`notation-devstack up` (Entra ID, Resource Manager, Graph, Key Vault, ACR token exchange and Tasks), from a fresh
devstack state and then again on the same state. Removing the sign permission with `az keyvault set-policy` then
makes `notation sign` fail with Key Vault's 403 text (KVA-04, KVA-06). Every Python process (az, notation, the
azure-kv plugin, the stand-ins) runs with tests/netguard on PYTHONPATH: a connection or name lookup off loopback
is refused at once and logged, and the test fails on any such line.

azure-cli is not a project dependency (its pins conflict with ours): .ci/run installs it into .venv-az; locally
set NOTATION_TEST_AZ=/path/to/az or put `az` on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "tutorial" / "tutorial-az.sh"
NETGUARD = Path(__file__).resolve().parent / "netguard"
BIN = Path(sys.executable).parent
VERIFIED = re.compile(r"Successfully verified signature for (127\.0\.0\.1:\d+/net-monitor@sha256:[0-9a-f]{64})")


def _find_az() -> str | None:
    for candidate in (os.environ.get("NOTATION_TEST_AZ"), str(ROOT / ".venv-az" / "bin" / "az"), shutil.which("az")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


AZ = _find_az()
if AZ is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must install azure-cli (.ci/run makes .venv-az); no az found")
    pytest.skip("azure-cli not installed (set NOTATION_TEST_AZ or put az on PATH)", allow_module_level=True)


def _source(env_file: Path, env: dict[str, str]) -> dict[str, str]:
    out = dict(env)
    for line in env_file.read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        if key.startswith("#") or not key:
            continue
        out[key] = shlex.split(value)[0] if value else ""
    return out


def _run(argv: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    assert AZ is not None
    base = tmp_path_factory.mktemp("tutorial-az")
    state = base / "devstack"
    guard_log = base / "netguard.log"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NOTATION_", "DEVSTACK_", "AZURE_", "IDENTITY_", "HTTPS_PROXY", "HTTP_PROXY",
                                "NO_PROXY", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"))}
    env.update(
        NOTATION_DEVSTACK_HOME=str(state),
        NOTATION_CONFIG=str(base / "config"),
        NOTATION_CACHE=str(base / "cache"),
        XDG_STATE_HOME=str(base / "xdg"),
        DOCKER_CONFIG=str(base / "docker"),
        AZURE_CONFIG_DIR=str(base / "user-azure"),  # the user's own az config: must stay untouched
        PATH=os.pathsep.join([str(BIN), str(Path(AZ).parent), env.get("PATH", "")]),
        PYTHONPATH=str(NETGUARD),
        NETGUARD_LOG=str(guard_log),
    )
    # The one thing seeded: an az password that starts with "-", as one generated password in 64 did before
    # new_password() (argparse then took it for an option and `az login` failed: a CI flake, now a fixed case).
    state.mkdir(mode=0o700)
    (state / "credentials.json").write_text(json.dumps({"az_user_password": "-Dash-first-" + "x" * 12}))
    info: dict[str, object] = {"env": env, "state": state, "base": base, "guard": guard_log, "times": []}
    yield info
    _run([str(BIN / "notation-devstack"), "down"], env)


def _tutorial(stack: dict[str, object], name: str) -> subprocess.CompletedProcess[str]:
    env = dict(stack["env"])  # type: ignore[call-overload]
    base = stack["base"]
    assert isinstance(base, Path)
    started = time.monotonic()
    done = _run(["bash", str(SCRIPT)], {**env, "TUTORIAL_WORKDIR": str(base / name)})
    elapsed = time.monotonic() - started
    times = stack["times"]
    assert isinstance(times, list)
    times.append(elapsed)
    print(f"\ntutorial-az.sh ({name}): {elapsed:.1f}s")
    return done


def _guard_lines(stack: dict[str, object]) -> list[str]:
    guard = stack["guard"]
    assert isinstance(guard, Path)
    return guard.read_text().splitlines() if guard.exists() else []


def test_tutorial_az_lines_verbatim_twice_offline(stack: dict[str, object]) -> None:
    """The published az lines work unchanged from a fresh state and again on the same state; nothing leaves
    loopback; the user's own AZURE_CONFIG_DIR is never written."""
    first = _tutorial(stack, "run1")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert VERIFIED.search(first.stdout + first.stderr), first.stdout[-2000:]
    second = _tutorial(stack, "run2")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    match = VERIFIED.search(second.stdout + second.stderr)
    assert match, second.stdout[-2000:]
    assert _guard_lines(stack) == []
    base = stack["base"]
    assert isinstance(base, Path)
    assert not (base / "user-azure").exists()
    stack["image"] = match.group(1)


def test_removing_sign_permission_with_az_set_policy_fails_notation_sign(stack: dict[str, object]) -> None:
    """KVA-04/KVA-06: `az keyvault set-policy --key-permissions get` replaces the keys list (sign gone), so the
    next `notation sign` fails with Key Vault's 403 text; granting sign again makes it work."""
    image = stack.get("image")
    if not isinstance(image, str):
        pytest.skip("needs the tutorial run")
    state = stack["state"]
    assert isinstance(state, Path)
    env = _source(state / "env", dict(stack["env"]))  # type: ignore[call-overload]
    script = """
set -u
exec 2>&1
AKV_NAME="$DEVSTACK_VAULT_NAME"
USER_ID=$(az ad signed-in-user show --query id -o tsv)
KEY_ID=$(az keyvault certificate show -n wabbit-networks-io --vault-name $AKV_NAME --query 'kid' -o tsv)
az keyvault set-policy -n $AKV_NAME --key-permissions get --object-id $USER_ID -o none
echo "--- sign without keys/sign"
notation sign --signature-format cose --id $KEY_ID --plugin azure-kv --plugin-config self_signed=true "$1" && exit 9
az keyvault set-policy -n $AKV_NAME --key-permissions sign --object-id $USER_ID -o none
echo "--- sign with keys/sign again"
notation sign --signature-format cose --id $KEY_ID --plugin azure-kv --plugin-config self_signed=true "$1"
"""
    done = _run(["bash", "-c", script, "revoke", image], env)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    denied, _, regranted = out.partition("--- sign with keys/sign again")
    assert re.search(r"Error: failed to sign with the plugin azure-kv: The user, group or application '[^']*oid="
                     r"[0-9a-f-]{36};[^']*' does not have keys sign permission on key vault 'notationdemo;", denied), \
        denied[-2000:]
    assert f"Successfully signed {image}" in regranted, regranted[-2000:]
    assert _guard_lines(stack) == []


def test_rbac_path_and_az_role_assignment_delete_fails_notation_sign(stack: dict[str, object]) -> None:
    """The tutorial's Azure RBAC path (`az keyvault create --enable-rbac-authorization`, `az role assignment
    create`) on the same devstack; `az role assignment delete` of Key Vault Crypto User then makes `notation sign`
    fail with Key Vault's ForbiddenByRbac text."""
    if not isinstance(stack.get("image"), str):
        pytest.skip("needs the tutorial run")
    env = dict(stack["env"])  # type: ignore[call-overload]
    base = stack["base"]
    assert isinstance(base, Path)
    started = time.monotonic()
    done = _run(["bash", str(SCRIPT)], {**env, "TUTORIAL_RBAC": "1", "TUTORIAL_WORKDIR": str(base / "rbac")})
    print(f"\ntutorial-az.sh (RBAC): {time.monotonic() - started:.1f}s")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    match = VERIFIED.search(done.stdout + done.stderr)
    assert match, done.stdout[-2000:]
    state = stack["state"]
    assert isinstance(state, Path)
    senv = _source(state / "env", env)
    script = """
set -u
exec 2>&1
AKV_NAME="${DEVSTACK_VAULT_NAME}rbac"
USER_ID=$(az ad signed-in-user show --query id -o tsv)
SCOPE="/subscriptions/$DEVSTACK_SUBSCRIPTION_ID/resourceGroups/$DEVSTACK_RESOURCE_GROUP/providers/Microsoft.KeyVault/vaults/$AKV_NAME"
KEY_ID=$(az keyvault certificate show -n wabbit-networks-io --vault-name $AKV_NAME --query 'kid' -o tsv)
az role assignment delete --assignee $USER_ID --role "Key Vault Crypto User" --scope "$SCOPE"
echo "--- sign without Key Vault Crypto User"
notation sign --signature-format cose --id $KEY_ID --plugin azure-kv --plugin-config self_signed=true "$1" && exit 9
exit 0
"""
    done = _run(["bash", "-c", script, "rbac", match.group(1)], senv)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    denied = out.partition("--- sign without Key Vault Crypto User")[2]
    assert "Error: failed to sign with the plugin azure-kv: Caller is not authorized to perform action on " \
           "resource." in denied, denied[-2000:]
    assert "Action: 'Microsoft.KeyVault/vaults/keys/sign/action'" in denied, denied[-2000:]
    assert "DecisionReason: 'DeniedWithNoValidRBAC'" in denied, denied[-2000:]
    assert _guard_lines(stack) == []
