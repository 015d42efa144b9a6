# ruff: noqa: E501  (help texts are kept verbatim, one line per paragraph)
"""``notation sign`` (cli.md §6, CLI-40..45)."""

from __future__ import annotations

from typing import Any

from notation._internal.cli.batch import DEFAULT_PARALLEL, check_parallel
from notation._internal.cli.common import (
    allow_referrers_api_flag,
    debug_flags,
    open_target,
    parse_flag_map,
    registry_flags,
    require_reference,
    resolve_target,
    setup_logging,
    take_credentials,
)
from notation._internal.cli.framework import Command, CommandError, Flag, Invocation

_FORMATS = {"jws": "application/jose+json", "cose": "application/cose"}
_NS_PER_SECOND = 1_000_000_000

_LONG = """Sign artifacts

Note: a signing key must be specified. This can be done temporarily by specifying a key ID, or a new key can be configured using the command "notation key add"

Example - Sign an OCI artifact using the default signing key, with the default JWS envelope, and use OCI image manifest to store the signature:
  notation sign <registry>/<repository>@<digest>

Example - Sign an OCI artifact using the default signing key, with the COSE envelope:
  notation sign --signature-format cose <registry>/<repository>@<digest>\x20

Example - Sign an OCI artifact with a specified plugin and signing key stored in KMS\x20
  notation sign --plugin <plugin_name> --id <remote_key_id> <registry>/<repository>@<digest>

Example - Sign an OCI artifact using a specified key
  notation sign --key <key_name> <registry>/<repository>@<digest>

Example - Sign an OCI artifact identified by a tag (Notation will resolve tag to digest)
  notation sign <registry>/<repository>:<tag>

Example - Sign an OCI artifact stored in a registry and specify the signature expiry duration, for example 24 hours
  notation sign --expiry 24h <registry>/<repository>@<digest>

Example - Sign an OCI artifact and store signature using the Referrers API. If it's not supported, fallback to the Referrers tag schema
  notation sign --force-referrers-tag=false <registry>/<repository>@<digest>

Example - Sign an OCI artifact with timestamping:
  notation sign --timestamp-url <TSA_url> --timestamp-root-cert <TSA_root_certificate_filepath> <registry>/<repository>@<digest>\x20
"""

_EXPERIMENTAL_EXAMPLES = """
Example - [Experimental] Sign an OCI artifact referenced in an OCI layout
  notation sign --oci-layout "<oci_layout_path>@<digest>"

Example - [Experimental] Sign an OCI artifact identified by a tag and referenced in an OCI layout
  notation sign --oci-layout "<oci_layout_path>:<tag>"
"""


def _default_format() -> str:
    """``signatureFormat`` from config.json (as written there, like Go), else ``jws`` (CLI-20)."""
    from notation._internal.config.config_file import load_config_lenient

    return load_config_lenient().signature_format or "jws"


def expiry_from_ns(ns: int) -> Any:
    """CLI-44 with Go's nanosecond precision, then a timedelta for the workflow (None = no expiry)."""
    import datetime as dt

    if ns < 0:
        raise CommandError("expiry duration cannot be a negative value")
    if ns % _NS_PER_SECOND:
        raise CommandError("expiry duration supports minimum granularity of seconds")
    return dt.timedelta(seconds=ns // _NS_PER_SECOND) if ns else None


def _signer(inv: Invocation, plugin_config: dict[str, str]) -> Any:
    """CLI-42 step 1: on-demand plugin key (--id/--plugin), else the named or default key."""
    from notation._internal.config.dirs import libexec_dir
    from notation._internal.config.signingkeys import load_signing_keys

    plugin_name, key_id = inv.flag_str("plugin"), inv.flag_str("id")
    if "key" not in inv.changed and (plugin_name or key_id):
        from notation._internal.plugin.manager import PluginManager
        from notation._internal.plugin.signer import make_plugin_signer

        return make_plugin_signer(PluginManager(libexec_dir()), plugin_name, key_id, plugin_config)
    key = load_signing_keys().resolve(inv.flag_str("key"))
    if key.is_external:
        from notation._internal.plugin.manager import PluginManager
        from notation._internal.plugin.signer import make_plugin_signer

        config = {**key.plugin_config, **plugin_config}
        return make_plugin_signer(PluginManager(libexec_dir()), key.plugin_name, key.id, config)
    from notation._internal.x509.keys import load_local_signer

    return load_local_signer(key.key_path, key.cert_path)


def _pre_run(values: dict[str, object], changed: set[str]) -> None:
    """CLI-40: an explicitly empty --timestamp-url / --timestamp-root-cert, before the flag-group checks."""
    for flag in ("timestamp-url", "timestamp-root-cert"):
        if flag in changed and not values[flag]:
            what = "tsa url" if flag == "timestamp-url" else "tsa root certificate path"
            raise CommandError(f"timestamping: {what} cannot be empty")


def _run(inv: Invocation) -> int | None:
    from notation._internal.workflows.sign import sign_artifact

    setup_logging(inv)
    take_credentials(inv)  # CLI-09: before anything (plugins included) runs
    reference = inv.args[0]
    force_referrers_tag = inv.flag_bool("force-referrers-tag")
    if "allow-referrers-api" in inv.changed:
        if inv.flag_bool("allow-referrers-api"):
            inv.warn(
                "flag '--allow-referrers-api' is deprecated and will be removed in future versions, use "
                "'--force-referrers-tag=false' instead."
            )
            force_referrers_tag = False
        else:
            inv.warn("flag '--allow-referrers-api' is deprecated and will be removed in future versions.")

    plugin_config_raw = inv.flag_list("plugin-config")
    try:  # a malformed --plugin-config is reported at its own step (CLI-42 step 3), after signer errors
        early_config = parse_flag_map(plugin_config_raw, "plugin-config")
    except CommandError:
        early_config = {}
    signer = _signer(inv, early_config)
    parallel = inv.flag_int("parallel")
    check_parallel(parallel)
    if len(inv.args) > 1 or inv.flag_bool("recursive"):
        return _sign_many(inv, signer, plugin_config_raw, force_referrers_tag, parallel)
    with open_target(
        inv, reference, oci_layout=inv.flag_bool("oci-layout"), force_referrers_tag=force_referrers_tag
    ) as target:
        media_type = _envelope_media_type(inv.flag_str("signature-format"))
        parse_flag_map(plugin_config_raw, "plugin-config")
        metadata = parse_flag_map(inv.flag_list("user-metadata"), "user-metadata")
        timestamp_url = inv.flag_str("timestamp-url")
        timestamper = _timestamper(timestamp_url, inv.flag_str("timestamp-root-cert")) if timestamp_url else None
        subject = resolve_target(inv, target, "sign")
        expiry = expiry_from_ns(inv.flag_int("expiry"))  # checked where notation-go checks it: when signing
        result = sign_artifact(
            target.store,
            subject,
            signer,
            envelope_media_type=media_type,
            expiry=expiry,
            user_metadata=metadata or None,
            timestamper=timestamper,
        )
    for warning in result.warnings:
        inv.warn(warning)
    inv.out(f"Successfully signed {result.reference}")
    return None


def _sign_many(
    inv: Invocation, signer: Any, plugin_config_raw: list[str], force_referrers_tag: bool, parallel: int
) -> int:
    """Several references and/or ``--recursive`` (notation-py): the same checks, then one line per reference."""
    from notation._internal.cli.batch import SignJob, StoreOpener, sign_many

    media_type = _envelope_media_type(inv.flag_str("signature-format"))
    parse_flag_map(plugin_config_raw, "plugin-config")
    metadata = parse_flag_map(inv.flag_list("user-metadata"), "user-metadata")
    timestamp_url = inv.flag_str("timestamp-url")
    timestamper = _timestamper(timestamp_url, inv.flag_str("timestamp-root-cert")) if timestamp_url else None
    job = SignJob(
        signer=signer,
        envelope_media_type=media_type,
        expiry=expiry_from_ns(inv.flag_int("expiry")),
        user_metadata=metadata or None,
        timestamper=timestamper,
        recursive=inv.flag_bool("recursive"),
    )
    opener = StoreOpener(inv, oci_layout=inv.flag_bool("oci-layout"), force_referrers_tag=force_referrers_tag)
    try:
        return sign_many(inv, inv.args, opener, job, parallel=parallel)
    finally:
        opener.close()


def _envelope_media_type(fmt: str) -> str:
    media_type = _FORMATS.get(fmt.lower())
    if media_type is None:
        raise CommandError(
            f'signature format "{fmt}" not supported\nSupported signature envelope formats are "jws" and "cose"'
        )
    return media_type


def _timestamper(url: str, root_cert: str) -> Any:
    """CLI-42 TSA setup: the URL (http/https with a host) and a root file with exactly one self-signed root."""
    from notation._internal.timestamp import check_tsa_url, load_tsa_root, request_timestamp
    from notation.errors import TimestampError

    try:
        check_tsa_url(url)
    except TimestampError as exc:  # notation 1.3.2 wraps tspclient-go's URL errors like this
        raise TimestampError(f"cannot get http timestamper for timestamping: {exc}") from exc
    root = load_tsa_root(root_cert)

    def timestamper(signature: bytes, algorithm: Any) -> bytes:
        return request_timestamp(url, signature, algorithm.hash_name, root)

    return timestamper


def signing_flags() -> list[Flag]:
    """The signer, envelope, expiry, user metadata and timestamping flags ``sign`` and ``blob sign`` share."""
    return [
        Flag(
            "expiry",
            "duration",
            'optional expiry that provides a "best by use" time for the artifact. The duration is specified in '
            "minutes(m) and/or hours(h). For example: 12h, 30m, 3h20m",
            short="e",
        ),
        Flag("id", "string", "key id (required if --plugin is set). This is mutually exclusive with the --key flag"),
        Flag(
            "key",
            "string",
            "signing key name, for a key previously added to notation's key list. This is mutually exclusive "
            "with the --id and --plugin flags",
            short="k",
        ),
        Flag(
            "plugin",
            "string",
            "signing plugin name (required if --id is set). This is mutually exclusive with the --key flag",
        ),
        Flag(
            "plugin-config",
            "stringArray",
            "{key}={value} pairs that are passed as it is to a plugin, refer plugin's documentation to set "
            "appropriate values",
        ),
        Flag(
            "signature-format",
            "string",
            'signature envelope format, options: "jws", "cose"',
            default_factory=_default_format,
        ),
        Flag("timestamp-root-cert", "string", "filepath of timestamp authority root certificate"),
        Flag("timestamp-url", "string", "RFC 3161 Timestamping Authority (TSA) server URL"),
        Flag("user-metadata", "stringArray", "{key}={value} pairs that are added to the signature payload", short="m"),
    ]


def command() -> Command:
    return Command(
        "sign [flags] <reference>",
        "Sign artifacts",
        long=_LONG,
        experimental_examples=_EXPERIMENTAL_EXAMPLES,
        flags=[
            *debug_flags(),
            *signing_flags(),
            Flag(
                "force-referrers-tag", "bool", "force to store signatures using the referrers tag schema", default=True
            ),
            *registry_flags(),
            Flag(
                "oci-layout", "bool", "[Experimental] sign the artifact stored as OCI image layout", experimental=True
            ),
            allow_referrers_api_flag("sign"),
            Flag(
                "parallel",
                "int",
                "number of references signed at the same time (notation-py)",
                default=DEFAULT_PARALLEL,
            ),
            Flag(
                "recursive",
                "bool",
                "for an image index, also sign every platform manifest it lists (notation-py)",
            ),
        ],
        run=_run,
        pre_run=_pre_run,
        args=require_reference("sign"),
        exclusive=[("key", "id"), ("key", "plugin"), ("oci-layout", "force-referrers-tag", "allow-referrers-api")],
        together=[("id", "plugin"), ("timestamp-url", "timestamp-root-cert")],
    )
