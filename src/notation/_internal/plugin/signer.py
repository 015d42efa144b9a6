"""Signing through a plugin (plugins.md §5.2-5.4, §6): ``generate-signature`` (we build the envelope) or
``generate-envelope`` (the plugin does).

Every answer of the plugin is checked before anything is built from it: key id echoes, key spec and signing
algorithm, base64 and DER of the chain, the envelope type, and for plugin-made envelopes the PLG-43 rules that
keep a plugin from changing what was signed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from notation._internal.envelope.algorithms import KeySpec, SignatureAlgorithm
from notation._internal.log import logger as log
from notation._internal.oci import mediatypes
from notation._internal.plugin.process import Plugin
from notation._internal.plugin.protocol import (
    CAP_SIGNATURE_GENERATOR_ENVELOPE,
    CAP_SIGNATURE_GENERATOR_RAW,
    CMD_DESCRIBE_KEY,
    CMD_GENERATE_ENVELOPE,
    CMD_GENERATE_SIGNATURE,
    CONTRACT_VERSION,
    PluginCommandError,
    PluginMalformedError,
    PluginMetadata,
    go_quote_list,
)
from notation.errors import NotationError, PluginError, SigningError

if TYPE_CHECKING:
    from cryptography import x509

    from notation._internal.envelope.model import SignerInfo
    from notation._internal.plugin.manager import PluginManager

_ALLOWED_TARGET_MEMBERS = frozenset(
    {"mediaType", "digest", "size", "urls", "annotations", "data", "platform", "artifactType"}
)


def _b64decode(value: Any, what: str, plugin: Plugin, command: str) -> bytes:
    """PLG-26: standard base64 with padding; anything else is a malformed answer."""
    if not isinstance(value, str):
        raise PluginMalformedError(
            f"failed to unmarshal the response of {command} command for plugin {plugin.name}: {what} is not a string"
        )
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise PluginMalformedError(
            f"failed to unmarshal the response of {command} command for plugin {plugin.name}: "
            f"{what} is not valid base64"
        ) from None


def _str_member(response: Mapping[str, Any], key: str, plugin: Plugin, command: str) -> str:
    value = response.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PluginMalformedError(
            f"failed to unmarshal the response of {command} command for plugin {plugin.name}: {key} is not a string"
        )
    return value


def _with_config(request: dict[str, Any], plugin_config: Mapping[str, str]) -> dict[str, Any]:
    if plugin_config:
        request["pluginConfig"] = dict(plugin_config)
    return request


class PluginSigner:
    """A PrimitiveSigner (envelope/model.py) backed by ``describe-key`` + ``generate-signature`` (PLG-51).

    ``plugin_name`` and ``plugin_version`` make the signing agent ``<agent> <name>/<version>`` (SIG-22).
    """

    def __init__(
        self, plugin: Plugin, metadata: PluginMetadata, key_id: str, plugin_config: Mapping[str, str] | None = None
    ) -> None:
        self.plugin = plugin
        self.metadata = metadata
        self.key_id = key_id
        self.plugin_config = dict(plugin_config or {})
        self._key_spec: KeySpec | None = None

    @property
    def plugin_name(self) -> str:
        return self.metadata.name

    @property
    def plugin_version(self) -> str:
        return self.metadata.version

    def key_spec(self) -> KeySpec:
        """``describe-key``, once per signer (PLG-36)."""
        if self._key_spec is None:
            request = _with_config({"contractVersion": CONTRACT_VERSION, "keyId": self.key_id}, self.plugin_config)
            log.debug("Invoking plugin's describe-key command")
            response = self.plugin.run(CMD_DESCRIBE_KEY, request)
            key_id = _str_member(response, "keyId", self.plugin, CMD_DESCRIBE_KEY)
            if key_id != self.key_id:
                raise PluginError(f'keyID in describeKey response "{key_id}" does not match request "{self.key_id}"')
            name = _str_member(response, "keySpec", self.plugin, CMD_DESCRIBE_KEY)
            spec = KeySpec.from_plugin_name(name)
            if spec is None:
                raise PluginError(f'unknown key spec "{name}"')
            self._key_spec = spec
        return self._key_spec

    def sign(self, data: bytes) -> tuple[bytes, list[x509.Certificate]]:
        """``generate-signature`` over ``data`` (the JWS signing input or COSE Sig_structure, PLG-38)."""
        from cryptography.exceptions import UnsupportedAlgorithm

        from notation._internal.x509.keys import parse_der_certificate

        spec = self.key_spec()
        request = _with_config(
            {
                "contractVersion": CONTRACT_VERSION,
                "keyId": self.key_id,
                "keySpec": spec.plugin_name,
                "hashAlgorithm": spec.algorithm.plugin_hash_name,
                "payload": base64.b64encode(data).decode(),
            },
            self.plugin_config,
        )
        cmd = CMD_GENERATE_SIGNATURE
        log.debug("Generating signature by plugin")
        response = self.plugin.run(cmd, request)
        key_id = _str_member(response, "keyId", self.plugin, cmd)
        if key_id != self.key_id:
            raise PluginError(f'keyID in generateSignature response "{key_id}" does not match request "{self.key_id}"')
        signature = _b64decode(response.get("signature", ""), "signature", self.plugin, cmd)
        if not signature:
            raise PluginError("signature in generateSignature response is empty")
        # DISC-P3: Go ignores signingAlgorithm; we hold the plugin to the key spec's algorithm.
        alg_name = _str_member(response, "signingAlgorithm", self.plugin, cmd)
        algorithm = SignatureAlgorithm.from_plugin_name(alg_name)
        if algorithm is None:
            raise PluginError(f'signing algorithm "{alg_name}" in generateSignature response is not supported')
        if algorithm is not spec.algorithm:
            raise PluginError(
                f'signing algorithm "{alg_name}" in generateSignature response does not match the key spec '
                f'"{spec.plugin_name}" (expected "{spec.algorithm.plugin_name}")'
            )
        raw_chain = response.get("certificateChain")
        if raw_chain is None:
            raw_chain = []
        if not isinstance(raw_chain, list):
            raise PluginMalformedError(
                f"failed to unmarshal the response of {cmd} command for plugin {self.plugin.name}: "
                "certificateChain is not a list"
            )
        if not raw_chain:
            raise PluginError("certificate chain in generateSignature response is empty")
        chain: list[x509.Certificate] = []
        for i, item in enumerate(raw_chain):
            der = _b64decode(item, f"certificateChain[{i}]", self.plugin, cmd)
            try:
                chain.append(parse_der_certificate(der))
            except ValueError as exc:
                raise PluginError(f"x509: malformed certificate at index {i} of the plugin's chain: {exc}") from None
        try:
            leaf_spec = KeySpec.from_public_key(chain[0].public_key())
        except NotationError as exc:
            raise PluginError(f"the signing certificate's key is not supported: {exc}") from exc
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise PluginError(
                f"the signing certificate's key is not supported: x509: cannot parse public key: {exc}"
            ) from None
        if leaf_spec is not spec:
            raise PluginError(
                f'the signing certificate\'s key spec "{leaf_spec.plugin_name}" does not match the key spec '
                f'"{spec.plugin_name}" from describe-key'
            )
        return signature, chain


class PluginEnvelopeGenerator:
    """A signer whose plugin builds the whole envelope with ``generate-envelope`` (PLG-42..45, PLG-52).

    The sign workflow calls :meth:`generate_envelope`, runs its integrity check, then
    :meth:`check_generated_envelope`; the annotations go into the signature manifest (PLG-44).
    Errors carry Go's ``failed to sign with the plugin <name>: `` prefix already.
    """

    def __init__(
        self, plugin: Plugin, metadata: PluginMetadata, key_id: str, plugin_config: Mapping[str, str] | None = None
    ) -> None:
        self.plugin = plugin
        self.metadata = metadata
        self.key_id = key_id
        self.plugin_config = dict(plugin_config or {})

    @property
    def plugin_name(self) -> str:
        return self.metadata.name

    def _fail(self, message: str) -> SigningError:
        return SigningError(f"failed to sign with the plugin {self.plugin_name}: {message}")

    def generate_envelope(
        self,
        payload: bytes,
        payload_type: str,
        envelope_media_type: str,
        expiry: dt.datetime | dt.timedelta | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """Ask for an envelope over ``payload``; return (envelope bytes, manifest annotations).

        ``expiry`` is the absolute expiry time (as the sign workflow passes it) or a duration; it is sent as
        whole seconds and omitted when there is none (PLG-42).
        """
        request: dict[str, Any] = {
            "contractVersion": CONTRACT_VERSION,
            "keyId": self.key_id,
            "payloadType": payload_type,
            "signatureEnvelopeType": envelope_media_type,
            "payload": base64.b64encode(payload).decode(),
        }
        seconds = _expiry_seconds(expiry)
        if seconds:
            request["expiryDurationInSeconds"] = seconds
        _with_config(request, self.plugin_config)
        cmd = CMD_GENERATE_ENVELOPE
        try:
            log.debug("Generating signature envelope by plugin")
            response = self.plugin.run(cmd, request)
        except PluginCommandError as exc:
            raise self._fail(f"plugin failed to sign with following error: {exc}") from exc
        except PluginError as exc:
            raise self._fail(f"plugin failed to sign with following error: {exc}") from exc
        try:
            env_type = _str_member(response, "signatureEnvelopeType", self.plugin, cmd)
            if env_type != envelope_media_type:
                raise PluginError(
                    f'signatureEnvelopeType in generateEnvelope response "{env_type}" does not match request '
                    f'"{envelope_media_type}"'
                )
            envelope = _b64decode(response.get("signatureEnvelope", ""), "signatureEnvelope", self.plugin, cmd)
            if not envelope:
                raise PluginError("signatureEnvelope in generateEnvelope response is empty")
            if len(envelope) > mediatypes.MAX_ENVELOPE_SIZE:
                raise PluginError(
                    f"signatureEnvelope in generateEnvelope response exceeds {mediatypes.MAX_ENVELOPE_SIZE} bytes"
                )
            annotations = response.get("annotations") or {}
            if not isinstance(annotations, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()
            ):
                raise PluginMalformedError(
                    f"failed to unmarshal the response of {cmd} command for plugin {self.plugin.name}: "
                    "annotations must map strings to strings"
                )
        except PluginError as exc:
            raise self._fail(str(exc)) from exc
        self._verify(envelope_media_type, envelope)
        return envelope, dict(annotations)

    def _verify(self, media_type: str, envelope: bytes) -> None:
        """PLG-43 step 2 with Go's wrapping, so the message names the plugin's envelope as the culprit."""
        log.debug("Verifying signature envelope generated by the plugin")
        try:
            from notation._internal.envelope.codec import verify_integrity
        except ImportError:  # codec not available: the workflow's own integrity check still runs
            return
        try:
            verify_integrity(media_type, envelope)
        except NotationError as exc:
            raise self._fail(f"generated signature failed verification: {exc}") from exc

    def check_generated_envelope(self, info: SignerInfo, expected_payload: bytes) -> None:
        """PLG-43 steps 3-5 on the verified envelope; ``expected_payload`` is what was sent to the plugin."""
        try:
            check_generated_envelope(info, expected_payload)
        except NotationError as exc:
            raise self._fail(str(exc)) from exc


def _expiry_seconds(expiry: dt.datetime | dt.timedelta | None) -> int:
    if expiry is None:
        return 0
    if isinstance(expiry, dt.timedelta):
        return max(0, int(expiry.total_seconds()))
    now = dt.datetime.now(dt.UTC)
    # The workflow passes signing_time (whole seconds, taken just before) + duration: round up to the duration.
    return max(0, math.ceil((expiry - now).total_seconds() - 1e-3))


def check_generated_envelope(info: SignerInfo, expected_payload: bytes) -> None:
    """PLG-43 steps 3-5 (Go's order and messages); raises SigningError."""
    if info.signed.content_type != mediatypes.NOTARY_PAYLOAD:
        raise SigningError(f'payload content type "{info.signed.content_type}" not supported')
    try:
        signed = json.loads(info.payload)
        if not isinstance(signed, dict) or not isinstance(signed.get("targetArtifact"), dict):
            raise ValueError("targetArtifact is not a JSON object")
    except ValueError as exc:
        raise SigningError(f"signed envelope payload can't be unmarshalled: {exc}") from exc
    except RecursionError:  # a COSE payload is not parsed by the codec: hostile nesting reaches here
        raise SigningError("signed envelope payload can't be unmarshalled: JSON nested too deeply") from None
    expected = json.loads(expected_payload)["targetArtifact"]
    got = signed["targetArtifact"]
    same = (
        got.get("mediaType") == expected.get("mediaType")
        and got.get("digest") == expected.get("digest")
        and got.get("size") == expected.get("size")
        and isinstance(got.get("annotations") or {}, dict)
        and all((got.get("annotations") or {}).get(k) == v for k, v in (expected.get("annotations") or {}).items())
    )
    if not same:
        raise SigningError(
            f"during signing descriptor subject has changed from {_go_descriptor(expected)} to {_go_descriptor(got)}"
        )
    unknown = sorted(k for k in got if k not in _ALLOWED_TARGET_MEMBERS) + sorted(
        k for k in signed if k != "targetArtifact"
    )
    if unknown:
        raise SigningError(
            f"during signing, following unknown attributes were added to subject descriptor: {go_quote_list(unknown)}"
        )


def _go_descriptor(d: Mapping[str, Any]) -> str:
    """Go's ``%+v`` of an ocispec.Descriptor, near enough for a human to spot the change."""
    ann = d.get("annotations") or {}
    ann_text = " ".join(f"{k}:{v}" for k, v in sorted(ann.items())) if isinstance(ann, dict) else str(ann)
    urls = d.get("urls") or []
    return (
        f"{{MediaType:{d.get('mediaType', '')} Digest:{d.get('digest', '')} Size:{d.get('size', 0)} "
        f"URLs:[{' '.join(map(str, urls)) if isinstance(urls, list) else urls}] Annotations:map[{ann_text}] "
        f"Data:[] Platform:<nil> ArtifactType:{d.get('artifactType', '')}}}"
    )


def make_plugin_signer(
    manager: PluginManager, plugin_name: str, key_id: str, plugin_config: Mapping[str, str] | None = None
) -> PluginSigner | PluginEnvelopeGenerator:
    """PLG-50: RAW if listed (even with ENVELOPE), else ENVELOPE, else ``plugin does not have signing capabilities``."""
    if not key_id:
        raise PluginError("keyID not specified")
    plugin = manager.get(plugin_name)
    config = dict(plugin_config or {})
    log.debug("Invoking plugin's get-plugin-metadata command")
    metadata = plugin.metadata(config)
    if metadata.has(CAP_SIGNATURE_GENERATOR_RAW):
        return PluginSigner(plugin, metadata, key_id, config)
    if metadata.has(CAP_SIGNATURE_GENERATOR_ENVELOPE):
        return PluginEnvelopeGenerator(plugin, metadata, key_id, config)
    raise PluginError("plugin does not have signing capabilities")
