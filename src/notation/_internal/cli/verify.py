# ruff: noqa: E501  (help texts are kept verbatim, one line per paragraph)
"""``notation verify`` (cli.md §7, CLI-50..54)."""

from __future__ import annotations

from typing import Any

from notation._internal.cli.batch import DEFAULT_PARALLEL, check_parallel
from notation._internal.cli.common import (
    allow_referrers_api_flag,
    check_max_signatures,
    debug_flags,
    max_signatures_flag,
    parse_flag_map,
    registry_flags,
    require_reference,
    setup_logging,
    take_credentials,
    verification_flags,
)
from notation._internal.cli.framework import Command, CommandError, Flag, Invocation

_LONG = """Verify OCI artifacts

Prerequisite: added a certificate into trust store and created a trust policy.

Example - Verify a signature on an OCI artifact identified by a digest:
  notation verify <registry>/<repository>@<digest>

Example - Verify a signature on an OCI artifact identified by a tag  (Notation will resolve tag to digest):
  notation verify <registry>/<repository>:<tag>
"""

_EXPERIMENTAL_EXAMPLES = """
Example - [Experimental] Verify a signature on an OCI artifact referenced in an OCI layout using trust policy statement specified by scope.
  notation verify --oci-layout <registry>/<repository>@<digest> --scope <trust_policy_scope>

Example - [Experimental] Verify a signature on an OCI artifact identified by a tag and referenced in an OCI layout using trust policy statement specified by scope.
  notation verify --oci-layout <registry>/<repository>:<tag> --scope <trust_policy_scope>
"""


def _verify_cache(inv: Invocation, config_dir: Any) -> Any:
    """``--cache`` or NOTATION_VERIFY_CACHE=1: the verification cache in {CACHE}/verify (off by default)."""
    from notation._internal import verifycache

    if not (inv.flag_bool("cache") or verifycache.enabled_by_env()):
        return None
    from notation._internal.config import dirs

    return verifycache.VerificationCache.open(dirs.cache_dir(), config_dir)


def _run(inv: Invocation) -> int | None:
    from notation._internal.config import dirs
    from notation._internal.verifier import Verifier

    setup_logging(inv)
    take_credentials(inv)  # CLI-09: before anything (plugins included) runs
    reference = inv.args[0]
    max_signatures = inv.flag_int("max-signatures")
    check_max_signatures(max_signatures)
    output = inv.flag_str("output")
    if output not in ("text", "json"):
        raise CommandError(f"unrecognized output format {output}")
    parallel = inv.flag_int("parallel")
    check_parallel(parallel)
    if "allow-referrers-api" in inv.changed:
        inv.warn("flag '--allow-referrers-api' is deprecated and will be removed in future versions.")
    config_dir = dirs.config_dir()
    creds = take_credentials(inv)
    # CLI-51: policy errors come first, as they are (the Verifier loads the policy when it is made).
    verifier = Verifier(
        config_dir=config_dir,
        username=creds.username,
        password=creds.password,
        plain_http=bool(inv.values.get("insecure-registry")),
        max_signatures=max_signatures,
        require_all_platforms=inv.flag_bool("require-all-platforms"),
    )
    with verifier:
        verifier.plugin_config = parse_flag_map(inv.flag_list("plugin-config"), "plugin-config")
        metadata = parse_flag_map(inv.flag_list("user-metadata"), "user-metadata")
        oci_layout = inv.flag_bool("oci-layout")
        verifier.cache = _verify_cache(inv, config_dir)
        scope = inv.flag_str("scope")
        if len(inv.args) > 1 or output == "json" or verifier.require_all_platforms:
            from notation._internal.cli.batch import verify_many

            return verify_many(inv, inv.args, verifier, oci_layout=oci_layout, scope=scope, user_metadata=metadata,
                               parallel=parallel, output=output)  # fmt: skip
        report = verifier.report(reference, user_metadata=metadata, oci_layout=oci_layout, scope=scope)
    for warning in report.warnings:  # CLI-31's tag warning, then the logged failures of the verified signature
        inv.warn(warning)
    if report.exception is not None:
        raise report.exception
    outcome = report.outcome
    assert outcome is not None
    print_verified(inv, outcome.reference, outcome)
    return None


def print_verified(inv: Invocation, name: str, outcome: Any) -> None:
    """Go's success report (``verify`` and ``blob verify``): the skip notice, or the success line and the signed
    user metadata as a table."""
    if outcome.skipped:
        inv.out(f"Trust policy is configured to skip signature verification for {name}")
        return
    inv.out(f"Successfully verified signature for {name}")
    user_metadata = outcome.verified.user_metadata if outcome.verified is not None else {}
    if user_metadata:
        inv.out()
        inv.out("The artifact was signed with the following user metadata.")
        inv.out()
        rows = [["KEY", "VALUE"], *([k, user_metadata[k]] for k in sorted(user_metadata))]
        from notation._internal.cli.output import table

        inv.stdout.write(table(rows))


def command() -> Command:
    return Command(
        "verify [reference]",
        "Verify OCI artifacts",
        long=_LONG,
        experimental_examples=_EXPERIMENTAL_EXAMPLES,
        flags=[
            *debug_flags(),
            max_signatures_flag(),
            *verification_flags(),
            *registry_flags(),
            Flag(
                "oci-layout", "bool", "[Experimental] verify the artifact stored as OCI image layout", experimental=True
            ),
            Flag(
                "scope",
                "string",
                "[Experimental] set trust policy scope for artifact verification, required and can only be used "
                'when flag "--oci-layout" is set',
                experimental=True,
            ),
            allow_referrers_api_flag("verify"),
            Flag(
                "output",
                "string",
                'output format, options: "json", "text" (notation-py: JSON report, see docs/extensions.md)',
                short="o",
                default="text",
            ),
            Flag(
                "parallel",
                "int",
                "number of references verified at the same time (notation-py)",
                default=DEFAULT_PARALLEL,
            ),
            Flag(
                "require-all-platforms",
                "bool",
                "for an image index, also require every platform manifest it lists to verify (notation-py)",
            ),
            Flag(
                "cache",
                "bool",
                "reuse passed verification results from {CACHE}/verify, also enabled by NOTATION_VERIFY_CACHE=1 "
                "(notation-py)",
            ),
        ],
        run=_run,
        args=require_reference("verify"),
        together=[("oci-layout", "scope")],
    )
