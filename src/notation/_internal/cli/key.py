"""``notation key add|update|list|delete`` (CLI-110..113): the signing key list in signingkeys.json."""

from __future__ import annotations

from notation._internal.cli.common import debug_flags, parse_flag_map, setup_logging
from notation._internal.cli.framework import Command, CommandError, Flag, Invocation
from notation._internal.cli.output import table
from notation._internal.log import get_logger

_log = get_logger("cli")

_PLUGIN_CONFIG_HELP = (
    "{key}={value} pairs that are passed as it is to a plugin, refer plugin's documentation to set appropriate values"
)


def _add_args(args: list[str]) -> None:
    if len(args) != 1:
        raise CommandError("either missing key name or unnecessary parameters passed")


def _add(inv: Invocation) -> None:
    from notation._internal.config.dirs import libexec_dir
    from notation._internal.config.signingkeys import KeySuite, load_signing_keys, save_signing_keys
    from notation._internal.plugin.manager import PluginManager

    setup_logging(inv)
    name = inv.args[0]
    plugin_config = parse_flag_map(inv.flag_list("plugin-config"), "plugin-config")
    plugin_name = inv.flag_str("plugin")
    if not plugin_name:
        raise CommandError("plugin name cannot be empty")
    key_id = inv.flag_str("id")
    if not key_id:
        raise CommandError("missing key id")
    PluginManager(libexec_dir()).get(plugin_name)  # must exist; its metadata is not queried (CLI-110)
    mark_default = inv.flag_bool("default")
    keys = load_signing_keys().add(
        KeySuite(name=name, id=key_id, plugin_name=plugin_name, plugin_config=plugin_config),
        mark_default=mark_default,
    )
    save_signing_keys(keys)
    inv.out(f"{name}: marked as default" if mark_default else name)


def _update_args(args: list[str]) -> None:
    if not args:
        raise CommandError("missing key name")


def _update(inv: Invocation) -> None:
    from notation._internal.config.signingkeys import load_signing_keys, save_signing_keys

    setup_logging(inv)
    name = inv.args[0]
    if not inv.flag_bool("default"):
        _log.warning("--default flag is not set, command did not take effect")
        return
    save_signing_keys(load_signing_keys().set_default(name))
    inv.out(f"{name}: marked as default")


def _list(inv: Invocation) -> None:
    from notation._internal.config.signingkeys import load_signing_keys

    keys = load_signing_keys()
    rows = [["NAME", "KEY PATH", "CERTIFICATE PATH", "ID", "PLUGIN NAME"]]
    for key in keys.keys:
        name = f"* {key.name}" if keys.default is not None and key.name == keys.default else key.name
        rows.append([name, key.key_path, key.cert_path, key.id, key.plugin_name])
    inv.stdout.write(table(rows))


def _delete_args(args: list[str]) -> None:
    if not args:
        raise CommandError("missing key names")


def _delete(inv: Invocation) -> None:
    from notation._internal.config.signingkeys import load_signing_keys, save_signing_keys

    setup_logging(inv)
    doc, removed = load_signing_keys().remove(inv.args)
    save_signing_keys(doc)
    if len(removed) == 1:
        name, was_default = removed[0]
        prefix = "Removed default key" if was_default else "Removed"
        inv.out(f"{prefix} {name} from Notation signing key list. The source key still exists.")
        return
    inv.out("Removed the following keys from Notation signing key list. The source keys still exist.")
    for name, was_default in removed:
        inv.out(f"{name} (default)" if was_default else name)


def command() -> Command:
    add = Command(
        "add --plugin <plugin_name> [flags] <key_name>",
        "Add key to Notation signing key list",
        flags=[
            *debug_flags(),
            Flag("default", "bool", "mark as default"),
            Flag("id", "string", "key id (required if --plugin is set)"),
            Flag("plugin", "string", "signing plugin name", required=True),
            Flag("plugin-config", "stringArray", _PLUGIN_CONFIG_HELP),
        ],
        run=_add,
        args=_add_args,
    )
    update = Command(
        "update [flags] <key_name>",
        "Update key in Notation signing key list",
        aliases=("set",),
        flags=[*debug_flags(), Flag("default", "bool", "mark as default")],
        run=_update,
        args=_update_args,
    )
    ls = Command("list [flags]", "List keys used for signing", aliases=("ls",), run=_list)
    delete = Command(
        "delete [flags] <key_name>...",
        "Remove key from Notation signing key list",
        flags=debug_flags(),
        run=_delete,
        args=_delete_args,
    )
    return Command(
        "key",
        "Manage keys used for signing",
        long=_KEY_LONG,  # Go 1.3.2's words (the subcommands have no long text: their help shows the short one)
        children=[add, delete, ls, update],
    )


_KEY_LONG = """Manage keys used for signing

Example - Add a key to signing key list:
  notation key add --plugin <plugin_name> --id <key_id> <key_name>

Example - List keys used for signing:
  notation key ls

Example - Update the default signing key:
  notation key set --default <key_name>

Example - Delete the key from signing key list:
  notation key delete <key_name>...
"""
