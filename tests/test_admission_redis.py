"""The shared verified-digest cache in a real redis-server (Debian's, started by the test on a free port): a second
replica answers from Redis without verifying; with Redis killed mid-run both keep deciding from their own caches and
the verifier, and say so in /metrics (issue 14)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from admission_support import RedisServer, client, pod, review, serving, tls_material
from admission_support import Service as AdmissionService
from extensions_support import setup_trust
from notation._internal.cli.main import main
from notation_admission.cli import Options
from registry_support import push_image, running

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None and not Path("/usr/bin/redis-server").exists(),
    reason="redis-server is installed by .ci/run",
)


def test_replicas_share_verdicts_and_survive_redis_down(tmp_path: Path) -> None:
    setup_trust(tmp_path)
    config = Path(os.environ["NOTATION_CONFIG"])
    tls = tls_material(tmp_path / "tls")
    redis = RedisServer(tmp_path)
    try:
        with running() as registry:
            refs = []
            for i in range(3):
                desc = push_image(registry, "app", tag=f"v{i}", layer=f"redis {i}".encode())
                refs.append(f"{registry.address}/app@{desc.digest}")
                assert main(["sign", "--insecure-registry", refs[-1]]) == 0

            def opts() -> Options:
                return Options(
                    config_dir=config, host="127.0.0.1", port=0, tls_cert=tls.server_cert, tls_key=tls.server_key,
                    insecure_registries=[registry.address], redis_url=redis.url, graceful_shutdown=0.2,
                )

            with serving(opts()) as a, serving(opts()) as b:
                s = client(tls, cert=False)

                def allowed(svc: AdmissionService, ref: str) -> bool:
                    doc = review(pod(ref))
                    return bool(s.post(svc.url + "/validate", json=doc, timeout=10).json()["response"]["allowed"])

                assert allowed(a, refs[0])
                before = len(registry.state.requests)
                assert allowed(b, refs[0])  # replica b: answered from Redis, no registry traffic
                assert len(registry.state.requests) == before
                assert b.decisions()[-1]["images"][0]["source"] == "redis"
                metrics = s.get(b.url + "/metrics", timeout=5).text
                assert 'notation_admission_cache_total{layer="redis",result="hit"} 1.0' in metrics
                assert 'notation_admission_verifications_total{outcome="verified"}' not in metrics

                redis.kill()  # mid-run
                assert allowed(b, refs[1])  # verified by b itself
                assert allowed(a, refs[1])  # a too: no shared cache now, its own verification
                assert allowed(b, refs[0])  # b's local cache still holds what it read from Redis
                unsigned = push_image(registry, "app", tag="bad", layer=b"unsigned redis")
                assert not allowed(a, f"{registry.address}/app@{unsigned.digest}")  # still fail closed
                for svc in (a, b):
                    text = s.get(svc.url + "/metrics", timeout=5).text
                    assert "notation_admission_redis_up 0.0" in text
                    assert "notation_admission_redis_errors_total 1.0" in text  # then skipped for a while
    finally:
        redis.kill()


def test_sealed_entries_forged_or_foreign_are_ignored(tmp_path: Path) -> None:
    """With --redis-secret-file an entry admits only when its HMAC checks: a forged entry for an unsigned digest
    (written by anyone who can reach Redis) and an entry sealed with another secret are misses, never passes."""
    import hashlib
    import json

    import redis as redis_py

    from notation_admission.core import REDIS_PREFIX

    setup_trust(tmp_path)
    config = Path(os.environ["NOTATION_CONFIG"])
    tls = tls_material(tmp_path / "tls")
    secret, other = tmp_path / "secret", tmp_path / "other"
    secret.write_text("0123456789abcdef-shared\n")
    other.write_text("fedcba9876543210-other\n")
    server = RedisServer(tmp_path)
    try:
        with running() as registry:
            signed = push_image(registry, "app", tag="s", layer=b"sealed signed")
            unsigned = push_image(registry, "app", tag="u", layer=b"sealed unsigned")
            good, bad = (f"{registry.address}/app@{d.digest}" for d in (signed, unsigned))
            assert main(["sign", "--insecure-registry", good]) == 0

            def opts(key: Path) -> Options:
                return Options(
                    config_dir=config, host="127.0.0.1", port=0, tls_cert=tls.server_cert, tls_key=tls.server_key,
                    insecure_registries=[registry.address], redis_url=server.url, redis_secret_file=key,
                    graceful_shutdown=1,
                )

            with serving(opts(secret)) as a, serving(opts(secret)) as b, serving(opts(other)) as c:
                s = client(tls, cert=False)

                def answer(svc: AdmissionService, ref: str) -> tuple[bool, str]:
                    doc = review(pod(ref))
                    allowed = s.post(svc.url + "/validate", json=doc, timeout=10).json()["response"]["allowed"]
                    return bool(allowed), svc.decisions()[-1]["images"][0]["source"]

                fp = a.running.verifier.fingerprint
                assert answer(a, good) == (True, "verifier")
                assert answer(b, good) == (True, "redis")  # same secret: shared
                assert answer(c, good) == (True, "verifier")  # other secret: a miss, verified itself
                forged = json.dumps({"body": json.dumps({"allowed": True, "level": "strict", "policy": "reg",
                                     "warnings": [], "expires": time.time() + 300}), "mac": "00" * 32})
                rkey = REDIS_PREFIX + hashlib.sha256(
                    "\0".join((fp, f"{registry.address}/app", unsigned.digest)).encode()).hexdigest()
                redis_py.Redis.from_url(server.url).set(rkey, forged)
                assert answer(b, bad) == (False, "verifier")
                assert 'notation_admission_cache_total{layer="redis",result="invalid"}' in s.get(
                    b.url + "/metrics", timeout=5).text
    finally:
        server.kill()
