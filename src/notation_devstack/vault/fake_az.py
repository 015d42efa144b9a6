"""A stand-in for the Azure CLI's token commands, so ``AzureCliCredential`` works offline.

``VaultServer.write_fake_az(dir)`` (or ``notation-devstack vault fake-az --dir DIR``) writes ``DIR/az``, a small
shell script that runs this module with the state directory baked in; put ``DIR`` first on ``PATH``. It answers:

* ``az account get-access-token --output json --resource R [--tenant T]`` (and ``--scope S``): the JSON the real
  CLI prints (``accessToken``, ``expiresOn``, ``expires_on``, ``tenant``, ``tokenType``, ``subscription``), a token
  for the signed-in user = the emulator's default principal.
* ``az ad signed-in-user show`` and ``az account show``: the principal and tenant, for scripts.

Tokens are minted from the state directory's signing key, which is what the server validates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
from pathlib import Path

from notation_devstack.vault.store import DEFAULT_APPID, StateStore, atomic_write
from notation_devstack.vault.tokens import TokenIssuer, resource_from_scope

SUBSCRIPTION = "00000000-0000-4000-8000-0000000000a2"
USER = "devstack-user@notation.local"


def write_script(directory: Path, state_dir: Path) -> Path:
    script = (
        "#!/bin/sh\n"
        "# fake az for the notation-devstack Key Vault emulator\n"
        f"exec {shlex.quote(sys.executable)} -m notation_devstack.vault.fake_az "
        f"--state-dir {shlex.quote(str(Path(state_dir).resolve()))} \"$@\"\n"
    )
    path = Path(directory) / "az"
    atomic_write(path, script.encode(), mode=0o755)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="az", add_help=False)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("words", nargs="*")
    parser.add_argument("--resource")
    parser.add_argument("--scope")
    parser.add_argument("--tenant", "-t")
    parser.add_argument("--output", "-o", default="json")
    parser.add_argument("--query")
    parser.add_argument("--subscription")
    args, _unknown = parser.parse_known_args(argv)
    store = StateStore(Path(args.state_dir))
    words = args.words
    if words[:2] == ["account", "get-access-token"]:
        if args.tenant and args.tenant.lower() not in (store.tenant_id.lower(), "adfs"):
            print(
                f"ERROR: AADSTS90002: Tenant '{args.tenant}' not found. Run 'az login --tenant {args.tenant}'.",
                file=sys.stderr,
            )
            return 1
        resource = resource_from_scope(args.scope or args.resource or "https://management.core.windows.net/")
        issuer = TokenIssuer(store.root / "identity", store.tenant_id)
        token, expires_on = issuer.issue(store.default_principal, audience=resource, app_id=DEFAULT_APPID)
        local = dt.datetime.fromtimestamp(expires_on).strftime("%Y-%m-%d %H:%M:%S.%f")
        out = {
            "accessToken": token,
            "expiresOn": local,
            "expires_on": expires_on,
            "subscription": SUBSCRIPTION,
            "tenant": store.tenant_id,
            "tokenType": "Bearer",
        }
        print(token if args.output == "tsv" else json.dumps(out, indent=2))
        return 0
    if words[:3] == ["ad", "signed-in-user", "show"]:
        out2 = {"id": store.default_principal, "userPrincipalName": USER, "displayName": "devstack user"}
        print(out2["id"] if args.output == "tsv" else json.dumps(out2, indent=2))
        return 0
    if words[:2] == ["account", "show"]:
        out3 = {"id": SUBSCRIPTION, "tenantId": store.tenant_id, "user": {"name": USER, "type": "user"}}
        print(json.dumps(out3, indent=2))
        return 0
    print(f"ERROR: 'az {' '.join(words)}' is not emulated by notation-devstack", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
