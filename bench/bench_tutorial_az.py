"""The az tutorial, one command at a time: wall time and the HTTP requests each command made (issue 13).

Needs azure-cli (``NOTATION_TEST_AZ`` or ``az`` on PATH, or ``.venv-az``). Starts a fresh devstack in a temp dir,
runs the tutorial's lines (examples/tutorial/tutorial-az.sh, same order) and prints a table; asserts nothing.
Requests are logged client-side by bench/az_requests/sitecustomize.py (every ``requests`` call of az, MSAL, the
Azure SDK and the azure-kv plugin; notation's own registry calls go through requests too).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HOOK = Path(__file__).resolve().parent / "az_requests"

STEPS = [
    'USER_ID=$(az ad signed-in-user show --query id -o tsv)',
    'az keyvault set-policy -n $AKV_NAME --certificate-permissions create get --key-permissions sign '
    '--object-id $USER_ID -o none',
    'az keyvault certificate create -n $CERT_NAME --vault-name $AKV_NAME -p @my_policy.json -o none',
    "KEY_ID=$(az keyvault certificate show -n $CERT_NAME --vault-name $AKV_NAME --query 'kid' -o tsv)",
    'NOTATION_PASSWORD=$(az acr login --name $ACR_NAME --expose-token --output tsv --query accessToken)',
    'DIGEST=$(az acr build -r $ACR_NAME -t $REGISTRY/${REPO}:$TAG $IMAGE_SOURCE --no-logs '
    '--query "outputImages[0].digest" -o tsv)',
    'notation sign --signature-format cose --id $KEY_ID --plugin azure-kv --plugin-config self_signed=true '
    '$REGISTRY/${REPO}@$DIGEST',
    'rm -f $CERT_PATH; az keyvault certificate download --name $CERT_NAME --vault-name $AKV_NAME --file $CERT_PATH',
    'notation cert add --type ca --store wabbit-networks.io $CERT_PATH',
    'notation policy import --force ./trustpolicy.json',
    'notation verify $REGISTRY/${REPO}@$DIGEST',
]

POLICY = """{"issuerParameters": {"certificateTransparency": null, "name": "Self"}, "keyProperties": {"exportable":
false, "keySize": 2048, "keyType": "RSA", "reuseKey": true}, "secretProperties": {"contentType":
"application/x-pem-file"}, "x509CertificateProperties": {"ekus": ["1.3.6.1.5.5.7.3.3"], "keyUsage":
["digitalSignature"], "subject": "CN=wabbit-networks.io,O=Notation,L=Seattle,ST=WA,C=US", "validityInMonths": 12}}"""


TRUST_POLICY = """{"version": "1.0", "trustPolicies": [{"name": "wabbit-networks-images", "registryScopes":
["REGISTRY/net-monitor"], "signatureVerification": {"level": "strict"}, "trustStores": ["ca:wabbit-networks.io"],
"trustedIdentities": ["x509.subject: CN=wabbit-networks.io,O=Notation,L=Seattle,ST=WA,C=US"]}]}"""


def main() -> int:
    az = os.environ.get("NOTATION_TEST_AZ") or shutil.which("az") or str(ROOT / ".venv-az" / "bin" / "az")
    if not Path(az).exists():
        print("no az: install azure-cli (see README)", file=sys.stderr)
        return 2
    base = Path(tempfile.mkdtemp(prefix="bench-az-"))
    log = base / "requests.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTATION_", "DEVSTACK_", "AZURE_"))}
    env.update(NOTATION_DEVSTACK_HOME=str(base / "devstack"), NOTATION_CONFIG=str(base / "config"),
               PATH=os.pathsep.join([str(BIN), str(Path(az).parent), env.get("PATH", "")]))
    started = time.monotonic()
    subprocess.run(["notation-devstack", "up"], env=env, check=True, capture_output=True)
    print(f"notation-devstack up (incl. az-login: 6 az calls): {time.monotonic() - started:.1f}s")
    (base / "my_policy.json").write_text(POLICY)
    registry = (base / "devstack" / "env").read_text().split("DEVSTACK_REGISTRY=", 1)[1].split("\n", 1)[0]
    (base / "trustpolicy.json").write_text(TRUST_POLICY.replace("REGISTRY", shlex.split(registry)[0]))
    prelude = (f"set -e; cd {shlex.quote(str(base))}; source devstack/env; "
               "AKV_NAME=$DEVSTACK_VAULT_NAME; ACR_NAME=$DEVSTACK_ACR_NAME; REGISTRY=$DEVSTACK_REGISTRY; "
               "REPO=net-monitor; TAG=v1; CERT_NAME=wabbit-networks-io; CERT_PATH=./wabbit-networks-io.pem; "
               f"IMAGE_SOURCE={shlex.quote(str(ROOT / 'examples' / 'tutorial' / 'net-monitor'))}; "
               "export NOTATION_USERNAME=00000000-0000-0000-0000-000000000000; "
               "[ -f vars ] && source vars; ")
    notation_setup = ("notation-azure-kv install-launcher ./azure-kv >/dev/null && notation plugin install --file "
                      "./azure-kv/notation-azure-kv --force >/dev/null")
    subprocess.run(["bash", "-c", prelude + notation_setup], env=env, check=True)
    try:
        for step in STEPS:
            log.unlink(missing_ok=True)
            var = step.split("=", 1)[0] if "=$(" in step else None
            save = f'; echo "export {var}=\\"${var}\\"" >> vars' if var else ""
            if var == "NOTATION_PASSWORD":
                save += "; echo 'export NOTATION_PASSWORD' >> vars"
            t0 = time.monotonic()
            done = subprocess.run(["bash", "-c", prelude + step + save],
                                  env={**env, "PYTHONPATH": str(HOOK), "AZ_REQUESTS_LOG": str(log)},
                                  capture_output=True, text=True)
            elapsed = time.monotonic() - t0
            lines = log.read_text().splitlines() if log.exists() else []
            print(f"\n{elapsed:5.1f}s  rc={done.returncode}  {step}")
            for line in lines:
                print(f"         {line}")
            if done.returncode != 0:
                print(done.stderr[-1500:])
                return 1
    finally:
        subprocess.run(["notation-devstack", "down"], env=env, capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
