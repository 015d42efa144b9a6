"""``notation login`` / ``notation logout`` (cli.md §10, CLI-100..106); the work is in registry.login."""

from __future__ import annotations

from typing import TextIO

from notation._internal.cli.common import debug_flags, registry_flags, setup_logging, stdin_is_tty, take_credentials
from notation._internal.cli.framework import Command, CommandError, Flag, Invocation


def _server_arg(args: list[str]) -> None:
    if not args:
        raise CommandError("no hostname specified")


def read_password_stdin(stdin: TextIO) -> str:
    """CLI-101: all of stdin, minus one trailing ``\\n`` and then one trailing ``\\r``."""
    data = stdin.read(1024 * 1024)
    if data.endswith("\n"):
        data = data[:-1]
    if data.endswith("\r"):
        data = data[:-1]
    return data


def _read_secret(inv: Invocation, prompt: str) -> str:
    """CLI-102: no echo on a terminal, else one line; a newline is printed afterwards."""
    inv.stdout.write(prompt)
    inv.stdout.flush()
    if inv.stdin is __import__("sys").stdin and stdin_is_tty():
        import getpass

        value = getpass.getpass(prompt="", stream=None)
    else:
        value = inv.stdin.readline().rstrip("\n").rstrip("\r")
    inv.out()
    return value


def _login(inv: Invocation) -> None:
    from notation._internal.config.config_file import load_config_lenient
    from notation._internal.config.dirs import config_dir
    from notation._internal.registry import login

    setup_logging(inv)
    server = inv.args[0]
    creds = take_credentials(inv)
    username, password = creds.username, creds.password
    if inv.flag_bool("password-stdin"):
        password = read_password_stdin(inv.stdin)
    if not password:
        if not username:
            inv.stdout.write("Username: ")
            inv.stdout.flush()
            username = inv.stdin.readline().strip()
        if not username:
            password = _read_secret(inv, "Token: ")
            if not password:
                raise CommandError("token required")
        else:
            password = _read_secret(inv, "Password: ")
            if not password:
                raise CommandError("password required")
    insecure = inv.flag_bool("insecure-registry") or load_config_lenient().is_insecure(server)
    result = login(server, username, password, insecure=insecure, config_dir=config_dir())
    for warning in result.warnings:
        inv.warn(warning)
    inv.out(result.message)


def _logout(inv: Invocation) -> None:
    from notation._internal.config.dirs import config_dir
    from notation._internal.registry import logout

    setup_logging(inv)
    inv.out(logout(inv.args[0], config_dir=config_dir()))


def command() -> Command:
    return Command(
        "login [flags] <server>",
        "Login to registry",
        long="Log in to an OCI registry\n\n"
        "Example - Login with provided username and password:\n"
        "  notation login -u <user> -p <password> registry.example.com\n\n"
        "Example - Login using $NOTATION_USERNAME $NOTATION_PASSWORD variables:\n"
        "  notation login registry.example.com\n",
        flags=[
            *debug_flags(),
            *registry_flags(),
            Flag("password-stdin", "bool", "take the password from stdin"),
        ],
        run=_login,
        args=_server_arg,
    )


def logout_command() -> Command:
    return Command(
        "logout [flags] <server>",
        "Log out from the logged in registries",
        long="Log out from the logged in registries\n\n"
        "Example - Log out from a registry:\n"
        "  notation logout registry.example.com\n",
        flags=debug_flags(),
        run=_logout,
        args=_server_arg,
    )
