"""``notation blob policy import|show|init``: ``{CONFIG}/trustpolicy.blob.json`` (Go main's blob/policy commands)."""

from __future__ import annotations

from pathlib import Path

from notation._internal.cli.framework import (
    Command,
    CommandError,
    Flag,
    Invocation,
    no_args,
    os_message,
    read_input_file,
)

_IMPORT_HINT = "notation blob policy import <path-to-policy.json>"
_MAX_POLICY_BYTES = 4 * 1024 * 1024
_PROMPT = "The blob trust policy configuration already exists, do you want to overwrite it? [y/N] "
_SPEC_LINK = (
    "https://github.com/notaryproject/specifications/blob/8cf800c60b7315a43f0adbcae463d848a353b412/specs/"
    "trust-store-trust-policy.md#trust-policy-for-blobs"
)


def _policy_path() -> Path:
    from notation._internal.config import dirs
    from notation._internal.trust.blob_policy import BLOB_POLICY_FILE

    return (dirs.config_dir() / BLOB_POLICY_FILE).absolute()


def _existing_policy_loads() -> bool:
    """Go's ``LoadBlobDocument() == nil``: the file exists, is regular and decodes (validity is not asked)."""
    from notation._internal.config import dirs
    from notation._internal.trust.blob_policy import BlobTrustPolicyDocument
    from notation.errors import NotationError

    try:
        BlobTrustPolicyDocument.load(dirs.config_dir(), validate=False)
    except NotationError:
        return False
    return True


def _write(inv: Invocation, data: bytes) -> Path | None:
    """The overwrite rule of import and init, then an atomic 0600 write; None when the user declined."""
    from notation._internal.cli.output import confirm
    from notation._internal.config.fileio import atomic_write

    if _existing_policy_loads():
        if not inv.flag_bool("force"):
            if not confirm(_PROMPT, inv.stdin, inv.stdout):
                return None
        else:
            inv.err("Warning: existing blob trust policy configuration will be overwritten")
    path = _policy_path()
    try:
        atomic_write(path, data)
    except OSError as exc:
        raise CommandError(f"failed to write blob trust policy configuration: {os_message(exc)}") from None
    return path


def _import_args(args: list[str]) -> None:
    if len(args) != 1:
        raise CommandError(
            f"requires 1 argument but received {len(args)}.\nUsage: {_IMPORT_HINT}\n"
            "Please specify a trust policy configuration location as the argument"
        )


def _import(inv: Invocation) -> None:
    from notation._internal.trust.blob_policy import BlobTrustPolicyDocument
    from notation.errors import NotationError

    path = inv.args[0]
    data = read_input_file(
        path,
        _MAX_POLICY_BYTES,
        "failed to read blob trust policy file: ",
        f"failed to read blob trust policy file: {path} is larger than 4 MiB",
    )
    try:
        doc = BlobTrustPolicyDocument.parse(data, validate=False)
    except NotationError as exc:
        raise CommandError(f"failed to parse blob trust policy configuration: {exc}") from None
    try:
        doc.validated()
    except NotationError as exc:
        raise CommandError(f"failed to validate blob trust policy configuration: {exc}") from None
    target = _write(inv, data)
    if target is not None:
        inv.out(f"Successfully imported blob trust policy configuration to {target}.")


def _show(inv: Invocation) -> None:
    import os
    import stat

    from notation._internal.cli.output import write_document
    from notation._internal.trust.blob_policy import BlobTrustPolicyDocument
    from notation.errors import NotationError

    path = _policy_path()
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise CommandError(f"failed to show trust policy: read {path}: is a directory")
        with open(path, "rb") as fh:
            data = fh.read(_MAX_POLICY_BYTES + 1)
    except FileNotFoundError:
        raise CommandError(
            "failed to show blob trust policy as the configuration does not exist.\n"
            f"You can import one using `{_IMPORT_HINT}`"
        ) from None
    except OSError as exc:
        raise CommandError(f"failed to show trust policy: {os_message(exc)}") from None
    if len(data) > _MAX_POLICY_BYTES:
        raise CommandError(f"failed to show trust policy: {path} is larger than 4 MiB")
    error: NotationError | None = None
    try:
        BlobTrustPolicyDocument.parse(data)
    except NotationError as exc:
        error = exc
        inv.err(
            "Existing blob trust policy configuration is invalid, you may update or create a new one via "
            f"`{_IMPORT_HINT}`. See {_SPEC_LINK} for a blob trust policy example."
        )
    write_document(inv.stdout, data)
    if error is not None:  # Go main prints the document, then fails with the reason
        raise CommandError(error.message)


def _init(inv: Invocation) -> None:
    from notation._internal.trust.blob_policy import BlobTrustPolicyDocument, BlobTrustPolicyStatement
    from notation.errors import NotationError

    statement = BlobTrustPolicyStatement(
        name=inv.flag_str("name"),
        level="strict",
        trust_store_values=tuple(inv.flag_list("trust-store")),
        trusted_identities=tuple(inv.flag_list("trusted-identity")),
        global_policy=inv.flag_bool("global"),
    )
    doc = BlobTrustPolicyDocument(version="1.0", statements=(statement,))
    try:
        doc.validated()
    except NotationError as exc:
        raise CommandError(f"invalid blob policy: {exc}") from None
    import json

    text = json.dumps(doc.to_json_document(), indent=2, ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, esc)
    target = _write(inv, text.encode())
    if target is not None:
        inv.out(f"Successfully initialized blob trust policy file to {target}.")


_INIT_LONG = """Initialize blob trust policy configuration.

Example - init a blob trust policy configuration with a trust store and a trusted identity:
  notation blob policy init --name examplePolicy --trust-store ca:exampleStore --trusted-identity "x509.subject: C=US, ST=WA, O=acme-rockets.io"

Example - init a blob trust policy configuration and set the policy statement as the global policy:
  notation blob policy init --name examplePolicy --trust-store ca:exampleStore --trusted-identity "x509.subject: C=US, ST=WA, O=acme-rockets.io" --global

Example - init a blob trust policy configuration with multiple trust stores and trusted identities:
  notation blob policy init --name examplePolicy --trust-store ca:exampleStore --trust-store ca:exampleStore2 --trusted-identity "x509.subject: C=US, ST=WA, O=acme-rockets.io" --trusted-identity "x509.subject: C=US, ST=WA, L=Seattle, O=wabbit-networks.io"

Example - init a blob trust policy configuration with any trusted identity:
  notation blob policy init --name examplePolicy --trust-store ca:exampleStore --trusted-identity "*"

Example - init a blob trust policy configuration without prompt:
  notation blob policy init --name examplePolicy --trust-store ca:exampleStore --trusted-identity "x509.subject: C=US, ST=WA, O=acme-rockets.io" --force
"""  # noqa: E501


def command() -> Command:
    imp = Command(
        "import [flags] <file_path>",
        "Import blob trust policy configuration from a JSON file",
        long="Import blob trust policy configuration from a JSON file.\n\n"
        'Example - Import blob trust policy configuration from a JSON file and store as "trustpolicy.blob.json":\n'
        "  notation blob policy import my_policy.json\n\n"
        "Example - Import blob trust policy and override existing configuration without prompt:\n"
        "  notation blob policy import --force my_policy.json\n",
        flags=[Flag("force", "bool", "override the existing blob trust policy configuration without prompt")],
        run=_import,
        args=_import_args,
    )
    show = Command(
        "show [flags]",
        "Show blob trust policy configuration",
        long="Show blob trust policy configuration.\n\n"
        "Example - Show current blob trust policy configuration:\n"
        "  notation blob policy show\n\n"
        "Example - Save current blob trust policy configuration to a file:\n"
        "  notation blob policy show > my_policy.json\n",
        run=_show,
        args=no_args,
    )
    init = Command(
        'init [flags] --name <policy_name> --trust-store "<store_type>:<store_name>" --trusted-identity '
        '"<trusted_identity>"',
        "Initialize blob trust policy configuration",
        long=_INIT_LONG,
        flags=[
            Flag("name", "string", "name of the blob trust policy", short="n", required=True),
            Flag(
                "trust-store",
                "stringArray",
                'trust store in the format "<store_type>:<store_name>"',
                required=True,
            ),
            Flag(
                "trusted-identity",
                "stringArray",
                'trusted identity, use the format "x509.subject:<subject_of_signing_certificate>" for x509 CA scheme '
                'and "<signing_authority_identity>" for x509 signingAuthority scheme',
                required=True,
            ),
            Flag(
                "force",
                "bool",
                "override the existing blob trust policy configuration, never prompt (default --force=false)",
            ),
            Flag("global", "bool", "set the policy as the global policy (default --global=false)"),
        ],
        run=_init,
        args=no_args,
    )
    return Command(
        "policy [command]",
        "Manage blob trust policy configuration for arbitrary blob signature verification",
        long="Manage blob trust policy configuration for arbitrary blob signature verification.",
        children=[imp, show, init],
    )
