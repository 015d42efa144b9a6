"""Flags and helpers shared by several commands: logging flags, registry credentials, k=v maps, store opening.

Nothing heavy is imported here at module level: these run on every CLI start-up.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from notation._internal.cli.framework import CommandError, Flag, Invocation
from notation._internal.records import dataclass
from notation._internal.stores import is_digest, resolve_in_store
from notation._internal.verifier import tag_warning

if TYPE_CHECKING:
    from notation._internal.oci.descriptor import Descriptor
    from notation._internal.oci.store import ArtifactStore


def debug_flags() -> list[Flag]:
    return [
        Flag("debug", "bool", "debug mode", short="d"),
        Flag("verbose", "bool", "verbose mode", short="v"),
    ]


def registry_flags(*, insecure: bool = True) -> list[Flag]:
    flags = [
        Flag(
            "username",
            "string",
            "username for registry operations (default to $NOTATION_USERNAME if not specified)",
            short="u",
        ),
        Flag(
            "password",
            "string",
            "password for registry operations (default to $NOTATION_PASSWORD if not specified)",
            short="p",
        ),
    ]
    if insecure:
        flags.append(
            Flag(
                "insecure-registry",
                "bool",
                "use HTTP protocol while connecting to registries. Should be used only for testing",
            )
        )
    return flags


def max_signatures_flag() -> Flag:
    return Flag("max-signatures", "int", "maximum number of signatures to evaluate or examine", default=100)


def allow_referrers_api_flag(op: str) -> Flag:
    return Flag(
        "allow-referrers-api",
        "bool",
        f"[Experimental] use the Referrers API to {op} signatures, if not supported (returns 404), fallback to the "
        "Referrers tag schema",
        hidden=True,
        experimental=True,
    )


def setup_logging(inv: Invocation) -> None:
    """CLI-06: -v info, -d debug (wins), Go's logrus text lines on stderr; silent otherwise."""
    from notation._internal import log

    log.configure_cli(inv.stderr, debug=bool(inv.values.get("debug")), verbose=bool(inv.values.get("verbose")))


def parse_flag_map(pairs: list[str], flag_name: str) -> dict[str, str]:
    """Go's ParseFlagMap: one ``k=v`` per occurrence, split at the first ``=``, both sides non-empty."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise CommandError(f'could not parse flag {flag_name}: key-value pair requires "=" as separator')
        if key in out:
            raise CommandError(f"could not parse flag {flag_name}: duplicate key {key}")
        out[key] = value
    return out


def require_reference(op: str) -> Any:
    def check(args: list[str]) -> None:
        if not args:
            raise CommandError(
                f"missing reference to the artifact: use `notation {op} --help` to see what parameters are required"
            )

    return check


def check_max_signatures(value: int) -> None:
    if value <= 0:
        raise CommandError(f"max-signatures value {value} must be a positive number")


@dataclass
class Credentials:
    username: str
    password: str


def take_credentials(inv: Invocation) -> Credentials:
    """CLI-09/CLI-35: flags, else $NOTATION_USERNAME/$NOTATION_PASSWORD, which are then removed from the env.

    Called first thing by every command that has the registry flags, so that no plugin or credential helper
    started later inherits the variables (layout commands included).
    """
    cached = inv.values.get("_credentials")
    if isinstance(cached, Credentials):
        return cached
    env_user = os.environ.pop("NOTATION_USERNAME", "")
    env_pass = os.environ.pop("NOTATION_PASSWORD", "")
    username = inv.flag_str("username") if "username" in inv.changed else env_user
    password = inv.flag_str("password") if "password" in inv.changed else env_pass
    creds = Credentials(username, password)
    inv.values["_credentials"] = creds
    return creds


@dataclass
class Target:
    """An opened artifact store and the tag or digest to resolve in it."""

    store: ArtifactStore
    ref: str
    display: str

    @property
    def is_tag(self) -> bool:
        return not is_digest(self.ref)


@contextmanager
def open_target(
    inv: Invocation,
    reference: str,
    *,
    oci_layout: bool,
    force_referrers_tag: bool = True,
) -> Iterator[Target]:
    """Open the OCI layout or the registry repository that ``reference`` names; closed on exit."""
    from notation._internal.stores import RegistryOptions, open_store

    options = None
    if not oci_layout:
        from notation._internal.config.config_file import load_config_lenient
        from notation._internal.config.dirs import config_dir
        from notation._internal.oci.reference import parse_reference

        creds = take_credentials(inv)
        registry = parse_reference(reference).registry
        insecure = bool(inv.values.get("insecure-registry")) or load_config_lenient().is_insecure(registry)
        options = RegistryOptions(
            username=creds.username,
            password=creds.password,
            insecure=insecure,
            force_referrers_tag=force_referrers_tag,
            config_dir=config_dir(),
        )
    store, ref = open_store(reference, oci_layout=oci_layout, options=options)
    try:
        yield Target(store, ref, store.display_name)
    finally:
        store.close()


def resolve_target(inv: Invocation, target: Target, op: str) -> Descriptor:
    """CLI-31: resolve the tag or digest (errors as ``failed to get manifest descriptor: <e>``), warn about tags."""
    subject = resolve_in_store(target.store, target.ref)
    if target.is_tag:
        inv.warn(tag_warning(op, target.ref))
    return subject


def stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def verification_flags() -> list[Flag]:
    """The plugin config and required user metadata flags ``verify`` and ``blob verify`` share."""
    return [
        Flag(
            "plugin-config",
            "stringArray",
            "{key}={value} pairs that are passed as it is to a plugin, if the verification is associated with a "
            "verification plugin, refer plugin documentation to set appropriate values",
        ),
        Flag(
            "user-metadata",
            "stringArray",
            "user defined {key}={value} pairs that must be present in the signature for successful verification "
            "if provided",
            short="m",
        ),
    ]
