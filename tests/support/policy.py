"""The one-statement OCI trust policy the CLI logging tests verify against (CLI-06, CLI-130)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from notation._internal.cli.main import main


def import_policy(directory: Path, **statement: Any) -> None:
    """``notation policy import --force`` of a strict statement ``e2e`` for every registry (``*``) trusting the
    ``ca:e2e`` store for any identity; ``statement`` replaces members (``trustStores=[...]``, ...). Each call writes
    a new file in ``directory``, so a test can re-import a changed policy."""
    doc = {
        "version": "1.0",
        "trustPolicies": [
            {
                "name": "e2e",
                "registryScopes": ["*"],
                "signatureVerification": {"level": "strict"},
                "trustStores": ["ca:e2e"],
                "trustedIdentities": ["*"],
                **statement,
            }
        ],
    }
    path = directory / f"policy-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(doc))
    assert main(["policy", "import", "--force", str(path)]) == 0
