"""The plugin host: run plugin commands, manage installed plugins, sign and verify through plugins (plugins.md).

Modules: ``protocol`` (contract data, metadata checks, SemVer), ``process`` (one command = one bounded process),
``manager`` (discovery, list, install, uninstall), ``archive`` / ``download`` (package unpacking and fetching),
``signer`` (generate-signature / generate-envelope), ``verifier`` (verify-signature).
"""

from __future__ import annotations

from notation._internal.plugin.manager import (
    InstallResult,
    PluginInstallError,
    PluginListEntry,
    PluginManager,
    PluginNotFoundError,
)
from notation._internal.plugin.process import Plugin
from notation._internal.plugin.protocol import (
    PluginCommandError,
    PluginExecutableError,
    PluginMalformedError,
    PluginMetadata,
)
from notation._internal.plugin.signer import (
    PluginEnvelopeGenerator,
    PluginSigner,
    check_generated_envelope,
    make_plugin_signer,
)
from notation._internal.plugin.verifier import (
    PluginVerificationOutcome,
    ResolvedVerificationPlugin,
    make_plugin_hooks,
    resolve_verification_plugin,
    run_plugin_verification,
)

__all__ = [
    "InstallResult",
    "Plugin",
    "PluginCommandError",
    "PluginEnvelopeGenerator",
    "PluginExecutableError",
    "PluginInstallError",
    "PluginListEntry",
    "PluginMalformedError",
    "PluginManager",
    "PluginMetadata",
    "PluginNotFoundError",
    "PluginSigner",
    "PluginVerificationOutcome",
    "ResolvedVerificationPlugin",
    "check_generated_envelope",
    "make_plugin_hooks",
    "make_plugin_signer",
    "resolve_verification_plugin",
    "run_plugin_verification",
]
