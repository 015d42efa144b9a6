"""Installed plugins: discovery, listing, install (file, zip, tar.gz, HTTPS URL) and uninstall (plugins.md §2, §9).

Messages are Go's (PLG-80..91). Install is staged in a temporary directory inside ``{PLUGINS}`` and swapped in
with renames, so a failed or interrupted install never leaves a half-written plugin behind. The CLI prints; this
module only returns values and raises typed errors.
"""

from __future__ import annotations

import errno
import hashlib
import os
import platform
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from notation._internal.plugin import archive
from notation._internal.plugin.process import Plugin
from notation._internal.plugin.protocol import (
    PluginExecutableError,
    PluginMalformedError,
    PluginMetadata,
    compare_semver,
)
from notation._internal.records import dataclass
from notation.errors import PluginError

PREFIX = "notation-"
_STAGING_PREFIX = ".notation-py-staging-"


class PluginNotFoundError(PluginError):
    """No usable executable at ``{PLUGINS}/<name>/notation-<name>`` (PLG-13)."""


class PluginInstallError(PluginError):
    """``notation plugin install`` failed; the message is the whole line Go prints after ``Error: ``."""


class InstallResult(NamedTuple):
    name: str
    old_version: str | None
    """The version that was replaced (None for a fresh install, or a forced install over a broken plugin)."""
    new_version: str


@dataclass(frozen=True)
class PluginListEntry:
    """One row of ``notation plugin ls`` (PLG-91)."""

    name: str
    description: str = ""
    version: str = ""
    capabilities: tuple[str, ...] = ()
    error: str | None = None


def go_platform() -> str:
    """``<os>/<arch>`` as Go spells it (linux/amd64), for the hints Go adds to install errors."""
    system = {"darwin": "darwin", "win32": "windows"}.get(sys.platform, sys.platform.rstrip("0123456789"))
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i386": "386", "i686": "386"}
    return f"{system}/{arch.get(machine, machine)}"


def executable_name(name: str) -> str:
    return PREFIX + name + (".exe" if sys.platform == "win32" else "")


def parse_plugin_file_name(file_name: str) -> str:
    """``notation-<name>`` -> ``<name>`` (PLG-84), Go's message otherwise."""
    stem = file_name
    if sys.platform == "win32" and stem.lower().endswith(".exe"):
        stem = stem[:-4]
    name = stem[len(PREFIX) :] if stem.startswith(PREFIX) else ""
    if not name:
        raise PluginExecutableError(
            "invalid plugin executable file name. Plugin file name requires format notation-{plugin-name}, "
            f"but got {stem}"
        )
    return name


def _check_name(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise PluginNotFoundError(f"invalid plugin name {name!r}")


def _is_executable(path: Path) -> bool:
    if sys.platform == "win32":
        return path.suffix.lower() == ".exe"
    return bool(path.stat().st_mode & stat.S_IXUSR)


def _stat_error(path: Path, exc: OSError) -> str:
    text = exc.strerror or str(exc)
    return f"stat {path}: {text[:1].lower() + text[1:]}"


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


class PluginManager:
    """The plugins under ``<libexec>/plugins`` (PLG-10)."""

    def __init__(self, libexec_dir: Path, *, timeout: float | None = None) -> None:
        self.libexec_dir = Path(libexec_dir)
        self.timeout = timeout

    @property
    def plugins_dir(self) -> Path:
        return self.libexec_dir / "plugins"

    # -- discovery ---------------------------------------------------------------------------------------------

    def get(self, name: str) -> Plugin:
        """PLG-11/13: the executable must exist and be a regular file (a symlink is not)."""
        _check_name(name)
        path = self.plugins_dir / name / executable_name(name)
        try:
            st = os.lstat(path)
        except OSError as exc:
            raise PluginNotFoundError(
                f"plugin executable file is either not found or inaccessible: {_stat_error(path, exc)}"
            ) from exc
        if not stat.S_ISREG(st.st_mode):
            raise PluginNotFoundError("plugin executable file is not a regular file")
        return Plugin(path, name, timeout=self.timeout)

    def names(self) -> list[str]:
        """PLG-12: directories (not symlinks) of ``{PLUGINS}``, lexical order; none when it does not exist."""
        try:
            entries = list(os.scandir(self.plugins_dir))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise PluginError(
                f"failed to list plugin directory: {exc.strerror or exc}.\nPlease ensure that the current user has "
                f"permission to access the plugin directory: {self.plugins_dir}"
            ) from exc
        return sorted(
            e.name for e in entries if e.is_dir(follow_symlinks=False) and not e.name.startswith(_STAGING_PREFIX)
        )

    def list(self) -> list[PluginListEntry]:
        """PLG-91: one entry per candidate directory, with metadata or the (friendly) error."""
        rows = []
        for name in self.names():
            try:
                meta = self.get(name).metadata()
            except PluginNotFoundError as exc:
                if "not a regular file" in str(exc):
                    rows.append(PluginListEntry(name, error=str(exc)))
                else:
                    rows.append(
                        PluginListEntry(
                            name,
                            error=f"plugin executable file `{executable_name(name)}` not found. "
                            "Use `notation plugin install` command to install the plugin",
                        )
                    )
                continue
            except PluginExecutableError as exc:
                if getattr(exc, "errno", None) == errno.ENOEXEC or "exec format error" in str(exc):
                    message = (
                        f"plugin file `{executable_name(name)}` is not executable. Use `notation plugin install` "
                        "command to install the plugin. Please ensure that the plugin executable file is compatible "
                        f"with {go_platform()}"
                    )
                else:
                    message = str(exc)
                rows.append(PluginListEntry(name, error=message))
                continue
            except PluginError as exc:
                rows.append(PluginListEntry(name, error=str(exc)))
                continue
            rows.append(PluginListEntry(name, meta.description, meta.version, meta.capabilities, None))
        return rows

    # -- install -----------------------------------------------------------------------------------------------

    def install_from_file(
        self, path: Path | str, *, sha256sum: str | None = None, force: bool = False
    ) -> InstallResult:
        """``notation plugin install --file`` (PLG-82..88). Every error is prefixed ``plugin installation failed: ``."""
        try:
            return self._install_from_file(Path(path), sha256sum, force)
        except PluginError as exc:
            raise PluginInstallError(f"plugin installation failed: {exc}") from exc

    def install_from_url(
        self,
        url: str,
        sha256sum: str,
        *,
        force: bool = False,
        verify: bool | str | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> InstallResult:
        """``notation plugin install --url`` (PLG-81): HTTPS only, checksum required, then as ``--file``.

        ``on_progress`` receives Go's two progress lines (``Downloading plugin from <url>``, ``Download completed``)
        so the CLI can print them at the right moments.
        """
        from urllib.parse import urlsplit

        from notation._internal.plugin.download import download_to

        if not sha256sum:
            raise PluginInstallError("installing from URL requires non-empty SHA256 checksum of the plugin source")
        try:
            scheme = urlsplit(url).scheme
        except ValueError as exc:
            raise PluginInstallError(f"failed to parse plugin download URL {url} with error: {exc}") from exc
        if scheme != "https":
            raise PluginInstallError(
                f"failed to download plugin from URL: only the HTTPS scheme is supported, but got {scheme}"
            )
        with tempfile.TemporaryDirectory(prefix="notation-plugin-download-") as tmp:
            target = Path(tmp) / "notation-plugin-download"
            if on_progress:
                on_progress(f"Downloading plugin from {url}")
            try:
                download_to(url, target, verify=verify)
            except (PluginError, OSError) as exc:
                raise PluginInstallError(f"failed to download plugin from URL {url} with error: {exc}") from exc
            if on_progress:
                on_progress("Download completed")
            return self.install_from_file(target, sha256sum=sha256sum, force=force)

    def _install_from_file(self, path: Path, sha256sum: str | None, force: bool) -> InstallResult:
        try:
            st = path.stat()
        except OSError as exc:
            raise PluginError(_stat_error(path, exc)) from exc
        if not stat.S_ISREG(st.st_mode):
            raise PluginError(f"{path} is not a valid file")
        if sha256sum:
            actual = _sha256_file(path)
            if actual.lower() != sha256sum.lower():
                raise PluginError(f"plugin SHA-256 checksum does not match user input. Expecting {sha256sum}")
        kind = archive.detect_kind(path)
        if kind == archive.KIND_FILE and st.st_size >= archive.MAX_FILE_BYTES:
            raise PluginError(f"file size reached the {archive.MAX_FILE_BYTES // archive.MIB} MiB size limit")
        with tempfile.TemporaryDirectory(prefix="notation-plugin-") as tmp:
            extracted = Path(tmp)
            if kind == archive.KIND_ZIP:
                archive.extract_zip(path, extracted)
                executable, name = self._find_executable(extracted)
                files = [p for p in extracted.iterdir() if p.is_file() and not p.is_symlink()]
            elif kind == archive.KIND_GZIP:
                archive.extract_tar_gz(path, extracted)
                executable, name = self._find_executable(extracted)
                files = [p for p in extracted.iterdir() if p.is_file() and not p.is_symlink()]
            else:
                try:
                    name = parse_plugin_file_name(path.name)
                except PluginError as exc:
                    raise self._with_hint(
                        PluginExecutableError(f"failed to read plugin name from input file {path.name}: {exc}")
                    ) from exc
                if not _is_executable(path):
                    raise PluginError(f"input file {path.name} is not executable")
                executable = path
                files = [path]
            return self._install(executable, name, files, force)

    def _find_executable(self, directory: Path) -> tuple[Path, str]:
        """PLG-84 among the extracted root files."""
        found: list[tuple[Path, str]] = []
        candidates: list[tuple[Path, str]] = []
        for entry in sorted(directory.iterdir()):
            if entry.is_symlink() or not entry.is_file():
                continue
            try:
                name = parse_plugin_file_name(entry.name)
            except PluginError:
                continue
            candidates.append((entry, name))
            if _is_executable(entry):
                found.append((entry, name))
        if len(found) > 1:
            raise PluginError("failed to read plugin from input directory: found more than one plugin executable files")
        if found:
            return found[0]
        if len(candidates) == 1:
            entry, name = candidates[0]
            entry.chmod(entry.stat().st_mode | stat.S_IXUSR)
            return entry, name
        raise PluginError("failed to read plugin from input directory: no plugin executable file was found")

    @staticmethod
    def _with_hint(exc: PluginError) -> PluginError:
        """PLG-88: Go's hints for executable and malformed-plugin failures."""
        if isinstance(exc, PluginExecutableError):
            return PluginExecutableError(
                f"{exc}.\nPlease ensure that the plugin executable file is compatible with {go_platform()} "
                "and has appropriate permissions."
            )
        if isinstance(exc, PluginMalformedError):
            return PluginMalformedError(
                f"{exc}.\nPlease ensure that the plugin executable file is intact and compatible with "
                f"{go_platform()}. Contact the plugin publisher for further assistance."
            )
        return exc

    def _install(self, executable: Path, name: str, files: Sequence[Path], force: bool) -> InstallResult:
        _check_name(name)
        try:
            new_meta = Plugin(executable, name, timeout=self.timeout).metadata()
        except PluginError as exc:
            raise self._with_hint(type(exc)(f"failed to get metadata of new plugin: {exc}")) from exc
        old_meta: PluginMetadata | None = None
        try:
            existing = self.get(name)
        except PluginNotFoundError as exc:
            existing = None
            if self._exists(name) and not force and "not a regular file" in str(exc):
                raise PluginError(f"failed to check plugin existence: {exc}") from exc
        if existing is not None:
            try:
                old_meta = existing.metadata()
            except PluginError as exc:
                if not force:
                    raise self._with_hint(type(exc)(f"failed to get metadata of existing plugin: {exc}")) from exc
            if old_meta is not None and not force:
                try:
                    order = compare_semver(new_meta.version, old_meta.version)
                except PluginError as exc:
                    raise PluginError(f"failed to compare plugin versions: {exc}") from exc
                if order < 0:
                    raise PluginError(
                        f"failed to install plugin {name}. The installing plugin version {new_meta.version} is lower "
                        f"than the existing plugin version {old_meta.version}.\nIt is not recommended to install an "
                        'older version. To force the installation, use the "--force" option'
                    )
                if order == 0:
                    raise PluginError(f"plugin {name} with version {old_meta.version} already exists")
        self._swap_in(name, files)
        return InstallResult(name, old_meta.version if old_meta else None, new_meta.version)

    def _exists(self, name: str) -> bool:
        return os.path.lexists(self.plugins_dir / name)

    def _swap_in(self, name: str, files: Sequence[Path]) -> None:
        """PLG-87, atomically: stage ``{PLUGINS}/<staging>/``, then rename over ``{PLUGINS}/<name>``."""
        self.plugins_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
        staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=self.plugins_dir))
        try:
            os.chmod(staging, 0o755)  # noqa: S103 - plugin dirs are world-readable, as Go makes them
            for src in files:
                dest = staging / src.name
                shutil.copyfile(src, dest, follow_symlinks=False)
                os.chmod(dest, src.stat().st_mode & 0o755)
            target = self.plugins_dir / name
            old: Path | None = None
            if os.path.lexists(target):
                old = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=self.plugins_dir))
                os.rmdir(old)
                os.replace(target, old)
            os.replace(staging, target)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise PluginError(f"failed to install plugin {name}: {exc.strerror or exc}") from exc
        if old is not None:
            _remove(old)

    # -- uninstall ---------------------------------------------------------------------------------------------

    def uninstall(self, name: str) -> None:
        """PLG-90: the plugin must exist (PLG-13); then its directory goes, atomically (rename, then delete)."""
        try:
            self.get(name)
        except PluginNotFoundError as exc:
            raise PluginNotFoundError(
                f"unable to find plugin {name}.\nTo view a list of installed plugins, use `notation plugin list`"
            ) from exc
        target = self.plugins_dir / name
        graveyard = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=self.plugins_dir))
        os.rmdir(graveyard)
        try:
            os.replace(target, graveyard)
        except OSError as exc:
            raise PluginError(f"failed to uninstall {name}: {exc.strerror or exc}") from exc
        _remove(graveyard)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)
