"""``notation certificate add|list|show|delete|generate-test|cleanup-test`` (CLI-120..124): the x509 trust store."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from notation._internal.cli.common import debug_flags, setup_logging
from notation._internal.cli.framework import Command, CommandError, Flag, Invocation
from notation._internal.cli.output import confirm, table

if TYPE_CHECKING:
    from cryptography import x509

    from notation._internal.trust.store import TrustStore

STORE_TYPES = ("ca", "signingAuthority", "tsa")
_STORE_NAME = re.compile(r"^[a-zA-Z0-9_.-]+$")
_DASHES = "-" * 80
_TYPE_HELP = "specify trust store type, options: ca, signingAuthority, tsa"


def _trust_store() -> TrustStore:
    from notation._internal.config import dirs
    from notation._internal.trust.store import TrustStore

    return TrustStore(dirs.config_dir() / "truststore")


def _check_type_and_store(store_type: str, store_name: str) -> None:
    if not store_type:
        raise CommandError("store type cannot be empty")
    if store_type not in STORE_TYPES:
        raise CommandError(f"unsupported store type: {store_type}")
    if not _STORE_NAME.match(store_name):
        raise CommandError("named store name needs to follow [a-zA-Z0-9_.-]+ format")


# -- add ---------------------------------------------------------------------------------------------------------


def _add_args(args: list[str]) -> None:
    if not args:
        raise CommandError("missing certificate path")


def _add(inv: Invocation) -> None:
    from notation.errors import NotationError

    store_type, store_name = inv.flag_str("type"), inv.flag_str("store")
    _check_type_and_store(store_type, store_name)
    ts = _trust_store()
    added: list[str] = []
    failed: list[tuple[str, str]] = []
    for path in inv.args:
        try:
            ts.add(store_type, store_name, Path(path))
        except NotationError as exc:
            failed.append((path, str(exc)))
        else:
            added.append(path)
    if added:
        inv.out(f"Successfully added following certificates to named store {store_name} of type {store_type}:")
        for path in added:
            inv.out(path)
    if failed:
        lines = "".join(f'{path}, with error "{err}"\n' for path, err in failed)
        raise CommandError(
            f"Failed to add following certificates to named store {store_name} of type {store_type}:\n{lines}"
        )


# -- list --------------------------------------------------------------------------------------------------------


def _list(inv: Invocation) -> None:
    setup_logging(inv)
    store_type, store_name = inv.flag_str("type"), inv.flag_str("store")
    # The trust store words its errors after the filter given (CLI-121); an unknown --type lists nothing.
    entries = _trust_store().list(store_type or None, store_name or None)
    if not entries:
        return
    rows = [["STORE TYPE", "STORE NAME", "CERTIFICATE"]]
    rows += [[t, n, Path(str(f)).name] for t, n, f in entries]
    inv.stdout.write(table(rows))


# -- show --------------------------------------------------------------------------------------------------------


def _show_args(args: list[str]) -> None:
    if not args:
        raise CommandError("missing certificate file name")
    if len(args) > 1:
        raise CommandError("show only supports single certificate file")


def go_time(value: Any) -> str:
    """Go's time.Time.String() for a UTC time: ``2006-01-02 15:04:05 +0000 UTC``."""
    return str(value.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"))


def _describe(cert: x509.Certificate) -> list[str]:
    from cryptography import x509 as _x509

    from notation._internal.x509.dn import go_name_string
    from notation._internal.x509.keys import thumbprint_sha256

    try:
        is_ca = cert.extensions.get_extension_for_class(_x509.BasicConstraints).value.ca
    except _x509.ExtensionNotFound:
        is_ca = False
    return [
        f"Issuer: {go_name_string(cert.issuer)}",
        f"Subject: {go_name_string(cert.subject)}",
        f"Valid from: {go_time(cert.not_valid_before_utc)}",
        f"Valid to: {go_time(cert.not_valid_after_utc)}",
        f"IsCA: {'true' if is_ca else 'false'}",
        f"SHA256 Thumbprint: {thumbprint_sha256(cert)}",
    ]


def _show(inv: Invocation) -> None:
    setup_logging(inv)
    store_type, store_name = inv.flag_str("type"), inv.flag_str("store")
    _check_type_and_store(store_type, store_name)
    certs = _trust_store().show(store_type, store_name, inv.args[0])  # errors carry the full CLI-122 message
    inv.out("Certificate details")
    inv.out(_DASHES)
    for i, cert in enumerate(certs):
        for line in _describe(cert):
            inv.out(line)
        if i != len(certs) - 1:
            inv.out(_DASHES)


# -- delete ------------------------------------------------------------------------------------------------------


def _delete(inv: Invocation) -> None:
    setup_logging(inv)
    store_type, store_name = inv.flag_str("type"), inv.flag_str("store")
    delete_all = inv.flag_bool("all")
    if delete_all and inv.args:
        raise CommandError(
            "cannot delete a single certificate file when --all flag is set. use --help flag for more details"
        )
    if not delete_all and not inv.args:
        raise CommandError(
            "delete requires either the certificate file name that needs to be deleted or --all flag to delete all "
            "certificates in the given named trust store"
        )
    _check_type_and_store(store_type, store_name)
    ts = _trust_store()
    yes = inv.flag_bool("yes")
    if delete_all:
        prompt = f'Are you sure you want to delete all certificates in "{store_name}" of type "{store_type}"? [y/N] '
        removed = ts.delete_store(
            store_type, store_name, confirm=lambda: confirm(prompt, inv.stdin, inv.stdout, assume_yes=yes)
        )
        if removed is not None:
            inv.out(f"Successfully deleted {removed}")
        return
    name = inv.args[0]
    prompt = f'Are you sure you want to delete "{name}" in "{store_name}" of type "{store_type}"? [y/N] '
    deleted = ts.delete(
        store_type, store_name, name, confirm=lambda: confirm(prompt, inv.stdin, inv.stdout, assume_yes=yes)
    )
    if deleted is not None:
        inv.out(f"Successfully deleted {name}")


# -- generate-test / cleanup-test ----------------------------------------------------------------------------


def _generate_args(args: list[str]) -> None:
    if not args or not args[0]:
        raise CommandError("missing certificate common_name")


def _generate(inv: Invocation) -> None:
    from notation._internal.config.testcert import generate_test_certificate, validate_name

    name = inv.args[0]
    validate_name(name)
    ts = _trust_store()
    generate_test_certificate(
        name,
        inv.flag_int("bits"),
        mark_default=inv.flag_bool("default"),
        progress=inv.out,
        add_to_trust_store=lambda cert_path: ts.add("ca", name, cert_path),
    )


def _cleanup_args(args: list[str]) -> None:
    if not args or not args[0]:
        raise CommandError("missing certificate common_name")


def _cleanup(inv: Invocation) -> None:
    """Remove what generate-test made (Go 2.0's cleanup-test, offered here as well)."""
    from notation._internal.config import dirs
    from notation._internal.config.signingkeys import load_signing_keys, save_signing_keys
    from notation._internal.config.testcert import validate_name
    from notation.errors import NotationError

    name = inv.args[0]
    validate_name(name)
    prompt = (
        f"Are you sure you want to clean up test key {name} and its certificate, including the trust store, "
        "signing key and local key files? [y/N] "
    )
    if not confirm(prompt, inv.stdin, inv.stdout, assume_yes=inv.flag_bool("yes")):
        return
    ts = _trust_store()
    try:
        ts.delete("ca", name, f"{name}.crt")
        inv.out(f"Successfully deleted {name}.crt from trust store {name} of type ca")
    except NotationError as exc:
        inv.warn(f"{exc}")
    keys = load_signing_keys()
    if any(k.name == name for k in keys.keys):
        doc, _removed = keys.remove([name])
        save_signing_keys(doc)
        inv.out(f"Successfully removed {name} from the signing key list")
    key_path, cert_path = dirs.local_key_paths(name)
    for path in (key_path, cert_path):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        inv.out(f"Successfully deleted {path}")
    with contextlib.suppress(OSError):
        (dirs.config_dir() / "truststore" / "x509" / "ca" / name).rmdir()


def command() -> Command:
    type_required = Flag("type", "string", _TYPE_HELP, short="t", required=True)
    store_required = Flag("store", "string", "specify named store", short="s", required=True)
    add = Command(
        "add --type <type> --store <name> [flags] <cert_path>...",
        "Add certificates to the trust store.",
        long="Add certificates to the trust store\n\n"
        'Example - Add a certificate to the "ca" type of a named store "acme-rockets":\n'
        "  notation cert add --type ca --store acme-rockets acme-rockets.crt\n\n"
        'Example - Add a certificate to the "signingAuthority" type of a named store "wabbit-networks":\n'
        "  notation cert add --type signingAuthority --store wabbit-networks wabbit-networks.pem\n\n"
        'Example - Add a certificate to the "tsa" type of a named store "timestamp":\n'
        "  notation cert add -t tsa -s timestamp wabbit-networks-timestamp.pem\n",
        flags=[
            Flag("type", "string", _TYPE_HELP, short="t", required=True),
            Flag("store", "string", "specify named store", short="s", required=True),
        ],
        run=_add,
        args=_add_args,
    )
    ls = Command(
        "list [flags]",
        "List certificates in the trust store.",
        long="List certificates in the trust store\n\n"
        "Example - List all certificate files stored in the trust store\n"
        "  notation cert ls\n\n"
        'Example - List all certificate files of trust store "acme-rockets"\n'
        '  notation cert ls --store "acme-rockets"\n\n'
        'Example - List all certificate files from trust store of type "ca"\n'
        "  notation cert ls --type ca\n",
        aliases=("ls",),
        flags=[
            *debug_flags(),
            Flag("store", "string", "specify named store", short="s"),
            Flag("type", "string", _TYPE_HELP, short="t"),
        ],
        run=_list,
    )
    show = Command(
        "show --type <type> --store <name> [flags] <cert_fileName>",
        "Show certificate details given trust store type, named store, and certificate file name. If the "
        "certificate file contains multiple certificates, then all certificates are displayed.",
        long="Show certificate details of given trust store name, trust store type, and certificate file name. If "
        "the certificate file contains multiple certificates, then all certificates are displayed\n\n"
        'Example - Show details of certificate "cert1.pem" with type "ca" from trust store "acme-rockets":\n'
        "  notation cert show --type ca --store acme-rockets cert1.pem\n",
        flags=[*debug_flags(), type_required, store_required],
        run=_show,
        args=_show_args,
    )
    delete = Command(
        "delete --type <type> --store <name> [flags] (--all | <cert_fileName>)",
        "Delete certificates from the trust store.",
        long="Delete certificates from the trust store\n\n"
        'Example - Delete all certificates with "ca" type from the trust store "acme-rockets":\n'
        "  notation cert delete --type ca --store acme-rockets --all\n\n"
        'Example - Delete certificate "cert1.pem" with "signingAuthority" type from trust store wabbit-networks:\n'
        "  notation cert delete --type signingAuthority --store wabbit-networks cert1.pem\n",
        flags=[
            Flag("all", "bool", "delete all certificates in the named store", short="a"),
            Flag("store", "string", "specify named store", short="s", required=True),
            Flag("type", "string", _TYPE_HELP, short="t", required=True),
            Flag("yes", "bool", "do not prompt for confirmation", short="y"),
        ],
        run=_delete,
    )
    generate = Command(
        "generate-test [flags] <common_name>",
        "Generate a test RSA key and a corresponding self-signed certificate.",
        long="Generate a test RSA key and a corresponding self-signed certificate.\n\n"
        'Example - Generate a test RSA key and a corresponding self-signed certificate named "wabbit-networks.io":\n'
        '  notation cert generate-test "wabbit-networks.io"\n\n'
        "Example - Generate a test RSA key and a corresponding self-signed certificate, set RSA key as a default "
        "signing key:\n"
        '  notation cert generate-test --default "wabbit-networks.io"\n',
        flags=[
            Flag("bits", "int", "RSA key bits", short="b", default=2048),
            Flag("default", "bool", "mark as default signing key"),
        ],
        run=_generate,
        args=_generate_args,
    )
    cleanup = Command(
        "cleanup-test [flags] <common_name>",
        "Clean up a test RSA key and its corresponding certificate that were generated using the "
        '"generate-test" command.',
        flags=[Flag("yes", "bool", "do not prompt for confirmation", short="y")],
        run=_cleanup,
        args=_cleanup_args,
        hidden=False,
    )
    return Command(
        "certificate",
        "Manage certificates in trust store",
        aliases=("cert",),
        children=[add, cleanup, delete, generate, ls, show],
    )
