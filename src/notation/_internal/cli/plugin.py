"""``notation plugin install|list|uninstall`` (plugins.md §9, PLG-80..91); the work is in plugin.manager."""

from __future__ import annotations

from typing import TYPE_CHECKING

from notation._internal.cli.common import debug_flags, setup_logging
from notation._internal.cli.framework import Command, CommandError, Flag, Invocation
from notation._internal.cli.output import confirm, table

if TYPE_CHECKING:
    from notation._internal.plugin.manager import PluginManager


def _manager() -> PluginManager:
    from notation._internal.config.dirs import libexec_dir
    from notation._internal.plugin.manager import PluginManager

    return PluginManager(libexec_dir())


def _install_args(args: list[str], values: dict[str, object]) -> None:
    if not args:
        if values.get("file"):
            raise CommandError("missing plugin file path")
        if values.get("url"):
            raise CommandError("missing plugin URL")
        raise CommandError("missing plugin source location")
    if len(args) > 1:
        raise CommandError(f"can only install one plugin at a time, but got [{' '.join(args)}]")


def _install(inv: Invocation) -> None:
    setup_logging(inv)
    source = inv.args[0]
    force = inv.flag_bool("force")
    sha256sum = inv.flag_str("sha256sum")
    manager = _manager()
    if inv.flag_bool("url"):
        result = manager.install_from_url(source, sha256sum, force=force, on_progress=inv.out)
    else:
        result = manager.install_from_file(source, sha256sum=sha256sum or None, force=force)
    if result.old_version is not None:
        inv.out(f"Successfully updated plugin {result.name} from version {result.old_version} to {result.new_version}")
    else:
        inv.out(f"Successfully installed plugin {result.name}, version {result.new_version}")


def _list(inv: Invocation) -> None:
    rows = [["NAME", "DESCRIPTION", "VERSION", "CAPABILITIES", "ERROR"]]
    for entry in _manager().list():
        rows.append(
            [
                entry.name,
                entry.description,
                entry.version,
                f"[{' '.join(entry.capabilities)}]",
                "<nil>" if entry.error is None else entry.error,
            ]
        )
    inv.stdout.write(table(rows))


def _uninstall_args(args: list[str]) -> None:
    if not args:
        raise CommandError("plugin name is required")
    if len(args) > 1:
        raise CommandError("only one plugin can be removed at a time")


def _uninstall(inv: Invocation) -> None:
    from notation.errors import PluginError

    setup_logging(inv)
    name = inv.args[0]
    manager = _manager()
    try:
        manager.get(name)
    except PluginError:
        raise CommandError(
            f"unable to find plugin {name}.\nTo view a list of installed plugins, use `notation plugin list`"
        ) from None
    prompt = f'Are you sure you want to uninstall plugin "{name}"? [y/N] '
    if not confirm(prompt, inv.stdin, inv.stdout, assume_yes=inv.flag_bool("yes")):
        return
    manager.uninstall(name)
    inv.out(f"Successfully uninstalled plugin {name}")


def command() -> Command:
    install = Command(
        "install [flags] <--file|--url> <plugin_source>",
        "Install a plugin",
        long="Install a plugin\n\n"
        "Example - Install plugin from file system:\n"
        "  notation plugin install --file wabbit-plugin-v1.0.zip\n\n"
        "Example - Install plugin from file system with user input SHA256 checksum:\n"
        "  notation plugin install --file wabbit-plugin-v1.0.zip --sha256sum "
        "f8a75d9234db90069d9eb5660e5374820edf36d710bd063f4ef81e7063d3810b\n\n"
        "Example - Install plugin from file system regardless if it's already installed:\n"
        "  notation plugin install --file wabbit-plugin-v1.0.zip --force\n\n"
        "Example - Install plugin from file system with .tar.gz:\n"
        "  notation plugin install --file wabbit-plugin-v1.0.tar.gz\n\n"
        "Example - Install plugin from file system with a single plugin executable file:\n"
        "  notation plugin install --file notation-wabbit-plugin\n\n"
        "Example - Install plugin from URL, SHA256 checksum is required:\n"
        "  notation plugin install --url https://wabbit-networks.github.io/releases/v1.0/wabbit-plugin-v1.0.tar.gz "
        "--sha256sum f8a75d9234db90069d9eb5660e5374820edf36d710bd063f4ef81e7063d3810b\n",
        aliases=("add",),
        flags=[
            *debug_flags(),
            Flag("file", "bool", "install plugin from a file on file system"),
            Flag("force", "bool", "force the installation of the plugin"),
            Flag("sha256sum", "string", 'must match SHA256 of the plugin source, required when "--url" flag is set'),
            Flag("url", "bool", "install plugin from an HTTPS URL. The plugin download timeout is 10m0s"),
        ],
        run=_install,
        args_with_flags=_install_args,
        exclusive=[("file", "url")],
        one_required=[("file", "url")],
    )
    ls = Command(
        "list [flags]",
        "List installed plugins",
        long="List installed plugins\n\nExample - List installed Notation plugins:\n  notation plugin ls\n",
        aliases=("ls",),
        run=_list,
    )
    uninstall = Command(
        "uninstall [flags] <plugin_name>",
        "Uninstall a plugin",
        long="Uninstall a plugin\n\nExample - Uninstall plugin:\n  notation plugin uninstall wabbit-plugin\n",
        aliases=("remove", "rm"),
        flags=[*debug_flags(), Flag("yes", "bool", "do not prompt for confirmation", short="y")],
        run=_uninstall,
        args=_uninstall_args,
    )
    return Command("plugin", "Manage plugins", children=[install, ls, uninstall])
