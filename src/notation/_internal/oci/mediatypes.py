"""OCI and Notary Project media types and well-known digests (signature.md §11)."""

from __future__ import annotations

OCI_IMAGE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_IMAGE_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_ARTIFACT_MANIFEST = "application/vnd.oci.artifact.manifest.v1+json"  # withdrawn; read-only (MAN-01)
OCI_IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"

MANIFEST_MEDIA_TYPES = (
    OCI_IMAGE_MANIFEST,
    OCI_IMAGE_INDEX,
    DOCKER_MANIFEST_V2,
    DOCKER_MANIFEST_LIST,
    OCI_ARTIFACT_MANIFEST,
)

NOTARY_SIGNATURE = "application/vnd.cncf.notary.signature"
NOTARY_PAYLOAD = "application/vnd.cncf.notary.payload.v1+json"
JWS_ENVELOPE = "application/jose+json"
COSE_ENVELOPE = "application/cose"
ENVELOPE_MEDIA_TYPES = (JWS_ENVELOPE, COSE_ENVELOPE)

EMPTY_JSON = b"{}"
EMPTY_JSON_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

ANNOTATION_THUMBPRINTS = "io.cncf.notary.x509chain.thumbprint#S256"
ANNOTATION_CREATED = "org.opencontainers.image.created"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"

# Read limits (MAN-10) and the default cap of signatures per artifact (VER-05).
MAX_MANIFEST_SIZE = 4 * 1024 * 1024
MAX_ENVELOPE_SIZE = 32 * 1024 * 1024
DEFAULT_MAX_SIGNATURES = 100
