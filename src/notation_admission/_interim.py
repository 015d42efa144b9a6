"""Stand-in for ``notation.Verifier`` until it lands on main (same constructor and methods, over notation.verify)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any


class InterimVerifier:  # pragma: no cover - replaced by notation.Verifier
    def __init__(self, *, config_dir: Path, insecure_registries: tuple[str, ...] = (), **_: Any) -> None:
        from notation._internal.registry.client import RegistryClient

        self._dir = Path(config_dir)
        self._insecure = set(insecure_registries)
        self._client = RegistryClient(insecure=bool(self._insecure))
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        from notation._internal.trust.policy import TrustPolicyDocument

        TrustPolicyDocument.load(self._dir)

    def resolve(self, reference: str) -> Any:
        from notation._internal.oci.reference import parse_reference

        parsed = parse_reference(reference)
        return self._client.repository(parsed).resolve(parsed.digest or parsed.tag or "")

    def verify(self, reference: str) -> Any:
        import notation
        from notation._internal.oci.reference import parse_reference

        registry = parse_reference(reference).registry
        return notation.verify(
            reference,
            trust_policy=self._dir / "trustpolicy.json",
            trust_store_dir=self._dir / "truststore",
            insecure_registry=registry in self._insecure,
        )

    @property
    def request_count(self) -> int:
        return self._client.request_count

    def close(self) -> None:
        self._client.close()
