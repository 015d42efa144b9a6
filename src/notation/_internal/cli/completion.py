"""``notation completion bash|zsh|fish|powershell``: minimal scripts that complete command and flag names."""

from __future__ import annotations

from notation._internal.cli.framework import Command, Invocation


def _root(cmd: Command) -> Command:
    from notation._internal.cli.framework import load_all

    while cmd.parent is not None:
        cmd = cmd.parent
    load_all(cmd)
    return cmd


def _words(cmd: Command) -> list[str]:
    words = [c.name for c in cmd.children if not c.hidden]
    words += [f"--{f.name}" for f in cmd.visible_flags()]
    return sorted(words)


def _walk(cmd: Command, prefix: str = "") -> list[tuple[str, list[str]]]:
    out = [(prefix, _words(cmd))]
    for child in cmd.children:
        for name in (child.name, *child.aliases):
            out.extend(_walk(child, f"{prefix} {name}".strip()))
    return out


def _bash(root: Command) -> str:
    cases = "\n".join(f'        "{path}") words="{" ".join(words)}" ;;' for path, words in _walk(root))
    return f"""# bash completion for notation                            -*- shell-script -*-
_notation_complete() {{
    local cur path="" w
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    for w in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
        case "$w" in -*) ;; *) path="${{path:+$path }}$w" ;; esac
    done
    local words=""
    case "$path" in
{cases}
    esac
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}}
complete -o default -F _notation_complete notation
"""


def _zsh(root: Command) -> str:
    return "#compdef notation\nautoload -U +X bashcompinit && bashcompinit\n" + _bash(root)


def _fish(root: Command) -> str:
    lines = ["# fish completion for notation"]
    for child in root.children:
        if not child.hidden:
            lines.append(f"complete -c notation -n '__fish_use_subcommand' -a {child.name} -d '{child.short}'")
    return "\n".join(lines) + "\n"


def _powershell(root: Command) -> str:
    names = ", ".join(f"'{c.name}'" for c in root.children if not c.hidden)
    return (
        "Register-ArgumentCompleter -CommandName 'notation' -ScriptBlock {\n"
        "    param($wordToComplete, $commandAst, $cursorPosition)\n"
        f'    @({names}) | Where-Object {{ $_ -like "$wordToComplete*" }}\n'
        "}\n"
    )


_SHELLS = {
    "bash": ("Generate the autocompletion script for bash", _bash),
    "zsh": ("Generate the autocompletion script for zsh", _zsh),
    "fish": ("Generate the autocompletion script for fish", _fish),
    "powershell": ("Generate the autocompletion script for powershell", _powershell),
}


def command() -> Command:
    children = []
    for shell, (short, render) in _SHELLS.items():

        def run(inv: Invocation, render: object = render) -> None:
            assert callable(render)
            inv.stdout.write(render(_root(inv.command)))

        children.append(Command(shell, short, run=run, no_args=True))
    return Command(
        "completion",
        "Generate the autocompletion script for the specified shell",
        long="Generate the autocompletion script for notation for the specified shell.\n"
        "See each sub-command's help for details on how to use the generated script.",
        children=children,
    )
