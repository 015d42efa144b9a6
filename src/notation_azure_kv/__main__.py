"""``notation-azure-kv``: the executable notation runs as ``notation-azure-kv <command>`` (AZKV-10)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from notation_azure_kv.protocol import (
    VALIDATION_ERROR,
    PluginFailure,
    dumps,
    error_json,
    metadata,
    read_request,
)

USAGE = """notation-azure-kv - Notation Azure Key Vault plugin (notation-py)

Usage: notation-azure-kv <command>

Plugin commands (a JSON request on standard input, as notation sends it):
  get-plugin-metadata   describe the plugin
  describe-key          report the key spec of a Key Vault certificate
  generate-signature    sign a payload with the certificate's key in Key Vault

Other commands:
  install-launcher DIR  write DIR/notation-azure-kv, an executable launcher notation can run
  -h, --help            show this help
"""
_HELP = ("-h", "--help", "help")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in _HELP:
        sys.stdout.write(USAGE)
        return 0
    command = args[0]
    if command == "install-launcher":
        from pathlib import Path

        from notation_azure_kv.launcher import install_launcher

        if len(args) == 2 and args[1] in _HELP:
            sys.stdout.write("usage: notation-azure-kv install-launcher DIR\n\nWrite DIR/notation-azure-kv, an "
                             "executable launcher notation can run as the azure-kv plugin.\n")
            return 0
        if len(args) != 2 or args[1].startswith("-"):
            sys.stderr.write("usage: notation-azure-kv install-launcher DIR\n")
            return 2
        print(install_launcher(Path(args[1])))
        return 0
    try:
        if command == "get-plugin-metadata":
            response = metadata()
        elif command in ("describe-key", "generate-signature"):
            import logging

            # stderr is the plugin's error channel (one JSON object): azure-identity's warnings (its multi-line
            # DefaultAzureCredential report through logging's last-resort handler) must not land there.
            azure_log = logging.getLogger("azure")
            azure_log.addHandler(logging.NullHandler())
            azure_log.propagate = False
            from notation_azure_kv import commands

            request = read_request(sys.stdin.buffer)
            handler = commands.describe_key if command == "describe-key" else commands.generate_signature
            response = handler(request)
        else:
            raise PluginFailure(VALIDATION_ERROR, f"Invalid command: {command}")
    except PluginFailure as failure:
        sys.stderr.write(error_json(failure))
        return 1
    except Exception as exc:  # never a traceback towards notation: one error object, code ERROR
        sys.stderr.write(error_json(PluginFailure("ERROR", f"{type(exc).__name__}: {exc}".splitlines()[0])))
        return 1
    sys.stdout.write(dumps(response) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
