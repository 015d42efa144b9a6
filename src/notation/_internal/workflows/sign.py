"""The sign workflow (signature.md §13): resolve, build the payload, sign, check what was made, push.

Plain orchestration over interfaces: the store (registry or layout), the signer (local key or plugin) and the
envelope codec. Nothing here talks to the network or the disk directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from notation._internal.oci import mediatypes
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.store import ArtifactStore
from notation.errors import NotationError, SigningError, StoreError
from notation.models import SignResult

SIGNING_AGENT: str = "notation-py/" + str(__import__("notation").__version__)


def check_expiry(expiry: dt.timedelta | None) -> dt.timedelta | None:
    """SIGN-04/CLI-44: a whole, non-negative number of seconds; zero means no expiry."""
    if expiry is None:
        return None
    if expiry < dt.timedelta(0):
        raise SigningError("expiry duration cannot be a negative value")
    if expiry.microseconds:
        raise SigningError("expiry duration supports minimum granularity of seconds")
    return expiry or None


def _is_envelope_generator(signer: object) -> bool:
    return callable(getattr(signer, "generate_envelope", None))


def signing_agent_for(signer: object) -> str:
    """SIG-22: our agent, plus ``<plugin>/<version>`` when a raw-signing plugin made the signature."""
    plugin_name = getattr(signer, "plugin_name", None)
    plugin_version = getattr(signer, "plugin_version", None)
    if plugin_name and plugin_version:
        return f"{SIGNING_AGENT} {plugin_name}/{plugin_version}"
    return SIGNING_AGENT


def sign_artifact(
    store: ArtifactStore,
    reference: str | Descriptor,
    signer: Any,
    *,
    envelope_media_type: str,
    expiry: dt.timedelta | None = None,
    user_metadata: Mapping[str, str] | None = None,
    timestamper: Callable[[bytes, Any], bytes] | None = None,
    now: dt.datetime | None = None,
) -> SignResult:
    """Sign the manifest that ``reference`` (tag, digest, or an already resolved Descriptor) names in ``store``.

    ``signer`` is a PrimitiveSigner (local key, plugin generate-signature) or a plugin envelope generator
    (an object with ``generate_envelope``). ``timestamper(signature, algorithm) -> TimeStampToken DER`` adds an
    RFC 3161 countersignature (SIG-21); envelope generators ignore it (PLG-45), as Go does.
    """
    from notation._internal.envelope.codec import sign_envelope_with_info, verify_integrity
    from notation._internal.envelope.model import SignRequest
    from notation._internal.envelope.payload import add_user_metadata, build_payload
    from notation._internal.oci.signature_manifest import build_signature_manifest
    from notation._internal.x509.keys import thumbprint_sha256

    if envelope_media_type not in mediatypes.ENVELOPE_MEDIA_TYPES:
        raise SigningError(
            f'signature format "{envelope_media_type}" not supported\n'
            'Supported signature envelope formats are "jws" and "cose"'
        )
    duration = check_expiry(expiry)
    subject = reference if isinstance(reference, Descriptor) else store.resolve(reference)  # SIGN-01
    target = Descriptor(subject.media_type, subject.digest, subject.size, subject.annotations)  # PAY-05
    target = add_user_metadata(target, user_metadata or {})  # SIGN-02, SIG-04, PAY-04
    payload = build_payload(target, envelope_media_type)

    signing_time = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    expires = signing_time + duration if duration else None
    extra_annotations: Mapping[str, str] = {}
    if _is_envelope_generator(signer):
        envelope, extra_annotations = signer.generate_envelope(
            payload, mediatypes.NOTARY_PAYLOAD, envelope_media_type, expires
        )
        info = verify_integrity(envelope_media_type, envelope)  # SIGN-05
        checker = getattr(signer, "check_generated_envelope", None)
        if checker is not None:
            checker(info, payload)  # PLG-43
    else:
        request = SignRequest(
            payload=payload,
            payload_content_type=mediatypes.NOTARY_PAYLOAD,
            signing_time=signing_time,
            expiry=expires,
            signing_agent=signing_agent_for(signer),
        )
        try:
            # SIGN-05: verified inside (integrity + chain at the signing time); its parse gives ``info``.
            envelope, info = sign_envelope_with_info(envelope_media_type, request, signer, timestamper=timestamper)
        except NotationError as exc:
            plugin_name = getattr(signer, "plugin_name", None)
            if plugin_name and not str(exc).startswith("failed to sign with the plugin"):
                raise SigningError(f"failed to sign with the plugin {plugin_name}: {exc}") from exc
            raise

    envelope_desc = Descriptor.for_content(envelope_media_type, envelope)
    manifest, manifest_desc = build_signature_manifest(
        subject,
        envelope_desc,
        signing_time=info.signing_time,
        thumbprints=[thumbprint_sha256(c) for c in info.certificate_chain],
        extra_annotations=extra_annotations,
    )
    # MAN-09: envelope blob, config blob, then the manifest by digest and the referrers bookkeeping.
    try:
        store.push_blob(envelope_desc, envelope, check_exists=False)  # just made: no HEAD
        config = Descriptor.for_content(mediatypes.NOTARY_SIGNATURE, mediatypes.EMPTY_JSON)
        store.push_blob(config, mediatypes.EMPTY_JSON)
        warnings = store.push_signature_manifest(subject, manifest_desc, manifest)
    except StoreError as exc:
        raise SigningError(f"failed to push signature to registry with error: {exc}") from exc
    return SignResult(
        reference=f"{store.display_name}@{subject.digest}",
        subject=subject,
        signature_manifest=manifest_desc,
        envelope_media_type=envelope_media_type,
        warnings=tuple(warnings),
    )
