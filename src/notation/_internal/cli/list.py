"""``notation list`` / ``ls`` (cli.md §8, CLI-60/61)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    from notation._internal.oci.descriptor import Descriptor

_LONG = """List all the signatures associated with signed artifact

Example - List signatures of an OCI artifact:
  notation list <registry>/<repository>@<digest>

Example - List signatures of an OCI artifact identified by a tag  (Notation will resolve tag to digest)
  notation list <registry>/<repository>:<tag>
"""

_EXPERIMENTAL_EXAMPLES = """
Example - [Experimental] List signatures of an OCI artifact referenced in an OCI layout
  notation list --oci-layout "<oci_layout_path>@<digest>"

Example - [Experimental] List signatures of an OCI artifact identified by a tag and referenced in an OCI layout
  notation list --oci-layout "<oci_layout_path>:<tag>"
"""


def _run(inv: Invocation) -> None:
    from notation._internal.oci import mediatypes

    setup_logging(inv)
    take_credentials(inv)  # CLI-09: before anything (plugins included) runs
    max_signatures = inv.flag_int("max-signatures")
    check_max_signatures(max_signatures)
    output = inv.flag_str("output")
    if output not in ("text", "json"):
        raise CommandError(f"unrecognized output format {output}")
    if "allow-referrers-api" in inv.changed:
        inv.warn("flag '--allow-referrers-api' is deprecated and will be removed in future versions.")
    with open_target(inv, inv.args[0], oci_layout=inv.flag_bool("oci-layout")) as target:
        subject = resolve_target(inv, target, "list")
        display = f"{target.display}@{subject.digest}"
        found: list[Descriptor] = []
        exceeded = False
        for desc in target.store.list_signatures(subject):
            if len(found) >= max_signatures:
                exceeded = True
                break
            found.append(desc)
    if output == "json":
        from notation._internal.cli.report import list_document, write_json

        write_json(inv.stdout, list_document(display, subject, found, exceeded))
        return
    digests = [desc.digest for desc in found]
    if not digests:
        inv.out(f"{display} has no associated signature")
    else:
        root = Node(display)
        group = root.add(mediatypes.NOTARY_SIGNATURE)
        for digest in digests:
            group.add(digest)
        inv.stdout.write(root.render())
    if exceeded:
        inv.out(f"Warning: exceeded configured limit of max signatures {max_signatures} to examine")


def command() -> Command:
    return Command(
        "list [flags] <reference>",
        "List signatures of the signed artifact",
        long=_LONG,
        aliases=("ls",),
        experimental_examples=_EXPERIMENTAL_EXAMPLES,
        flags=[
            *debug_flags(),
            max_signatures_flag(),
            *registry_flags(),
            Flag("oci-layout", "bool", "[Experimental] list signatures stored in OCI image layout", experimental=True),
            allow_referrers_api_flag("list"),
            Flag(
                "output",
                "string",
                'output format, options: "json", "text" (notation-py: see docs/extensions.md)',
                short="o",
                default="text",
            ),
        ],
        run=_run,
        args=require_reference("list"),
    )
