"""Typed errors of notation-py.

Every error carries a user-facing message (matching the Go notation message where one exists); the CLI prints it
as ``Error: <message>`` and exits 1, so no caller ever needs to show a traceback.
"""

from __future__ import annotations


class NotationError(Exception):
    """Base of every error notation-py raises on purpose."""

    @property
    def message(self) -> str:
        return str(self)


class InvalidReferenceError(NotationError):
    """A registry or OCI layout reference that does not parse."""


class ConfigError(NotationError):
    """A malformed or unreadable configuration file (config.json, signingkeys.json)."""


class CertificateError(NotationError):
    """A certificate or key that cannot be read or breaks the Notary Project certificate rules."""


class KeyError_(NotationError):  # the underscore avoids shadowing the builtin KeyError
    """A signing key that cannot be found or loaded."""


class EnvelopeError(NotationError):
    """A signature envelope that is malformed (structure, encoding, attributes)."""


class SignatureIntegrityError(EnvelopeError):
    """The envelope parsed, but its signature, algorithm or certificate chain fails the integrity check."""


class UnsupportedSignatureFormatError(EnvelopeError):
    """An envelope media type other than application/jose+json or application/cose."""


class TrustPolicyError(NotationError):
    """A trust policy document that is missing or fails validation."""


class TrustStoreError(NotationError):
    """A trust store that is missing, unreadable or holds an invalid certificate."""


class VerificationError(NotationError):
    """Verification of an artifact failed (the message says why)."""


class SigningError(NotationError):
    """Signing failed before anything was pushed."""


class StoreError(NotationError):
    """An artifact store (registry or OCI layout) failed or answered with content that does not check out."""


class NotFoundError(StoreError):
    """The reference, manifest or blob does not exist in the store."""


class RegistryError(StoreError):
    """A registry answered with an error, or could not be reached."""

    status_code: int | None = None
    """The HTTP status of the registry's answer (None: no answer). Callers branch on this, never on the message,
    whose error details the registry wrote."""


class AuthenticationError(RegistryError):
    """A registry refused the credentials (or none were given)."""


class LayoutError(StoreError):
    """An OCI image layout that is malformed or unreadable."""


class PluginError(NotationError):
    """A plugin that is missing, malformed, or answered with an error or malformed output."""


class TimestampError(NotationError):
    """An RFC 3161 timestamp request or response that fails."""


class RevocationError(NotationError):
    """A revocation check that could not be completed."""


class BlobIntegrityError(VerificationError):
    """A blob that does not match its detached signature's signed descriptor (digest, size or media type)."""
