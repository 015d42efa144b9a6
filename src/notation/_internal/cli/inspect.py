"""``notation inspect`` (cli.md §9, CLI-70..75): text tree or ``-o json``; the data comes from workflows.inspect."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from notation._internal.cli.common import (
    allow_referrers_api_flag,
    check_max_signatures,
    debug_flags,
    max_signatures_flag,
    open_target,
    registry_flags,
    require_reference,
    resolve_target,
    setup_logging,
    take_credentials,
)
from notation._internal.cli.framework import Command, CommandError, Flag, Invocation
from notation._internal.cli.output import Node

if TYPE_CHECKING:
    from notation._internal.workflows.inspect import CertificateSummary, InspectResult, SignatureSummary

_LONG = """Inspect all signatures associated with the signed artifact.

Example - Inspect signatures on an OCI artifact identified by a digest:
  notation inspect <registry>/<repository>@<digest>

Example - Inspect signatures on an OCI artifact identified by a tag  (Notation will resolve tag to digest):
  notation inspect <registry>/<repository>:<tag>

Example - Inspect signatures on an OCI artifact identified by a digest and output as json:
  notation inspect --output json <registry>/<repository>@<digest>
"""

_EXPERIMENTAL_EXAMPLES = """
Example - [Experimental] Inspect signatures on an OCI artifact referenced in an OCI layout:
  notation inspect --oci-layout "<oci_layout_path>@<digest>"
"""


def ansic(value: dt.datetime) -> str:
    """Go's time.ANSIC layout ``Mon Jan _2 15:04:05 2006`` (day space-padded), in the value's own zone."""
    return f"{value.strftime('%a %b')} {value.day:>2} {value.strftime('%H:%M:%S %Y')}"


def rfc3339(value: dt.datetime) -> str:
    """Go's time.RFC3339 ``2006-01-02T15:04:05Z07:00``."""
    offset = value.utcoffset()
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    if not offset:
        return base + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{base}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _signed_attributes(sig: SignatureSummary, fmt: Any) -> list[tuple[str, str]]:
    pairs = [("signingScheme", sig.signing_scheme), ("signingTime", fmt(sig.signing_time))]
    if sig.expiry is not None:
        pairs.append(("expiry", fmt(sig.expiry)))
    pairs.extend(sig.extended_attributes)
    return pairs


def add_certificates(node: Node, certs: tuple[CertificateSummary, ...]) -> None:
    """A ``certificates`` node (shared by the text and tree forms of OCI and blob inspect)."""
    group = node.add("certificates")
    for cert in certs:
        cert_node = group.add_kv("SHA256 fingerprint", cert.sha256_fingerprint)
        cert_node.add_kv("issued to", cert.issued_to)
        cert_node.add_kv("issued by", cert.issued_by)
        cert_node.add_kv("expiry", ansic(cert.expiry))


def add_user_attributes(node: Node, sig: SignatureSummary) -> None:
    """The ``user defined attributes`` node, sorted, ``(empty)`` when there are none (OCI and blob inspect)."""
    user = node.add("user defined attributes")
    for key in sorted(sig.user_defined_attributes):
        user.add_kv(key, sig.user_defined_attributes[key])
    if not sig.user_defined_attributes:
        user.add("(empty)")


def add_timestamp(unsigned: Node, sig: SignatureSummary) -> None:
    """The ``timestamp signature`` node under the unsigned attributes, if the signature has a countersignature."""
    if sig.timestamp is None:
        return
    ts_node = unsigned.add("timestamp signature")
    if sig.timestamp.error is not None:
        ts_node.add_kv("error", sig.timestamp.error)
    else:
        assert sig.timestamp.lower is not None and sig.timestamp.upper is not None
        ts_node.add_kv("timestamp", f"[{ansic(sig.timestamp.lower)}, {ansic(sig.timestamp.upper)}]")
        add_certificates(ts_node, sig.timestamp.certificates)


def add_signed_artifact(node: Node, sig: SignatureSummary) -> None:
    """The ``signed artifact`` node (OCI and blob inspect)."""
    artifact = node.add("signed artifact")
    artifact.add_kv("media type", sig.signed_artifact.media_type)
    artifact.add_kv("digest", sig.signed_artifact.digest)
    artifact.add_kv("size", sig.signed_artifact.size)


def add_signature_rest(node: Node, sig: SignatureSummary, *, agent_label: str) -> None:
    """What follows the signed attributes in both tree forms (1.3's text, 2.0's tree of OCI and blob inspect): user
    defined and unsigned attributes, certificates and the signed artifact. Only the agent's label differs (1.3:
    ``signingAgent``, 2.0: ``signing agent``)."""
    add_user_attributes(node, sig)
    unsigned = node.add("unsigned attributes")
    if sig.signing_agent:
        unsigned.add_kv(agent_label, sig.signing_agent)
    add_timestamp(unsigned, sig)
    add_certificates(node, sig.certificates)
    add_signed_artifact(node, sig)


def render_text(result: InspectResult) -> str:
    from notation._internal.oci import mediatypes

    if not result.signatures:
        return f"{result.reference} has no associated signature\n"
    root = Node(result.reference)
    group = root.add(mediatypes.NOTARY_SIGNATURE)
    for sig in result.signatures:
        node = group.add(sig.digest)
        node.add_kv("media type", sig.media_type)
        node.add_kv("signature algorithm", sig.signature_algorithm)
        signed = node.add("signed attributes")
        for key, value in _signed_attributes(sig, ansic):
            signed.add_kv(key, value)
        add_signature_rest(node, sig, agent_label="signingAgent")
    return "Inspecting all signatures for signed artifact\n" + root.render()


def json_certificates(certs: tuple[CertificateSummary, ...], fmt: Any = rfc3339) -> list[dict[str, str]]:
    """Go's certificate JSON members; ``fmt`` formats the expiry (RFC 3339 for OCI, RFC 3339 nano for blob)."""
    return [
        {
            "SHA256Fingerprint": c.sha256_fingerprint,
            "issuedTo": c.issued_to,
            "issuedBy": c.issued_by,
            "expiry": fmt(c.expiry),
        }
        for c in certs
    ]


def json_signed_artifact(sig: SignatureSummary) -> dict[str, Any]:
    """Go's ``signedArtifact`` JSON member (OCI and blob inspect)."""
    return {
        "mediaType": sig.signed_artifact.media_type,
        "digest": sig.signed_artifact.digest,
        "size": sig.signed_artifact.size,
    }


def to_json(result: InspectResult) -> dict[str, Any]:
    """The Go 1.3 JSON shape: struct members in declaration order, map members sorted, ``Signatures`` capitalised."""
    signatures = []
    for sig in result.signatures:
        unsigned: dict[str, Any] = {}
        if sig.signing_agent:
            unsigned["signingAgent"] = sig.signing_agent
        if sig.timestamp is not None:
            if sig.timestamp.error is not None:
                unsigned["timestampSignature"] = {"error": sig.timestamp.error}
            else:
                assert sig.timestamp.lower is not None and sig.timestamp.upper is not None
                unsigned["timestampSignature"] = {
                    "timestamp": f"[{rfc3339(sig.timestamp.lower)}, {rfc3339(sig.timestamp.upper)}]",
                    "certificates": json_certificates(sig.timestamp.certificates),
                }
        user = sig.user_defined_attributes
        signatures.append(
            {
                "mediaType": sig.media_type,
                "digest": sig.digest,
                "signatureAlgorithm": sig.signature_algorithm,
                "signedAttributes": dict(sorted(_signed_attributes(sig, rfc3339))),
                "userDefinedAttributes": dict(sorted(user.items())) if user else None,
                "unsignedAttributes": dict(sorted(unsigned.items())),
                "certificates": json_certificates(sig.certificates),
                "signedArtifact": json_signed_artifact(sig),
            }
        )
    return {"mediaType": result.media_type, "Signatures": signatures}


def _args(args: list[str]) -> None:
    require_reference("inspect")(args)


def render_tree(result: InspectResult) -> str:
    """``-o tree``, as Go 2.0 spells and draws it (signature nodes of ``tree/inspect_helper.go``); 1.3's text
    form stays the default."""
    from notation._internal.cli.blob import signature_tree_node
    from notation._internal.oci import mediatypes

    if not result.signatures:
        return f"{result.reference} has no associated signature\n"
    root = Node(result.reference)
    group = root.add(mediatypes.NOTARY_SIGNATURE)
    for sig in result.signatures:
        group.children.append(signature_tree_node(sig.digest, sig.media_type, sig))
    return "Inspecting all signatures for signed artifact\n" + root.render()


def _pre_run(values: dict[str, object], changed: set[str]) -> None:
    if values["output"] not in ("text", "json", "tree"):
        raise CommandError(f"unrecognized output format {values['output']}")


def _run(inv: Invocation) -> None:
    from notation._internal.config.fileio import go_json
    from notation._internal.workflows.inspect import inspect_artifact

    setup_logging(inv)
    take_credentials(inv)  # CLI-09: before anything (plugins included) runs
    output = inv.flag_str("output")
    max_signatures = inv.flag_int("max-signatures")
    check_max_signatures(max_signatures)
    if "allow-referrers-api" in inv.changed:
        inv.warn("flag '--allow-referrers-api' is deprecated and will be removed in future versions.")
    with open_target(inv, inv.args[0], oci_layout=inv.flag_bool("oci-layout")) as target:
        subject = resolve_target(inv, target, "inspect")
        result = inspect_artifact(target.store, subject.digest, max_signatures=max_signatures)
    for warning in result.warnings:
        inv.warn(warning)
    if output == "json":
        inv.stdout.write(go_json(to_json(result)))
    else:
        inv.stdout.write(render_tree(result) if output == "tree" else render_text(result))
    if result.exceeded_limit is not None:
        inv.out(f"Warning: exceeded configured limit of max signatures {result.exceeded_limit} to examine")
    if result.skipped:
        raise CommandError("at least one signature was skipped and not displayed")


def command() -> Command:
    return Command(
        "inspect [reference]",
        "Inspect all signatures associated with the signed artifact",
        long=_LONG,
        experimental_examples=_EXPERIMENTAL_EXAMPLES,
        flags=[
            *debug_flags(),
            max_signatures_flag(),
            Flag("output", "string", "output format, options: 'json', 'text'", short="o", default="text"),
            *registry_flags(),
            # notation-py extension (Go 1.3 inspect has no layout support): same gate as on list/sign/verify.
            Flag(
                "oci-layout",
                "bool",
                "[Experimental] inspect the artifact stored as OCI image layout",
                experimental=True,
            ),
            allow_referrers_api_flag("inspect"),
        ],
        run=_run,
        pre_run=_pre_run,
        args=_args,
    )
