"""Shared pytest setup: every test runs with its own notation config, cache and libexec directories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_notation_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Never read or write the real ~/.config/notation: NOTATION_CONFIG/CACHE point into a temp dir."""
    base = tmp_path_factory.mktemp("notation-home")
    monkeypatch.setenv("NOTATION_CONFIG", str(base / "config"))
    monkeypatch.setenv("NOTATION_CACHE", str(base / "cache"))
    monkeypatch.delenv("NOTATION_LIBEXEC", raising=False)
    monkeypatch.delenv("NOTATION_USERNAME", raising=False)
    monkeypatch.delenv("NOTATION_PASSWORD", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(base / "docker"))
    yield base
