#!/usr/bin/env bash
# "Sign container images with Notation and Azure Key Vault using a self-signed certificate" (Microsoft Learn),
# with its own `az` and `notation` lines, run by the real Azure CLI against the devstack, offline.
# Only the variables at the top take the devstack's values (vault, registry, image source, subscription).
#
# Needs: notation, notation-azure-kv and notation-devstack on PATH, and the Azure CLI (`az`, azure-cli from PyPI;
# e.g. `python3 -m venv ~/az-venv && ~/az-venv/bin/pip install azure-cli`, then put ~/az-venv/bin on PATH).
# `notation-devstack up` signs az in to the devstack cloud in its own AZURE_CONFIG_DIR (your ~/.azure is untouched).
#
# TUTORIAL_RBAC=1 takes the tutorial's Azure RBAC path (az role assignment create) instead of access policies.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORKDIR="${TUTORIAL_WORKDIR:-$(mktemp -d)}"
mkdir -p "$WORKDIR" && cd "$WORKDIR"
step() { printf '\n==> %s\n' "$*" >&2; }

command -v az >/dev/null || { echo "az not found: install azure-cli (see the top of $0)" >&2; exit 1; }
step "Start the offline stand-ins (Key Vault, registry, Entra ID, Resource Manager, Graph) and sign az in"
notation-devstack up
# shellcheck disable=SC1090
source "$(notation-devstack env-file)"

# --- the tutorial's variables (devstack values) ---------------------------------------------------------------
ACR_NAME="$DEVSTACK_ACR_NAME"
REGISTRY="$DEVSTACK_REGISTRY"
REPO=net-monitor
TAG=v1
IMAGE=$REGISTRY/${REPO}:$TAG
IMAGE_SOURCE="$HERE/net-monitor"
AKV_SUB_ID="$DEVSTACK_SUBSCRIPTION_ID"
AKV_RG="$DEVSTACK_RESOURCE_GROUP"
AKV_NAME="$DEVSTACK_VAULT_NAME"
if [ -n "${TUTORIAL_RBAC:-}" ]; then
  # the RBAC path wants a vault with the Azure RBAC permission model ("create or use a Key Vault")
  AKV_NAME="${DEVSTACK_VAULT_NAME}rbac"
  az keyvault show -n $AKV_NAME -o none 2>/dev/null \
    || az keyvault create -n $AKV_NAME -g $AKV_RG --enable-rbac-authorization true -o none
fi
CERT_NAME=wabbit-networks-io
CERT_SUBJECT="CN=wabbit-networks.io,O=Notation,L=Seattle,ST=WA,C=US"
CERT_PATH=./${CERT_NAME}.pem

step "Install the Azure Key Vault plugin for Notation"
notation-azure-kv install-launcher "$WORKDIR/azure-kv" >/dev/null
notation plugin install --file "$WORKDIR/azure-kv/notation-azure-kv" --force
notation plugin ls

step "Grant yourself the certificate and sign permissions"
USER_ID=$(az ad signed-in-user show --query id -o tsv)
if [ -z "${TUTORIAL_RBAC:-}" ]; then
  az keyvault set-policy -n $AKV_NAME --certificate-permissions create get --key-permissions sign --object-id $USER_ID
else
  az role assignment create --role "Key Vault Certificates Officer" --role "Key Vault Crypto User" --assignee $USER_ID --scope "/subscriptions/$AKV_SUB_ID/resourceGroups/$AKV_RG/providers/Microsoft.KeyVault/vaults/$AKV_NAME"
  # az keeps only the last --role (argparse), on Azure as here: the line above assigns Key Vault Crypto User only,
  # so certificate create would get 403 ForbiddenByRbac. Assign the first role too:
  az role assignment create --role "Key Vault Certificates Officer" --assignee $USER_ID --scope "/subscriptions/$AKV_SUB_ID/resourceGroups/$AKV_RG/providers/Microsoft.KeyVault/vaults/$AKV_NAME" -o none
fi

step "Create a self-signed certificate in Azure Key Vault"
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
az keyvault certificate create -n $CERT_NAME --vault-name $AKV_NAME -p @my_policy.json
KEY_ID=$(az keyvault certificate show -n $CERT_NAME --vault-name $AKV_NAME --query 'kid' -o tsv)

step "Build and push the image with ACR Tasks"
if docker info >/dev/null 2>&1; then  # a docker that can log in (az acr login runs `docker login`)
  az acr login --name $ACR_NAME
else
  # no docker: the tutorial's `az acr login` needs it; take the token instead (what docker would store)
  export NOTATION_USERNAME=00000000-0000-0000-0000-000000000000
  NOTATION_PASSWORD=$(az acr login --name $ACR_NAME --expose-token --output tsv --query accessToken)
  export NOTATION_PASSWORD
fi
DIGEST=$(az acr build -r $ACR_NAME -t $REGISTRY/${REPO}:$TAG $IMAGE_SOURCE --no-logs --query "outputImages[0].digest" -o tsv)
IMAGE=$REGISTRY/${REPO}@$DIGEST

step "Sign the image with Notation and the Key Vault plugin"
notation sign --signature-format cose --id $KEY_ID --plugin azure-kv --plugin-config self_signed=true $IMAGE
notation ls $IMAGE

step "Verify the image"
rm -f "$CERT_PATH"  # re-runs: az keyvault certificate download refuses an existing file
az keyvault certificate download --name $CERT_NAME --vault-name $AKV_NAME --file $CERT_PATH
STORE_TYPE="ca"
STORE_NAME="wabbit-networks.io"
notation cert delete --type "$STORE_TYPE" --store "$STORE_NAME" --all --yes >/dev/null 2>&1 || true  # re-runs
notation cert add --type $STORE_TYPE --store $STORE_NAME $CERT_PATH
notation cert ls
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
notation policy import ./trustpolicy.json --force
notation policy show
notation verify $IMAGE
