# ruff: noqa: E501  (help texts are kept verbatim, one line per paragraph)
"""``notation blob sign|verify|inspect|policy`` (cli.md Appendix A; signature.md §15; trust.md TP-40..42).

Go notation main (2.0.0-alpha) is the reference for flags, checks, order and messages; the work is done by
``workflows.blob`` (streaming sign/verify) and ``trust.blob_policy``. Every 1.3.2 default elsewhere is unchanged.
"""

from __future__ import annotations

import io
import json
from typing import Any

from notation._internal.cli.common import debug_flags, parse_flag_map, setup_logging, verification_flags
from notation._internal.cli.framework import Command, CommandError, Flag, Invocation, os_message, read_input_file
from notation._internal.log import logger as log

_SIGN_LONG = """Produce a detached signature for a given blob.

By default, the signature file will be written to the same directory as the blob with file name "{blob file name}.{signature format}.sig".

Note: a signing key must be specified. This can be done temporarily by specifying a key ID, or a new key can be configured using the command "notation key add"

Example - Sign a blob artifact using the default signing key, with the default JWS envelope, and store the signature at current directory:
  notation blob sign <blob_path>

Example - Sign a blob artifact by generating the signature in a particular directory:\x20
  notation blob sign --signature-directory <signature_directory_path> <blob_path>

Example - Sign a blob artifact and skip user confirmations when overwriting existing signature:
  notation blob sign --force <blob_path>\x20

Example - Sign a blob artifact using the default signing key, with the COSE envelope:
  notation blob sign --signature-format cose <blob_path>

Example - Sign a blob artifact with a specified plugin and signing key stored in KMS:\x20
  notation blob sign --plugin <plugin_name> --id <remote_key_id> <blob_path>

Example - Sign a blob artifact and add a user metadata to payload:\x20
  notation blob sign --user-metadata <metadata> <blob_path>

Example - Sign a blob artifact using a specified media type:\x20
  notation blob sign --media-type <media type> <blob_path>

Example - Sign a blob artifact using a specified key:\x20
  notation blob sign --key <key_name> <blob_path>

Example - Sign a blob artifact and specify the signature expiry duration, for example 24 hours:\x20
  notation blob sign --expiry 24h <blob_path>

Example - Sign a blob artifact with timestamping:
  notation blob sign --timestamp-url <TSA_url> --timestamp-root-cert <TSA_root_certificate_filepath> <blob_path>
"""

_VERIFY_LONG = """Verify a signature associated with a blob.

Prerequisite: added a certificate into trust store and created a trust policy.

Example - Verify a signature on a blob artifact:
  notation blob verify --signature <signature_path> <blob_path>

Example - Verify the signature on a blob artifact with user metadata:
  notation blob verify --user-metadata <metadata> --signature <signature_path> <blob_path>

Example - Verify the signature on a blob artifact with media type:
  notation blob verify --media-type <media_type> --signature <signature_path> <blob_path>
\x20
Example - Verify the signature on a blob artifact using a policy statement name:
  notation blob verify --policy-name <policy_name> --signature <signature_path> <blob_path>
"""

_INSPECT_LONG = """Inspect a signature associated with a blob.

Example - Inspect a signature:
  notation blob inspect blob.cose.sig

Example - Inspect a signature and output as JSON:
  notation blob inspect -o json blob.cose.sig
"""


def go_pretty_json(obj: Any) -> str:
    """Go's json.Encoder with SetIndent("", "  "): two spaces, HTML-safe escapes, a final newline."""
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text + "\n"


class _Directory(io.RawIOBase):
    """What Go's os.Open gives for a directory: opening works, reading fails (``read <path>: is a directory``)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        import errno

        raise IsADirectoryError(errno.EISDIR, "is a directory", self.path)


def _open_blob(path: str) -> Any:
    """Open the blob for streaming (never read whole), with Go's open/read error texts."""
    try:
        return open(path, "rb")  # the caller closes it
    except IsADirectoryError:
        return _Directory(path)
    except OSError as exc:
        raise CommandError(os_message(exc)) from None


# --------------------------------------------------------------------------------------------------------------------
# blob sign
# --------------------------------------------------------------------------------------------------------------------


def _sign_args(args: list[str]) -> None:
    if not args:
        raise CommandError(
            "missing file path to the blob artifact: use `notation blob sign --help` to see what parameters are required"
        )
    if args[0] == "":
        raise CommandError("blob path cannot be empty")


def _sign_pre_run(values: dict[str, object], changed: set[str]) -> None:
    if "signature-directory" in changed and not values["signature-directory"]:
        raise CommandError("signature directory cannot be empty")
    if "timestamp-url" in changed and not values["timestamp-url"]:
        raise CommandError("timestamping: tsa url cannot be empty")
    if "timestamp-root-cert" in changed and not values["timestamp-root-cert"]:
        raise CommandError("timestamping: tsa root certificate path cannot be empty")


def _sign_run(inv: Invocation) -> None:
    import os

    from notation._internal.cli.output import confirm
    from notation._internal.cli.sign import _signer, _timestamper, expiry_from_ns
    from notation._internal.config.fileio import atomic_write
    from notation._internal.workflows.blob import SIGNATURE_FORMATS, sign_blob_stream

    setup_logging(inv)
    blob_path = inv.args[0]
    directory = (
        inv.flag_str("signature-directory")
        if "signature-directory" in inv.changed
        else os.path.dirname(blob_path) or "."
    )
    plugin_config_raw = inv.flag_list("plugin-config")
    try:  # a malformed --plugin-config is reported after signer errors, as Go does
        early_config = parse_flag_map(plugin_config_raw, "plugin-config")
    except CommandError:
        early_config = {}
    signer = _signer(inv, early_config)
    fmt = inv.flag_str("signature-format")
    media_type = SIGNATURE_FORMATS.get(fmt)  # Go main compares the format case-sensitively
    if media_type is None:
        raise CommandError(
            f'signature format "{fmt}" not supported\nSupported signature envelope formats are "jws" and "cose"'
        )
    parse_flag_map(plugin_config_raw, "plugin-config")
    metadata = parse_flag_map(inv.flag_list("user-metadata"), "user-metadata")
    timestamp_url = inv.flag_str("timestamp-url")
    timestamper = None
    if timestamp_url:
        log.info('Configured to timestamp with TSA "%s"', timestamp_url)
        timestamper = _timestamper(timestamp_url, inv.flag_str("timestamp-root-cert"))
    blob = _open_blob(blob_path)
    with blob:
        try:
            result = sign_blob_stream(
                blob,
                signer,
                envelope_media_type=media_type,
                content_media_type=inv.flag_str("media-type"),
                expiry=expiry_from_ns(inv.flag_int("expiry")),
                user_metadata=metadata or None,
                timestamper=timestamper,
            )
        except OSError as exc:
            raise CommandError(os_message(exc, "read")) from None
    signature_path = os.path.normpath(os.path.join(directory, f"{os.path.basename(blob_path)}.{fmt}.sig"))
    log.info("Writing signature to file %s", signature_path)
    if not inv.flag_bool("force"):
        if os.path.exists(signature_path) and not confirm(
            "The signature file already exists, do you want to overwrite it? [y/N] ", inv.stdin, inv.stdout
        ):
            return
    else:
        inv.err("Warning: existing signature file will be overwritten")
    from pathlib import Path

    try:
        atomic_write(Path(signature_path), result.envelope)
    except OSError as exc:
        raise CommandError(f"failed to write signature to file: {os_message(exc)}") from None
    inv.out(f"Successfully signed {blob_path}")
    inv.out(f"Signature file written to {signature_path}")


def _sign_command() -> Command:
    from notation._internal.cli.sign import signing_flags

    return Command(
        "sign [flags] <blob_path>",
        "Produce a detached signature for a given blob",
        long=_SIGN_LONG,
        flags=[
            *debug_flags(),
            *signing_flags(),
            Flag("media-type", "string", "media type of the blob", default="application/octet-stream"),
            Flag(
                "signature-directory",
                "string",
                "directory where the signature file is placed (default same directory as the blob)",
            ),
            Flag("force", "bool", "override the existing signature file, never prompt"),
        ],
        run=_sign_run,
        pre_run=_sign_pre_run,
        args=_sign_args,
        exclusive=[("key", "id"), ("key", "plugin")],
        together=[("id", "plugin"), ("timestamp-url", "timestamp-root-cert")],
    )


# --------------------------------------------------------------------------------------------------------------------
# blob verify
# --------------------------------------------------------------------------------------------------------------------


def _verify_args(args: list[str]) -> None:
    if not args:
        raise CommandError(
            "missing path to the blob artifact: use `notation blob verify --help` to see what parameters are required"
        )


def _verify_pre_run(values: dict[str, object], changed: set[str]) -> None:
    if not values["signature"]:
        raise CommandError("filepath of the signature cannot be empty")
    if "media-type" in changed and not values["media-type"]:
        raise CommandError("--media-type is set but with empty value")


def _read_signature_file(path: str) -> bytes:
    from notation._internal.workflows.blob import MAX_SIGNATURE_FILE_SIZE

    return read_input_file(
        path, MAX_SIGNATURE_FILE_SIZE, "", f"signature file {path} is larger than {MAX_SIGNATURE_FILE_SIZE} bytes"
    )


def _verify_run(inv: Invocation) -> None:
    from notation._internal.cli.verify import print_verified
    from notation._internal.config import dirs
    from notation._internal.trust.blob_policy import BlobTrustPolicyDocument
    from notation._internal.trust.store import TrustStore
    from notation._internal.verifier import plugin_hooks
    from notation._internal.workflows.blob import signature_media_type_for_path, verify_blob_stream

    setup_logging(inv)
    blob_path = inv.args[0]
    signature_path = inv.flag_str("signature")
    blob = _open_blob(blob_path)
    with blob:
        signature = _read_signature_file(signature_path)
        config_dir = dirs.config_dir()
        policy = BlobTrustPolicyDocument.load(config_dir)
        plugin_config = parse_flag_map(inv.flag_list("plugin-config"), "plugin-config")
        metadata = parse_flag_map(inv.flag_list("user-metadata"), "user-metadata")
        signature_media_type = signature_media_type_for_path(signature_path)
        outcome = verify_blob_stream(
            blob,
            signature,
            signature_media_type=signature_media_type,
            policy=policy,
            trust_store=TrustStore(config_dir / "truststore"),
            policy_name=inv.flag_str("policy-name") or None,
            content_media_type=inv.flag_str("media-type") or None,
            user_metadata=metadata,
            plugin_hooks=plugin_hooks(plugin_config),
            display_name=blob_path,
        )
    warnings = outcome.warnings
    for warning in warnings:
        inv.warn(warning)
    if warnings:
        inv.out()
    print_verified(inv, blob_path, outcome)


def _verify_command() -> Command:
    return Command(
        "verify [flags] --signature <signature_path> <blob_path>",
        "Verify a signature associated with a blob",
        long=_VERIFY_LONG,
        flags=[
            *debug_flags(),
            Flag("signature", "string", "filepath of the signature to be verified", short="s", required=True),
            *verification_flags(),
            Flag("media-type", "string", "media type of the blob to verify"),
            Flag(
                "policy-name",
                "string",
                "policy name to verify against. If not provided, the global policy is used if exists",
            ),
        ],
        run=_verify_run,
        pre_run=_verify_pre_run,
        args=_verify_args,
    )


# --------------------------------------------------------------------------------------------------------------------
# blob inspect
# --------------------------------------------------------------------------------------------------------------------


def _inspect_args(args: list[str]) -> None:
    if not args:
        raise CommandError(
            "missing signature path: use `notation blob inspect --help` to see what parameters are required"
        )


def _inspect_pre_run(values: dict[str, object], changed: set[str]) -> None:
    if values["output"] not in ("tree", "json"):
        raise CommandError(f"unrecognized output format {values['output']}")


def rfc3339_nano(value: Any) -> str:
    """Go's time.RFC3339Nano (fraction without trailing zeros), the form encoding/json gives a time.Time."""
    from notation._internal.cli.inspect import rfc3339

    text = rfc3339(value)
    if value.microsecond:
        frac = f".{value.microsecond:06d}".rstrip("0")
        cut = 19
        text = text[:cut] + frac + text[cut:]
    return text


def render_blob_tree(path: str, media_type: str, sig: Any) -> str:
    """Go main's tree: the signature node named by its path (``tree/inspect_helper.go``)."""
    text: str = signature_tree_node(path, media_type, sig).render()
    return text


def signature_tree_node(name: str, media_type: str, sig: Any) -> Any:
    """One signature as Go main's tree shows it (``newSignatureNode``), for blob and OCI inspect."""
    from notation._internal.cli.inspect import add_signature_rest, ansic
    from notation._internal.cli.output import Node

    root = Node(name)
    root.add_kv("signature algorithm", sig.signature_algorithm)
    root.add_kv("signature envelope type", media_type)
    signed = root.add("signed attributes")
    signed.add_kv("content type", sig.content_type)
    signed.add_kv("signing scheme", sig.signing_scheme)
    signed.add_kv("signing time", ansic(sig.signing_time))
    if sig.expiry is not None:
        signed.add_kv("expiry", ansic(sig.expiry))
    for key, value in sig.extended_attributes:
        signed.add_kv(key, value)
    add_signature_rest(root, sig, agent_label="signing agent")
    return root


def blob_inspect_json(media_type: str, sig: Any) -> dict[str, Any]:
    """Go main's JSON ``signature`` struct (no digest for a blob signature; map members sorted)."""

    from notation._internal.cli.inspect import json_certificates, json_signed_artifact

    def certs(items: Any) -> list[dict[str, str]] | None:
        return json_certificates(items, rfc3339_nano) or None

    signed: dict[str, Any] = {
        "contentType": sig.content_type,
        "signingScheme": sig.signing_scheme,
        "signingTime": rfc3339_nano(sig.signing_time),
    }
    if sig.expiry is not None:
        signed["expiry"] = rfc3339_nano(sig.expiry)
    signed.update(dict(sig.extended_attributes))
    unsigned: dict[str, Any] = {}
    if sig.signing_agent:
        unsigned["signingAgent"] = sig.signing_agent
    if sig.timestamp is not None:
        if sig.timestamp.error is not None:
            unsigned["timestampSignature"] = {"error": sig.timestamp.error}
        else:
            ts: dict[str, Any] = {
                "timestamp": f"[{rfc3339_nano(sig.timestamp.lower)}, {rfc3339_nano(sig.timestamp.upper)}]"
            }
            ts_certs = certs(sig.timestamp.certificates)
            if ts_certs:
                ts["certificates"] = ts_certs
            unsigned["timestampSignature"] = ts
    user = sig.user_defined_attributes
    return {
        "signatureAlgorithm": sig.signature_algorithm,
        "signatureEnvelopeType": media_type,
        "signedAttributes": dict(sorted(signed.items())),
        "userDefinedAttributes": dict(sorted(user.items())) if user else None,
        "unsignedAttributes": dict(sorted(unsigned.items())),
        "certificates": certs(sig.certificates),
        "signedArtifact": json_signed_artifact(sig),
    }


def _inspect_run(inv: Invocation) -> None:
    from notation._internal.envelope.codec import parse_envelope
    from notation._internal.workflows.blob import MAX_SIGNATURE_FILE_SIZE, signature_media_type_for_path
    from notation._internal.workflows.inspect import summarize_signature
    from notation.errors import NotationError

    path = inv.args[0]
    media_type = signature_media_type_for_path(path)
    data = read_input_file(
        path,
        MAX_SIGNATURE_FILE_SIZE,
        "failed to read signature file: ",
        f"failed to read signature file: {path} is larger than {MAX_SIGNATURE_FILE_SIZE} bytes",
    )
    try:
        info = parse_envelope(media_type, data)
        summary = summarize_signature("", info)
    except NotationError as exc:
        raise CommandError(f"failed to parse signature: {exc}") from None
    if inv.flag_str("output") == "json":
        inv.stdout.write(go_pretty_json(blob_inspect_json(media_type, summary)))
    else:
        inv.stdout.write(render_blob_tree(path, media_type, summary))


def _inspect_command() -> Command:
    return Command(
        "inspect [flags] <signature_path>",
        "Inspect a signature associated with a blob",
        long=_INSPECT_LONG,
        flags=[Flag("output", "string", "output format, options: 'json', 'tree'", short="o", default="tree")],
        run=_inspect_run,
        pre_run=_inspect_pre_run,
        args=_inspect_args,
    )


def command() -> Command:
    from notation._internal.cli.blob_policy import command as policy_command

    return Command(
        "blob",
        "Commands for blob",
        long="Sign, verify, inspect signatures of blob. Configure blob trust policy.",
        children=[_sign_command(), _verify_command(), policy_command(), _inspect_command()],
    )
