"""``notation completion bash|zsh|fish|powershell`` and the hidden ``__complete`` / ``__completeNoDesc`` commands.

The scripts do not embed the command tree: like the scripts cobra generates for the Go notation, they ask the program
(``notation __complete <words...> <partial word>``) and the program answers with one candidate per line
(``name<TAB>description``), then ``:<directive>`` (cobra's ShellCompDirective bits), and on stderr
``Completion ended with directive: ...``. So Go's generated scripts work with this program and ours with Go's
protocol, and completion follows what is installed: signing key names (signingkeys.json) for ``--key`` and the
``key`` commands, plugin names for ``--plugin`` and ``plugin uninstall`` (notation-py additions: Go registers no
completion functions), and command and flag names as cobra completes them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TextIO

from notation._internal.cli.framework import Command, CommandError, Flag, Invocation, UnknownCommand

REQUEST = "__complete"
REQUEST_NO_DESC = "__completeNoDesc"

DIRECTIVE_ERROR = 1
DIRECTIVE_NO_SPACE = 2
DIRECTIVE_NO_FILE = 4
_DIRECTIVE_NAMES = (
    (1, "ShellCompDirectiveError"),
    (2, "ShellCompDirectiveNoSpace"),
    (4, "ShellCompDirectiveNoFileComp"),
    (8, "ShellCompDirectiveFilterFileExt"),
    (16, "ShellCompDirectiveFilterDirs"),
    (32, "ShellCompDirectiveKeepOrder"),
)


def _root(cmd: Command) -> Command:
    from notation._internal.cli.framework import load_all

    while cmd.parent is not None:
        cmd = cmd.parent
    load_all(cmd)
    return cmd


# --------------------------------------------------------------------------------------------------------------------
# Dynamic values (what is installed)
# --------------------------------------------------------------------------------------------------------------------


def _key_names() -> list[str]:
    from notation._internal.config.signingkeys import load_signing_keys
    from notation.errors import NotationError

    try:
        return [k.name for k in load_signing_keys().keys]
    except (NotationError, OSError):
        return []


def _plugin_names() -> list[str]:
    from notation._internal.config.dirs import libexec_dir
    from notation._internal.plugin.manager import PluginManager
    from notation.errors import NotationError

    try:
        return PluginManager(libexec_dir()).names()
    except (NotationError, OSError):
        return []


Values = Callable[[], list[str]]

_FLAG_VALUES: dict[str, Values] = {
    "key": _key_names,
    "plugin": _plugin_names,
    "signature-format": lambda: ["jws", "cose"],
}
"""Flag name -> candidates (the same meaning on every command that has the flag)."""

_ARG_VALUES: dict[str, tuple[Values, bool]] = {
    "notation key update": (_key_names, False),
    "notation key delete": (_key_names, True),
    "notation plugin uninstall": (_plugin_names, False),
}
"""Command path -> (candidates, more than one argument allowed)."""


# --------------------------------------------------------------------------------------------------------------------
# The __complete request (cobra's getCompletions)
# --------------------------------------------------------------------------------------------------------------------


def _flag_completions(flag: Flag, to_complete: str) -> list[str]:
    """cobra getFlagNameCompletions: ``--name<TAB>usage`` and ``-s<TAB>usage`` when they match."""
    if flag.hidden:
        return []
    out = []
    if f"--{flag.name}".startswith(to_complete):
        out.append(f"--{flag.name}\t{flag.help}")
    if flag.short and f"-{flag.short}".startswith(to_complete):
        out.append(f"-{flag.short}\t{flag.help}")
    return out


def _completable_flags(cmd: Command) -> list[Flag]:
    return cmd.visible_flags()  # sorted by name (pflag's VisitAll order); experimental ones only when enabled


def _find_flag(cmd: Command, name: str) -> Flag | None:
    return cmd.flag(name) if len(name) != 1 else (cmd.short_flag(name) or cmd.flag(name))


def _check_flag_completion(cmd: Command, args: list[str], last: str) -> tuple[Flag | None, list[str], str, str | None]:
    """cobra checkIfFlagCompletion: is the word being completed the value of a flag?"""
    flag_name = ""
    trimmed = args
    with_equal = False
    original = last
    if last.startswith("-"):
        if "=" not in last:
            return None, args, last, None
        index = last.index("=")
        flag_name = last[2:index] if last[:index].startswith("--") else last[index - 1 : index]
        last = last[index + 1 :]
        with_equal = True
    if not flag_name and args:
        prev = args[-1]
        if prev.startswith("-") and prev != "-" and prev != "--" and "=" not in prev:
            flag_name = prev[2:] if prev.startswith("--") else prev[-1:]
            trimmed = args[:-1]
    if not flag_name:
        return None, trimmed, last, None
    flag = _find_flag(cmd, flag_name)
    if flag is None:
        return None, args, original, f"subcommand '{cmd.name}' does not support flag '{flag_name}'"
    if not with_equal and flag.kind == "bool":
        return None, args, last, None  # a boolean takes no value: complete nouns
    return flag, trimmed, last, None


def complete(root: Command, args: list[str]) -> tuple[list[str], int, str | None]:
    """(candidates with descriptions, directive, error) for ``notation __complete <args>``."""
    from notation._internal.cli.framework import find_command, parse_flags

    to_complete = args[-1] if args else ""
    trimmed = args[:-1]
    try:
        cmd, rest = find_command(root, trimmed)
    except UnknownCommand:
        return [], 0, f"unable to find a command for arguments: [{' '.join(trimmed)}]"
    flag, rest, to_complete, flag_error = _check_flag_completion(cmd, rest, to_complete)
    flag_completion = "--" not in rest
    try:
        positional, _values, changed = parse_flags(cmd, rest)
    except CommandError as exc:
        return [], 0, f"Error while parsing flags from args [{' '.join(rest)}]: {exc.message}"
    if flag_error is not None and flag_completion:
        return [], 0, flag_error
    if "help" in changed:
        return [], DIRECTIVE_NO_FILE, None

    if flag is not None and flag_completion:
        values = _FLAG_VALUES.get(flag.name)
        if values is None:
            return [], 0, None
        return [v for v in values() if v.startswith(to_complete)], DIRECTIVE_NO_FILE, None

    flags = _completable_flags(cmd)
    if to_complete.startswith("-") and "=" not in to_complete and flag_completion:
        found = [c for f in flags if f.required and f.name not in changed for c in _flag_completions(f, to_complete)]
        if not found:
            found = [
                c
                for f in flags
                if f.name not in changed or f.kind == "stringArray"
                for c in _flag_completions(f, to_complete)
            ]
        directive = DIRECTIVE_NO_FILE
        if len(found) == 1 and found[0].split("\t", 1)[0].endswith("="):
            directive = DIRECTIVE_NO_SPACE
        return found, directive, None

    directive = 0
    found = []
    if not positional and not (changed - {"help"}):
        for child in sorted(cmd.children, key=lambda c: c.name):
            if child.hidden or (not child.runnable and not child.children and child.loader is None):
                continue
            if child.name.startswith(to_complete):
                found.append(f"{child.name}\t{child.short}")
            directive = DIRECTIVE_NO_FILE
    found += [c for f in flags if f.required and f.name not in changed for c in _flag_completions(f, to_complete)]
    arg_values = _ARG_VALUES.get(cmd.path)
    if arg_values is not None:
        values, many = arg_values
        if many or not positional:
            found += [v for v in values() if v.startswith(to_complete) and v not in positional]
        directive = DIRECTIVE_NO_FILE
    elif cmd.parent is not None and cmd.parent.name == "completion":
        directive = DIRECTIVE_NO_FILE  # cobra: NoFileCompletions for the shell commands
    return found, directive, None


def directive_text(directive: int) -> str:
    names = [name for bit, name in _DIRECTIVE_NAMES if directive & bit]
    return ", ".join(names) or "ShellCompDirectiveDefault"


def run_request(argv: list[str], stdout: TextIO, stderr: TextIO) -> int:
    """``notation __complete|__completeNoDesc <words...>`` (cobra's hidden completion request command)."""
    from notation._internal.cli.main import build_root

    request, args = argv[0], argv[1:]
    if not args:
        stderr.write("Error: requires at least 1 arg(s), only received 0\n")
        return 1
    root = build_root()
    candidates, directive, error = complete(root, args)
    if error is not None:
        stderr.write(f"Error: {error}\n")
    no_desc = request == REQUEST_NO_DESC
    if not no_desc:
        setting = os.environ.get("NOTATION_COMPLETION_DESCRIPTIONS")
        if setting is not None and setting.lower() in ("0", "f", "false"):
            no_desc = True
    for candidate in candidates:
        if no_desc:
            candidate = candidate.split("\t", 1)[0]
        stdout.write(candidate.split("\n", 1)[0].strip() + "\n")
    stdout.write(f":{directive}\n")
    stderr.write(f"Completion ended with directive: {directive_text(directive)}\n")
    return 0


# --------------------------------------------------------------------------------------------------------------------
# Scripts
# --------------------------------------------------------------------------------------------------------------------


def _bash(with_descriptions: bool) -> str:
    request = REQUEST if with_descriptions else REQUEST_NO_DESC
    return f"""# bash completion for notation                            -*- shell-script -*-
# Asks "notation {request}" for candidates (cobra's protocol: lines, then ":<directive>").

_notation_complete() {{
    local -a words
    if [[ -n "${{COMP_LINE-}}" ]]; then
        # the line up to the cursor, split on blanks only (COMP_WORDS also splits at '=' and ':')
        local line="${{COMP_LINE:0:COMP_POINT}}"
        read -ra words <<< "$line"
        [[ "$line" =~ [[:space:]]$ ]] && words+=("")
    else
        words=("${{COMP_WORDS[@]:0:COMP_CWORD+1}}")
    fi
    ((${{#words[@]}} < 2)) && words+=("")
    local cur="${{words[${{#words[@]}}-1]}}"
    local out
    out=$("${{words[0]}}" {request} "${{words[@]:1}}" 2>/dev/null) || return
    local last="${{out##*$'\\n'}}"
    local directive="${{last#:}}"
    [[ "$directive" =~ ^[0-9]+$ ]] || directive=0
    if [[ "$out" == *$'\\n'* ]]; then out="${{out%$'\\n'*}}"; else out=""; fi
    COMPREPLY=()
    ((directive & 1)) && return
    local -a candidates=()
    [[ -n "$out" ]] && mapfile -t candidates <<< "$out"
    ((directive & 2)) && compopt -o nospace 2>/dev/null
    if ((${{#candidates[@]}} == 0)); then
        ((directive & 4)) && compopt +o default 2>/dev/null
        return
    fi
    local c
    if ((${{#candidates[@]}} == 1)); then
        COMPREPLY=("${{candidates[0]%%$'\\t'*}}")
    else
        for c in "${{candidates[@]}}"; do
            if [[ "$c" == *$'\\t'* ]]; then
                COMPREPLY+=("${{c%%$'\\t'*}}  (${{c#*$'\\t'}})")
            else
                COMPREPLY+=("$c")
            fi
        done
    fi
}}
complete -o default -F _notation_complete notation
"""


def _zsh(with_descriptions: bool) -> str:
    request = REQUEST if with_descriptions else REQUEST_NO_DESC
    return f"""#compdef notation
# zsh completion for notation: asks "notation {request}" for candidates (cobra's protocol).

_notation() {{
    local out directive line name desc
    local -a lines comps
    out=$("${{words[1]}}" {request} "${{(@)words[2,CURRENT-1]}}" "${{words[CURRENT]}}" 2>/dev/null) || return 1
    lines=("${{(@f)out}}")
    directive="${{lines[-1]#:}}"
    [[ "$directive" == <-> ]] || directive=0
    lines=("${{(@)lines[1,-2]}}")
    (( directive & 1 )) && return 1
    for line in "${{lines[@]}}"; do
        [[ -z "$line" ]] && continue
        name="${{line%%$'\t'*}}"
        desc="${{line#*$'\t'}}"
        comps+=("${{name//:/\\:}}:$desc")
    done
    if (( ${{#comps}} )); then
        local -a suffix=()
        (( directive & 2 )) && suffix=(-S '')
        _describe -t notation notation comps "${{suffix[@]}}"
    elif (( ! (directive & 4) )); then
        _files
    fi
}}

if [ "$funcstack[1]" = "_notation" ]; then
    _notation "$@"
else
    compdef _notation notation
fi
"""


def _fish(with_descriptions: bool) -> str:
    request = REQUEST if with_descriptions else REQUEST_NO_DESC
    return f"""# fish completion for notation (asks "notation {request}", cobra's protocol)
function __notation_complete
    set -l args (commandline -opc)
    set -e args[1]
    set -l out (notation {request} $args (commandline -ct) 2>/dev/null)
    for line in $out
        if not string match -q -- ':*' $line
            echo $line
        end
    end
end
complete -c notation -f -a '(__notation_complete)'
"""


def _powershell(with_descriptions: bool) -> str:
    request = REQUEST if with_descriptions else REQUEST_NO_DESC
    return (
        f'# powershell completion for notation (asks "notation {request}", cobra\'s protocol)\n'
        "Register-ArgumentCompleter -CommandName 'notation' -Native -ScriptBlock {\n"
        "    param($wordToComplete, $commandAst, $cursorPosition)\n"
        '    $words = $commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { "$_" }\n'
        "    if ($wordToComplete -eq '') { $words += '\"\"' }\n"
        f"    $out = & notation {request} @words 2>$null\n"
        "    $out | Where-Object { -not $_.StartsWith(':') } | ForEach-Object {\n"
        '        $name, $desc = $_ -split "`t", 2\n'
        "        [System.Management.Automation.CompletionResult]::new($name, $name, 'ParameterValue', "
        "$(if ($desc) { $desc } else { $name }))\n"
        "    }\n"
        "}\n"
    )


_LONGS = {
    "bash": """Generate the autocompletion script for the bash shell.

This script depends on the 'bash-completion' package.
If it is not installed already, you can install it via your OS's package manager.

To load completions in your current shell session:

\tsource <(notation completion bash)

To load completions for every new session, execute once:

#### Linux:

\tnotation completion bash > /etc/bash_completion.d/notation

#### macOS:

\tnotation completion bash > $(brew --prefix)/etc/bash_completion.d/notation

You will need to start a new shell for this setup to take effect.
""",
    "zsh": """Generate the autocompletion script for the zsh shell.

If shell completion is not already enabled in your environment you will need
to enable it.  You can execute the following once:

\techo "autoload -U compinit; compinit" >> ~/.zshrc

To load completions in your current shell session:

\tsource <(notation completion zsh)

To load completions for every new session, execute once:

#### Linux:

\tnotation completion zsh > "${fpath[1]}/_notation"

#### macOS:

\tnotation completion zsh > $(brew --prefix)/share/zsh/site-functions/_notation

You will need to start a new shell for this setup to take effect.
""",
    "fish": """Generate the autocompletion script for the fish shell.

To load completions in your current shell session:

\tnotation completion fish | source

To load completions for every new session, execute once:

\tnotation completion fish > ~/.config/fish/completions/notation.fish

You will need to start a new shell for this setup to take effect.
""",
    "powershell": """Generate the autocompletion script for powershell.

To load completions in your current shell session:

\tnotation completion powershell | Out-String | Invoke-Expression

To load completions for every new session, add the output of the above command
to your powershell profile.
""",
}

_SHELLS: dict[str, Callable[[bool], str]] = {"bash": _bash, "fish": _fish, "powershell": _powershell, "zsh": _zsh}


def command() -> Command:
    children = []
    for shell, render in _SHELLS.items():

        def run(inv: Invocation, render: Callable[[bool], str] = render) -> None:
            inv.stdout.write(render(not inv.flag_bool("no-descriptions")))

        children.append(
            Command(
                shell,
                f"Generate the autocompletion script for {shell}",
                long=_LONGS[shell],
                flags=[Flag("no-descriptions", "bool", "disable completion descriptions")],
                run=run,
                no_args=True,
                disable_flags_in_use_line=shell == "bash",  # as cobra declares them
            )
        )
    return Command(
        "completion",
        "Generate the autocompletion script for the specified shell",
        long="Generate the autocompletion script for notation for the specified shell.\n"
        "See each sub-command's help for details on how to use the generated script.",
        children=children,
    )
