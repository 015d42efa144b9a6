"""Where notation keeps its files (cli.md CLI-10/11): {CONFIG}, {CACHE}, {LIBEXEC} and the paths below them.

Resolved on every call (not cached at import) so tests and long-lived callers see environment changes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CONFIG_FILE = "config.json"
SIGNING_KEYS_FILE = "signingkeys.json"
TRUST_POLICY_FILE = "trustpolicy.json"
TRUST_POLICY_OCI_FILE = "trustpolicy.oci.json"
LOCAL_KEYS_DIR = "localkeys"
TRUST_STORE_DIR = Path("truststore") / "x509"
PLUGINS_DIR = "plugins"


def _user_config_base() -> Path | None:
    """Go's os.UserConfigDir."""
    if sys.platform == "win32":
        appdata = os.environ.get("APPDATA")
        return Path(appdata) if appdata else None
    if sys.platform == "darwin":
        home = os.environ.get("HOME")
        return Path(home) / "Library" / "Application Support" if home else None
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    if xdg:
        return Path(xdg) if os.path.isabs(xdg) else None
    home = os.environ.get("HOME")
    return Path(home) / ".config" if home else None


def _user_cache_base() -> Path | None:
    """Go's os.UserCacheDir."""
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return Path(local) if local else None
    if sys.platform == "darwin":
        home = os.environ.get("HOME")
        return Path(home) / "Library" / "Caches" if home else None
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg:
        return Path(xdg) if os.path.isabs(xdg) else None
    home = os.environ.get("HOME")
    return Path(home) / ".cache" if home else None


def config_dir() -> Path:
    """{CONFIG}: $NOTATION_CONFIG as is, else <user config dir>/notation, else ./.notation."""
    override = os.environ.get("NOTATION_CONFIG")
    if override:
        return Path(override)
    base = _user_config_base()
    return base / "notation" if base is not None else Path(".notation")


def cache_dir() -> Path:
    """{CACHE}: $NOTATION_CACHE as is, else <user cache dir>/notation, else ./.notation/cache."""
    override = os.environ.get("NOTATION_CACHE")
    if override:
        return Path(override)
    base = _user_cache_base()
    return base / "notation" if base is not None else Path(".notation") / "cache"


def libexec_dir() -> Path:
    """{LIBEXEC}: $NOTATION_LIBEXEC as is, else {CONFIG}."""
    override = os.environ.get("NOTATION_LIBEXEC")
    return Path(override) if override else config_dir()


def plugins_dir() -> Path:
    return libexec_dir() / PLUGINS_DIR


def trust_store_dir() -> Path:
    """The x509 trust store root: {CONFIG}/truststore/x509 (TS-01)."""
    return config_dir() / TRUST_STORE_DIR


def local_key_paths(name: str) -> tuple[Path, Path]:
    """Absolute ``{CONFIG}/localkeys/<name>.key`` and ``.crt`` (what generate-test writes)."""
    base = config_dir().absolute() / LOCAL_KEYS_DIR
    return base / f"{name}.key", base / f"{name}.crt"
