from notation._internal.cli.framework import Command


def command() -> Command:
    return Command("inspect", "todo")
