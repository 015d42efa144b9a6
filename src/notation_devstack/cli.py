"""``notation-devstack``: one entry point, a sub-command group per stand-in.

Each group lives in its own package and registers itself here, so the stand-ins stay independent.
"""

from __future__ import annotations

import argparse
import importlib
import sys

DESCRIPTION = """Offline stand-ins for the Azure services the notation tutorials use: a Key Vault emulator
(`vault`), an OCI registry like ACR (`registry`), an image builder (`image`), and `up` / `down` / `status` /
`env-file` to run them together.

Quick start:
  notation-devstack up              # start both, on the same ports as last time
  source "$(notation-devstack env-file)"
  notation-devstack down
"""

# (command name, module with ``register(subparsers)``): imported lazily so one group's dependencies
# never slow down or break another.
_GROUPS = (
    ("registry", "notation_devstack.registry.cli"),
    ("vault", "notation_devstack.vault.cli"),
    ("image", "notation_devstack.image.cli"),
    ("up", "notation_devstack.stack.cli"),
    ("cloud", "notation_devstack.cloud.server"),
    ("az-login", "notation_devstack.cloud.azlogin"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="notation-devstack", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="group", metavar="COMMAND")
    for _name, module in _GROUPS:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("notation_devstack"):
                continue  # that group is not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line, never a traceback (the stand-ins are user tools too)
        if getattr(args, "debug", False):
            raise
        print(f"Error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
