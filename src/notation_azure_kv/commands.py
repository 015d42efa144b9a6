"""``describe-key`` and ``generate-signature`` of the azure-kv plugin (§1.5, §1.6)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any

from notation_azure_kv import certs
from notation_azure_kv.keyid import parse_key_id
from notation_azure_kv.protocol import (
    ERROR,
    VALIDATION_ERROR,
    PluginFailure,
    check_contract,
    plugin_config,
    required_string,
)
from notation_azure_kv.vault import Vault, make_credential

SELF_SIGNED_WITH_CA_CERTS = (
    "Self-signed certificate is specified. Please do not specify the `ca_certs` parameter if it is a self-signed "
    "certificate."
)


def _vault(request: Mapping[str, Any]) -> tuple[Vault, dict[str, str], str]:
    check_contract(request)
    raw_id = request.get("keyId")
    key_id = parse_key_id(raw_id if isinstance(raw_id, str) else "")
    config = plugin_config(request)
    credential = make_credential(config.get("credential_type"))
    return Vault(key_id, credential), config, raw_id if isinstance(raw_id, str) else ""


def _certificate(vault: Vault) -> Any:
    fetched = vault.get_certificate()
    wanted = vault.key_id.version
    if wanted and fetched.version and fetched.version != wanted:
        raise PluginFailure(
            ERROR,
            f"The version specified in the request is {wanted} but the version retrieved from Azure Key Vault is "
            f"{fetched.version}. Please ensure the version is correct.",
        )
    return certs.load_der(fetched.cer)


def describe_key(request: Mapping[str, Any]) -> dict[str, Any]:
    vault, _, raw_id = _vault(request)
    leaf = _certificate(vault)
    return {"keyId": raw_id, "keySpec": certs.algorithm_for(leaf).key_spec}


def generate_signature(request: Mapping[str, Any]) -> dict[str, Any]:
    vault, config, raw_id = _vault(request)
    required_string(request, "keySpec", "KeySpec")
    required_string(request, "hashAlgorithm", "HashAlgorithm")
    payload_b64 = required_string(request, "payload", "Payload")
    try:
        payload = base64.b64decode(payload_b64, validate=True)
    except (binascii.Error, ValueError):
        raise PluginFailure(VALIDATION_ERROR, "payload is not valid base64") from None
    if not payload:
        raise PluginFailure(VALIDATION_ERROR, "Payload must not be null or empty")

    self_signed = config.get("self_signed", "").lower() == "true"
    ca_certs = config.get("ca_certs", "")
    if self_signed:  # mode A
        if ca_certs:
            raise PluginFailure(ERROR, SELF_SIGNED_WITH_CA_CERTS)
        chain = [_certificate(vault)]
    elif ca_certs:  # mode B
        bundle = certs.load_ca_certs(ca_certs)
        chain = certs.build_chain([_certificate(vault), *bundle])
    else:  # mode C: the secret that backs the certificate
        value, content_type = vault.get_secret()
        chain = certs.build_chain(certs.certificates_from_secret(value, content_type))

    algorithm = certs.algorithm_for(chain[0])
    digest = hashlib.new(algorithm.hash_name, payload).digest()  # only the digest leaves the machine
    signature, kid = vault.sign_digest(algorithm.akv_alg, digest)
    expected_kid = vault.key_id.key_url
    if vault.key_id.version and kid is not None and kid != expected_kid:
        raise PluginFailure(
            ERROR,
            f"Invalid key identifier. User required {expected_kid} does not match {kid} in response. Please ensure "
            "the provided key identifier is correct.",
        )
    from cryptography.hazmat.primitives.serialization import Encoding

    return {
        "keyId": raw_id,
        "signature": base64.b64encode(signature).decode(),
        "signingAlgorithm": algorithm.signing_algorithm,
        "certificateChain": [base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in chain],
    }
