"""``notation policy import|show`` (CLI-130/131): the OCI trust policy file in {CONFIG}."""

from __future__ import annotations

from pathlib import Path

from notation._internal.cli.framework import Command, CommandError, Flag, Invocation, no_args, read_input_file
from notation._internal.cli.output import confirm, write_document

_IMPORT_USAGE = "notation policy import <path-to-policy.json>"


def _import_args(args: list[str]) -> None:
    if len(args) != 1:
        raise CommandError(
            f"requires 1 argument but received {len(args)}.\nUsage: {_IMPORT_USAGE}\n"
            "Please specify a trust policy file location as the argument"
        )


def _os_error(op: str, path: str, exc: OSError) -> str:
    reason = (exc.strerror or str(exc)).lower()
    return f"{op} {path}: {reason}"


def _write_policy(inv: Invocation, data: bytes) -> Path | None:
    """Write the OCI trust policy file atomically after Go's overwrite rule; None when the user declined."""
    from notation._internal.config import dirs
    from notation._internal.config.fileio import atomic_write
    from notation._internal.trust.policy import TrustPolicyDocument
    from notation.errors import NotationError

    config_dir = dirs.config_dir()
    if inv.flag_bool("force"):  # Go warns whether or not a file exists
        inv.warn("existing trust policy configuration file will be overwritten")
    else:
        try:
            TrustPolicyDocument.load(config_dir)
            exists = True
        except NotationError:
            exists = False
        if exists and not confirm(
            "The trust policy file already exists, do you want to overwrite it? [y/N] ", inv.stdin, inv.stdout
        ):
            return None
    target = config_dir / dirs.TRUST_POLICY_FILE
    try:
        atomic_write(target, data)
    except OSError as exc:
        raise CommandError(f"failed to write trust policy file: {_os_error('open', str(target), exc)}") from None
    return target


def _import(inv: Invocation) -> None:
    from notation._internal.config import dirs
    from notation._internal.trust.policy import TrustPolicyDocument
    from notation.errors import NotationError, TrustPolicyError

    path = inv.args[0]
    data = read_input_file(
        path,
        4 * 1024 * 1024,
        "failed to read trust policy file: ",
        f"failed to read trust policy file: {path} is larger than 4 MiB",
    )
    try:
        doc = TrustPolicyDocument.parse(data, validate=False)
    except NotationError as exc:
        raise CommandError(f"failed to parse trust policy configuration: {exc}") from None
    try:
        doc = doc.validated()
    except TrustPolicyError as exc:
        raise CommandError(f"failed to validate trust policy: {exc}") from None
    for warning in doc.warnings:
        inv.warn(warning)
    config_dir = dirs.config_dir()
    target = _write_policy(inv, data)
    if target is None:
        return
    inv.out("Trust policy configuration imported successfully.")
    if (config_dir / dirs.TRUST_POLICY_OCI_FILE).exists():  # TP-01: that file wins over the one just written
        inv.warn(f"{config_dir / dirs.TRUST_POLICY_OCI_FILE} exists and takes precedence over {target}")


def _init(inv: Invocation) -> None:
    """notation-py extension (the issue asks for it; Go 2.0 has it for blob policies only): one statement."""
    from notation._internal.config.fileio import go_json
    from notation._internal.trust.policy import TrustPolicyDocument
    from notation.errors import TrustPolicyError

    scopes = inv.flag_list("registry-scope") or ["*"]
    document = {
        "version": "1.0",
        "trustPolicies": [
            {
                "name": inv.flag_str("name"),
                "registryScopes": scopes,
                "signatureVerification": {"level": "strict"},
                "trustStores": inv.flag_list("trust-store"),
                "trustedIdentities": inv.flag_list("trusted-identity"),
            }
        ],
    }
    data = go_json(document).encode()
    try:
        TrustPolicyDocument.parse(data)
    except TrustPolicyError as exc:
        raise CommandError(f"failed to validate trust policy: {exc}") from None
    target = _write_policy(inv, data)
    if target is not None:
        inv.out(f"Successfully initialized trust policy file to {target.absolute()}.")


def _show(inv: Invocation) -> None:
    import os
    import stat

    from notation._internal.config import dirs
    from notation._internal.trust.policy import TrustPolicyDocument
    from notation.errors import NotationError

    config_dir = dirs.config_dir()
    path = config_dir / dirs.TRUST_POLICY_OCI_FILE
    if not os.path.lexists(path):
        path = config_dir / dirs.TRUST_POLICY_FILE
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            raise CommandError(
                "failed to show trust policy: trust policy is not a regular file (symlinks are not supported)"
            )
        with open(path, "rb") as fh:
            data = fh.read(4 * 1024 * 1024 + 1)
    except FileNotFoundError:
        raise CommandError(
            "failed to show trust policy as the trust policy file does not exist.\n"
            f"You can import one using `{_IMPORT_USAGE}`"
        ) from None
    except OSError as exc:
        raise CommandError(f"failed to show trust policy: {_os_error('open', str(path), exc)}") from None
    try:
        TrustPolicyDocument.parse(data)
    except NotationError as exc:
        inv.err(f"Error: {exc}")
        inv.err(
            f"Existing trust policy configuration is invalid, you may update or create a new one via `{_IMPORT_USAGE}`"
        )
    write_document(inv.stdout, data)


def command() -> Command:
    imp = Command(
        "import [flags] <file_path>",
        "[Preview] Import trust policy configuration from a JSON file",
        long="[Preview] Import trust policy configuration from a JSON file\n\n"
        "Example - Import trust policy configuration from a file:\n"
        "  notation policy import my_policy.json\n\n"
        "Example - Import trust policy and override existing configuration without prompt:\n"
        "  notation policy import --force my_policy.json\n",
        flags=[Flag("force", "bool", "override the existing trust policy configuration, never prompt")],
        run=_import,
        args=_import_args,
    )
    show = Command(
        "show [flags]",
        "[Preview] Show trust policy configuration",
        long="[Preview] Show trust policy configuration\n\n"
        "Example - Show current trust policy configuration:\n"
        "  notation policy show\n\n"
        "Example - Save current trust policy configuration to a file:\n"
        "  notation policy show > my_policy.json\n",
        run=_show,
        args=no_args,
    )
    init = Command(
        "init [flags] --name <policy_name> --trust-store <type:name> --trusted-identity <identity>",
        "Initialize an OCI trust policy configuration with one statement",
        long="Initialize an OCI trust policy configuration with one strict statement (notation-py extension)\n\n"
        "Example - Trust artifacts from every registry signed by certificates chaining to trust store ca:acme:\n"
        '  notation policy init --name acme --trust-store ca:acme --trusted-identity "*"\n\n'
        "Example - Restrict the statement to one repository and one signer identity:\n"
        "  notation policy init --name acme --registry-scope registry.acme.io/app --trust-store ca:acme "
        '--trusted-identity "x509.subject: C=US, ST=WA, O=acme"\n',
        flags=[
            Flag("force", "bool", "override the existing trust policy configuration, never prompt"),
            Flag("name", "string", "name of the trust policy statement", required=True),
            Flag("registry-scope", "stringArray", 'registry scope of the statement (default "*": every artifact)'),
            Flag("trust-store", "stringArray", "trust store in the form <type>:<name>", required=True),
            Flag("trusted-identity", "stringArray", 'trusted identity, "*" or "x509.subject: <DN>"', required=True),
        ],
        run=_init,
    )
    return Command(
        "policy [command]",
        "Manage trust policy configuration",
        long="[Preview] Manage trust policy configuration for signature verification.",
        children=[imp, init, show],
    )
