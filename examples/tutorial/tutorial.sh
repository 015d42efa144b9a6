#!/usr/bin/env bash
# "Sign a container image with Notation and Azure Key Vault using a self-signed certificate", step by step, with
# the tutorial's own commands and variable names. The `az` steps run against the embedded stand-ins
# (`notation-devstack`), so the whole flow works offline; docs/real-azure.md shows the same steps on Azure.
#
# Needs: notation, notation-azure-kv and notation-devstack on PATH (scripts/quickstart sets that up).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORKDIR="${TUTORIAL_WORKDIR:-$(mktemp -d)}"
mkdir -p "$WORKDIR" && cd "$WORKDIR"
step() { printf '\n==> %s\n' "$*" >&2; }

step "Start the offline Azure Key Vault emulator and OCI registry (instead of an Azure subscription)"
notation-devstack up
# shellcheck disable=SC1090
source "$(notation-devstack env-file)"

# --- the tutorial's variables ---------------------------------------------------------------------------------
AKV_NAME="$DEVSTACK_VAULT_NAME"
CERT_NAME=wabbit-networks-io
CERT_SUBJECT="CN=wabbit-networks.io,O=Notation,L=Seattle,ST=WA,C=US"
CERT_PATH=./${CERT_NAME}.pem
ACR_NAME="$DEVSTACK_REGISTRY_NAME"
REGISTRY="$DEVSTACK_REGISTRY"
REPO=net-monitor
TAG=v1
IMAGE=$REGISTRY/${REPO}:$TAG
IMAGE_SOURCE="$HERE/net-monitor"

step "Install the Azure Key Vault plugin for Notation"
# notation-azure-kv writes a small launcher for itself; `notation plugin install --file` installs it like any plugin.
notation-azure-kv install-launcher "$WORKDIR/azure-kv" >/dev/null
notation plugin install --file "$WORKDIR/azure-kv/notation-azure-kv" --force
notation plugin ls

step "az keyvault set-policy: allow creating certificates and signing with keys"
notation-devstack vault set-policy -n "$AKV_NAME" --certificate-permissions get create --key-permissions sign \
  --object-id "$DEVSTACK_PRINCIPAL_ID" >/dev/null

step "az keyvault certificate create: a self-signed code-signing certificate from my_policy.json"
cat <<EOF2 > ./my_policy.json
{
    "issuerParameters": {
    "certificateTransparency": null,
    "name": "Self"
    },
    "keyProperties": {
      "exportable": false,
      "keySize": 2048,
      "keyType": "RSA",
      "reuseKey": true
    },
    "secretProperties": {
      "contentType": "application/x-pem-file"
    },
    "x509CertificateProperties": {
    "ekus": [
        "1.3.6.1.5.5.7.3.3"
    ],
    "keyUsage": [
        "digitalSignature"
    ],
    "subject": "$CERT_SUBJECT",
    "validityInMonths": 12
    }
}
EOF2
notation-devstack vault certificate create -n "$CERT_NAME" --vault-name "$AKV_NAME" -p @my_policy.json >/dev/null

step "az keyvault certificate show: the key ID to sign with"
KEY_ID=$(notation-devstack vault certificate show -n "$CERT_NAME" --vault-name "$AKV_NAME" --query 'kid' -o tsv)
echo "KEY_ID=$KEY_ID"

step "az acr build: build the image and push it to the registry"
# `az acr login` has no offline twin: the env file exports NOTATION_USERNAME/NOTATION_PASSWORD for the registry
# (`notation login` would need a docker credential helper to store them, exactly as the Go notation does).
DIGEST=$(notation-devstack image build -t "$IMAGE" "$IMAGE_SOURCE" --query "outputImages[0].digest" -o tsv)
IMAGE=$REGISTRY/${REPO}@$DIGEST
echo "IMAGE=$IMAGE"

step "notation sign: COSE signature made by the key in Key Vault"
notation sign --signature-format cose --id "$KEY_ID" --plugin azure-kv --plugin-config self_signed=true "$IMAGE"

step "notation ls: the signature next to the image"
notation ls "$IMAGE"

step "az keyvault certificate download + notation cert add: trust the signing certificate"
rm -f "$CERT_PATH"
notation-devstack vault certificate download --name "$CERT_NAME" --vault-name "$AKV_NAME" --file "$CERT_PATH"
STORE_TYPE="ca"
STORE_NAME="wabbit-networks.io"
notation cert delete --type "$STORE_TYPE" --store "$STORE_NAME" --all --yes >/dev/null 2>&1 || true  # re-runs
notation cert add --type $STORE_TYPE --store $STORE_NAME $CERT_PATH
notation cert ls

step "notation policy import: trust this certificate subject for $REGISTRY/$REPO"
cat <<EOF2 > ./trustpolicy.json
{
    "version": "1.0",
    "trustPolicies": [
        {
            "name": "wabbit-networks-images",
            "registryScopes": [ "$REGISTRY/$REPO" ],
            "signatureVerification": {
                "level" : "strict"
            },
            "trustStores": [ "$STORE_TYPE:$STORE_NAME" ],
            "trustedIdentities": [
                "x509.subject: $CERT_SUBJECT"
            ]
        }
    ]
}
EOF2
notation policy import --force ./trustpolicy.json
notation policy show

step "notation verify"
notation verify "$IMAGE"
