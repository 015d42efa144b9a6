"""Plugin discovery and management (plugins.md §2, §9: PLG-10..14, PLG-80..91) with real executables, archives
and a real HTTPS server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from notation._internal.plugin import PluginInstallError, PluginManager, PluginNotFoundError
from notation._internal.plugin import archive as archive_mod
from notation._internal.plugin.manager import go_platform
from plugin_support import install_plugin, metadata, plugin_source, write_plugin
from plugin_support.https import https_server


@pytest.fixture
def manager(tmp_path: Path) -> PluginManager:
    return PluginManager(tmp_path / "libexec")


def _exe(tmp_path: Path, name: str, version: str = "1.0.0", file_name: str | None = None) -> Path:
    return write_plugin(
        tmp_path / "src" / (file_name or f"notation-{name}"), {"metadata": metadata(name, version=version)}
    )


def _zip(path: Path, members: list[tuple[str, bytes, int]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def _tgz(path: Path, members: list[tuple[str, bytes, int]], links: list[tuple[str, str]] = ()) -> Path:  # type: ignore[assignment]
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tf:
        for name, data, mode in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            tf.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return path


def _src(name: str, version: str = "1.0.0") -> bytes:
    return plugin_source({"metadata": metadata(name, version=version)}).encode()


# -- discovery ----------------------------------------------------------------------------------------------------


def test_plg13_get_missing_plugin(manager: PluginManager) -> None:
    with pytest.raises(PluginNotFoundError) as err:
        manager.get("absent")
    expected = manager.plugins_dir / "absent" / "notation-absent"
    assert str(err.value) == (
        f"plugin executable file is either not found or inaccessible: stat {expected}: no such file or directory"
    )


def test_plg13_symlinked_executable_is_rejected(manager: PluginManager, tmp_path: Path) -> None:
    real = _exe(tmp_path, "lnk")
    (manager.plugins_dir / "lnk").mkdir(parents=True)
    os.symlink(real, manager.plugins_dir / "lnk" / "notation-lnk")
    with pytest.raises(PluginNotFoundError, match=r"^plugin executable file is not a regular file$"):
        manager.get("lnk")


def test_get_rejects_path_like_names(manager: PluginManager) -> None:
    with pytest.raises(PluginNotFoundError):
        manager.get("../etc")


def test_plg12_plg91_list(manager: PluginManager, tmp_path: Path) -> None:
    libexec = manager.libexec_dir
    install_plugin(libexec, "b-plugin", capabilities=["SIGNATURE_GENERATOR.RAW", "SIGNATURE_VERIFIER.TRUSTED_IDENTITY"])
    install_plugin(libexec, "a-plugin", version="2.1.0")
    (manager.plugins_dir / "c-empty").mkdir()
    (manager.plugins_dir / "d-file").write_text("not a dir")
    os.symlink(manager.plugins_dir / "a-plugin", manager.plugins_dir / "e-link")
    garbage = manager.plugins_dir / "f-garbage" / "notation-f-garbage"
    garbage.parent.mkdir()
    garbage.write_bytes(b"\x7fELF\x00\x00garbage")
    garbage.chmod(0o755)
    install_plugin(libexec, "g-bad", {"metadata": metadata("other")})
    rows = manager.list()
    assert [r.name for r in rows] == ["a-plugin", "b-plugin", "c-empty", "f-garbage", "g-bad"]
    a, b, c, f, g = rows
    assert (a.description, a.version, a.capabilities, a.error) == (
        "test plugin a-plugin",
        "2.1.0",
        ("SIGNATURE_GENERATOR.RAW",),
        None,
    )
    assert b.capabilities == ("SIGNATURE_GENERATOR.RAW", "SIGNATURE_VERIFIER.TRUSTED_IDENTITY")
    assert c.error == (
        "plugin executable file `notation-c-empty` not found. "
        "Use `notation plugin install` command to install the plugin"
    )
    assert f.error == (
        "plugin file `notation-f-garbage` is not executable. Use `notation plugin install` command to install the "
        f"plugin. Please ensure that the plugin executable file is compatible with {go_platform()}"
    )
    assert g.error == 'plugin executable file name must be "notation-other" instead of "notation-g-bad"'
    assert (g.description, g.version, g.capabilities) == ("", "", ())


def test_plg12_missing_plugins_dir_lists_nothing(manager: PluginManager) -> None:
    assert manager.list() == []


# -- install from a file --------------------------------------------------------------------------------------------


def test_plg84_plg88_install_single_executable(manager: PluginManager, tmp_path: Path) -> None:
    result = manager.install_from_file(_exe(tmp_path, "single"))
    assert result == ("single", None, "1.0.0")
    installed = manager.plugins_dir / "single" / "notation-single"
    assert stat.S_IMODE(installed.stat().st_mode) == 0o755
    assert manager.get("single").metadata().version == "1.0.0"
    assert [p.name for p in manager.plugins_dir.iterdir()] == ["single"]  # no staging left behind


def test_plg84_single_file_name_must_be_notation_name(manager: PluginManager, tmp_path: Path) -> None:
    path = _exe(tmp_path, "x", file_name="myplugin")
    with pytest.raises(PluginInstallError) as err:
        manager.install_from_file(path)
    assert str(err.value) == (
        "plugin installation failed: failed to read plugin name from input file myplugin: invalid plugin executable "
        "file name. Plugin file name requires format notation-{plugin-name}, but got myplugin.\nPlease ensure that "
        f"the plugin executable file is compatible with {go_platform()} and has appropriate permissions."
    )


def test_plg84_single_file_must_be_executable(manager: PluginManager, tmp_path: Path) -> None:
    path = _exe(tmp_path, "noexec")
    path.chmod(0o644)
    with pytest.raises(
        PluginInstallError, match=r"^plugin installation failed: input file notation-noexec is not executable$"
    ):
        manager.install_from_file(path)


def test_plg82_not_a_regular_file(manager: PluginManager, tmp_path: Path) -> None:
    with pytest.raises(PluginInstallError, match=rf"^plugin installation failed: {tmp_path} is not a valid file$"):
        manager.install_from_file(tmp_path)


def test_plg82_checksum_mismatch(manager: PluginManager, tmp_path: Path) -> None:
    path = _exe(tmp_path, "sum")
    with pytest.raises(PluginInstallError) as err:
        manager.install_from_file(path, sha256sum="00" * 32)
    assert str(err.value) == (
        f"plugin installation failed: plugin SHA-256 checksum does not match user input. Expecting {'00' * 32}"
    )
    good = hashlib.sha256(path.read_bytes()).hexdigest().upper()
    assert manager.install_from_file(path, sha256sum=good).new_version == "1.0.0"


def test_plg85_name_mismatch_with_metadata(manager: PluginManager, tmp_path: Path) -> None:
    path = write_plugin(tmp_path / "src" / "notation-alpha", {"metadata": metadata("beta")})
    with pytest.raises(PluginInstallError) as err:
        manager.install_from_file(path)
    assert str(err.value).startswith(
        "plugin installation failed: failed to get metadata of new plugin: plugin executable file name must be "
        '"notation-beta" instead of "notation-alpha".\nPlease ensure that the plugin executable file is intact'
    )
    assert not manager.plugins_dir.exists() or not any(manager.plugins_dir.iterdir())


def test_plg85_wrong_contract_version(manager: PluginManager, tmp_path: Path) -> None:
    path = write_plugin(
        tmp_path / "src" / "notation-cv", {"metadata": metadata("cv", supportedContractVersions=["2.0"])}
    )
    with pytest.raises(PluginInstallError, match=r'contract version "1.0" is not in the list .* \[2.0\]'):
        manager.install_from_file(path)


def test_plg86_versions(manager: PluginManager, tmp_path: Path) -> None:
    manager.install_from_file(_exe(tmp_path / "v1", "up", "1.0.0"))
    assert manager.install_from_file(_exe(tmp_path / "v2", "up", "1.2.0")) == ("up", "1.0.0", "1.2.0")
    with pytest.raises(PluginInstallError) as err:
        manager.install_from_file(_exe(tmp_path / "v3", "up", "1.2.0"))
    assert str(err.value) == "plugin installation failed: plugin up with version 1.2.0 already exists"
    with pytest.raises(PluginInstallError) as err:
        manager.install_from_file(_exe(tmp_path / "v4", "up", "1.1.0"))
    assert str(err.value) == (
        "plugin installation failed: failed to install plugin up. The installing plugin version 1.1.0 is lower than "
        "the existing plugin version 1.2.0.\nIt is not recommended to install an older version. To force the "
        'installation, use the "--force" option'
    )
    assert manager.get("up").metadata().version == "1.2.0"  # refused installs leave the old plugin untouched
    assert manager.install_from_file(_exe(tmp_path / "v5", "up", "1.1.0"), force=True) == ("up", "1.2.0", "1.1.0")
    assert manager.get("up").metadata().version == "1.1.0"


def test_plg86_invalid_version_cannot_be_compared(manager: PluginManager, tmp_path: Path) -> None:
    manager.install_from_file(_exe(tmp_path / "a", "vv", "1.0.0"))
    with pytest.raises(
        PluginInstallError, match=r"failed to compare plugin versions: 1.x is not a valid semantic version"
    ):
        manager.install_from_file(_exe(tmp_path / "b", "vv", "1.x"))


def test_plg86_force_replaces_a_broken_plugin(manager: PluginManager, tmp_path: Path) -> None:
    broken = manager.plugins_dir / "fix" / "notation-fix"
    broken.parent.mkdir(parents=True)
    broken.write_text("#!/bin/sh\nexit 7\n")
    broken.chmod(0o755)
    (broken.parent / "stale.txt").write_text("old file")
    with pytest.raises(PluginInstallError, match=r"failed to get metadata of existing plugin: .*exit status 7"):
        manager.install_from_file(_exe(tmp_path, "fix"))
    assert manager.install_from_file(_exe(tmp_path, "fix"), force=True) == ("fix", None, "1.0.0")
    assert sorted(p.name for p in broken.parent.iterdir()) == ["notation-fix"]  # PLG-87: directory replaced


def test_plg83_plg84_install_zip(manager: PluginManager, tmp_path: Path) -> None:
    path = _zip(
        tmp_path / "plugin.zip",
        [
            ("notation-zipped", _src("zipped", "0.3.0"), 0o100755),
            ("LICENSE", b"Apache-2.0", 0o100644),
            ("docs/README.md", b"skipped: not at the root", 0o100644),
        ],
    )
    assert manager.install_from_file(path) == ("zipped", None, "0.3.0")
    assert sorted(p.name for p in (manager.plugins_dir / "zipped").iterdir()) == ["LICENSE", "notation-zipped"]
    assert stat.S_IMODE((manager.plugins_dir / "zipped" / "LICENSE").stat().st_mode) == 0o644


def test_plg84_single_candidate_without_x_bit_is_made_executable(manager: PluginManager, tmp_path: Path) -> None:
    path = _zip(tmp_path / "p.zip", [("notation-nox", _src("nox"), 0o100644)])
    assert manager.install_from_file(path).name == "nox"
    assert os.access(manager.plugins_dir / "nox" / "notation-nox", os.X_OK)


def test_plg84_two_executables_or_none(manager: PluginManager, tmp_path: Path) -> None:
    two = _zip(tmp_path / "two.zip", [("notation-a", _src("a"), 0o100755), ("notation-b", _src("b"), 0o100755)])
    with pytest.raises(PluginInstallError, match=r"found more than one plugin executable files$"):
        manager.install_from_file(two)
    none = _zip(tmp_path / "none.zip", [("readme", b"x", 0o100755)])
    with pytest.raises(PluginInstallError, match=r"no plugin executable file was found$"):
        manager.install_from_file(none)


def test_plg83_install_tar_gz_flattens_directories(manager: PluginManager, tmp_path: Path) -> None:
    path = _tgz(
        tmp_path / "plugin.tar.gz",
        [("pkg/bin/notation-tarred", _src("tarred", "1.4.0"), 0o755), ("pkg/LICENSE", b"MIT", 0o644)],
    )
    assert manager.install_from_file(path) == ("tarred", None, "1.4.0")
    assert sorted(p.name for p in (manager.plugins_dir / "tarred").iterdir()) == ["LICENSE", "notation-tarred"]


def test_plg83_sniffs_content_not_extension(manager: PluginManager, tmp_path: Path) -> None:
    path = _tgz(tmp_path / "plugin.zip", [("notation-sniff", _src("sniff"), 0o755)])  # a tar.gz named .zip
    assert manager.install_from_file(path).name == "sniff"


def test_plg83_zip_slip_rejected(manager: PluginManager, tmp_path: Path) -> None:
    path = _zip(tmp_path / "evil.zip", [("notation-ok", _src("ok"), 0o100755), ("../../evil", b"x", 0o100755)])
    with pytest.raises(PluginInstallError) as err:
        manager.install_from_file(path)
    assert (
        str(err.value) == "plugin installation failed: file name in zip cannot contain '..', but found \"../../evil\""
    )
    assert not (tmp_path / "evil").exists()


def test_plg83_tar_slip_rejected(manager: PluginManager, tmp_path: Path) -> None:
    path = _tgz(tmp_path / "evil.tgz", [("../notation-evil", _src("evil"), 0o755)])
    with pytest.raises(PluginInstallError) as err:
        manager.install_from_file(path)
    assert str(err.value) == (
        "plugin installation failed: file name in tar.gz cannot contain '..', but found \"../notation-evil\""
    )


def test_symlink_entries_rejected(manager: PluginManager, tmp_path: Path) -> None:
    zpath = _zip(tmp_path / "link.zip", [("notation-l", _src("l"), 0o100755), ("passwd", b"/etc/passwd", 0o120777)])
    with pytest.raises(PluginInstallError, match='cannot be a symbolic link, but found "passwd"'):
        manager.install_from_file(zpath)
    tpath = _tgz(tmp_path / "link.tgz", [("notation-l", _src("l"), 0o755)], links=[("passwd", "/etc/passwd")])
    with pytest.raises(PluginInstallError, match='cannot be a link, but found "passwd"'):
        manager.install_from_file(tpath)
    assert not manager.plugins_dir.exists() or not any(manager.plugins_dir.iterdir())


def test_plg83_oversize_zip_bomb_rejected(manager: PluginManager, tmp_path: Path) -> None:
    """A real 257 MiB member (deflates to a few hundred KiB): rejected before it is written."""
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr(zipfile.ZipInfo("notation-bomb"), _src("bomb"))
        big = zipfile.ZipInfo("payload")
        big.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(big, "w", force_zip64=True) as member:
            zero = bytes(1024 * 1024)
            for _ in range(257):
                member.write(zero)
    assert path.stat().st_size < 5 * 1024 * 1024
    with pytest.raises(
        PluginInstallError, match=r"^plugin installation failed: total file size reached the 256 MiB size limit$"
    ):
        manager.install_from_file(path)


def test_plg83_size_limits_with_small_cap(
    manager: PluginManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive_mod, "MAX_FILE_BYTES", 4096)
    big = b"#" * 5000
    tpath = _tgz(tmp_path / "big.tgz", [("notation-t", _src("t"), 0o755), ("blob", big, 0o644)])
    with pytest.raises(PluginInstallError, match=r"total file size reached the 0 MiB size limit"):
        manager.install_from_file(tpath)
    single = tmp_path / "s" / "notation-single"
    single.parent.mkdir()
    single.write_bytes(b"#!/bin/sh\n" + big)
    single.chmod(0o755)
    with pytest.raises(
        PluginInstallError, match=r"^plugin installation failed: file size reached the 0 MiB size limit$"
    ):
        manager.install_from_file(single)


def test_archive_entry_count_limit(manager: PluginManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_mod, "MAX_ENTRIES", 3)
    path = _zip(tmp_path / "many.zip", [(f"f{i}", b"x", 0o100644) for i in range(4)])
    with pytest.raises(PluginInstallError, match=r"zip archive has more than 3 entries"):
        manager.install_from_file(path)


def test_corrupt_archive_is_a_clear_error(manager: PluginManager, tmp_path: Path) -> None:
    path = tmp_path / "corrupt.tgz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage-not-gzip")
    with pytest.raises(PluginInstallError, match=r"^plugin installation failed: failed to read tar.gz archive"):
        manager.install_from_file(path)


# -- install from a URL ---------------------------------------------------------------------------------------------


def test_plg81_install_from_https_url(manager: PluginManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _zip(tmp_path / "web.zip", [("notation-web", _src("web", "2.0.0"), 0o100755)]).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    with https_server(tmp_path / "tls") as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_path))
        server.routes["/web.zip"] = (200, data, {})
        server.routes["/moved"] = (302, b"", {"Location": "/web.zip"})
        progress: list[str] = []
        result = manager.install_from_url(f"{server.base_url}/moved", digest, on_progress=progress.append)
        assert result == ("web", None, "2.0.0")
        assert progress == [f"Downloading plugin from {server.base_url}/moved", "Download completed"]

        with pytest.raises(PluginInstallError) as err:
            manager.install_from_url(f"{server.base_url}/web.zip", "ab" * 32, force=True)
        assert str(err.value) == (
            f"plugin installation failed: plugin SHA-256 checksum does not match user input. Expecting {'ab' * 32}"
        )
        with pytest.raises(PluginInstallError) as err:
            manager.install_from_url(f"{server.base_url}/missing", digest)
        assert str(err.value) == (
            f"failed to download plugin from URL {server.base_url}/missing with error: "
            f'GET "{server.base_url}/missing": https response bad status: 404 Not Found'
        )
        server.routes["/downgrade"] = (302, b"", {"Location": "http://127.0.0.1:1/web.zip"})
        with pytest.raises(PluginInstallError, match=r"only the HTTPS scheme is supported"):
            manager.install_from_url(f"{server.base_url}/downgrade", digest)
        server.routes["/broken"] = (302, b"", {"Location": "https://[x/web.zip"})
        with pytest.raises(PluginInstallError, match=r"/broken\": invalid redirect location: Invalid IPv6 URL$"):
            manager.install_from_url(f"{server.base_url}/broken", digest)
        assert "/web.zip" in server.hits


def test_plg81_untrusted_tls_is_refused(
    manager: PluginManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with https_server(tmp_path / "tls") as server:
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        server.routes["/p"] = (200, b"x", {})
        with pytest.raises(
            PluginInstallError,
            match=r"failed to download plugin from URL .*: Get \".*\": tls: failed to verify certificate: x509: "
            r"certificate signed by unknown authority",
        ):
            manager.install_from_url(f"{server.base_url}/p", "00" * 32)
        assert server.hits == []


def test_plg81_https_only_and_checksum_required(manager: PluginManager) -> None:
    with pytest.raises(PluginInstallError) as err:
        manager.install_from_url("https://example.com/p.zip", "")
    assert str(err.value) == "installing from URL requires non-empty SHA256 checksum of the plugin source"
    with pytest.raises(PluginInstallError) as err:
        manager.install_from_url("http://example.com/p.zip", "00")
    assert str(err.value) == "failed to download plugin from URL: only the HTTPS scheme is supported, but got http"


# -- uninstall ------------------------------------------------------------------------------------------------------


def test_plg90_uninstall(manager: PluginManager, tmp_path: Path) -> None:
    install_plugin(manager.libexec_dir, "gone")
    manager.uninstall("gone")
    assert list(manager.plugins_dir.iterdir()) == []
    with pytest.raises(PluginNotFoundError) as err:
        manager.uninstall("gone")
    assert (
        str(err.value) == "unable to find plugin gone.\nTo view a list of installed plugins, use `notation plugin list`"
    )
