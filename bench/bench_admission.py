"""Benchmark of the admission service (issue 14); prints figures, asserts nothing.

Run: ``.venv/bin/python bench/bench_admission.py [--count 200] [--duration 10] [--connections 32]``

* N distinct signed images in our registry (notation_devstack, plain HTTP on 127.0.0.1), referenced by digest;
* ``notation-admission serve`` in its own process over TLS (wrk cannot present a client certificate, so no mTLS here);
* cold pass: one AdmissionReview per image, 32 concurrent keep-alive clients (connected before the clock starts, as
  the API server's connections are), every image verified once (wall, per image);
* warm: ``wrk`` (Debian's, its own process, TLS, keep-alive) posting real AdmissionReviews that cycle over the N
  images at C connections for D seconds: reviews/s and latency percentiles;
* the same N images through N ``notation verify`` processes, one after another (what a script without the service
  pays).

Targets on the 2-core machine: warm >= 1,000 reviews/s with p99 <= 30 ms; cold <= 2 s for 200 images. The load
average is printed with the figures: the machine may be shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_many import NOTATION, push_images, timed


def tls_files(directory: Path) -> tuple[Path, Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    (directory / "ca.crt").write_bytes(ca.public_bytes(pem))
    (directory / "tls.crt").write_bytes(cert.public_bytes(pem))
    (directory / "tls.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return directory / "ca.crt", directory / "tls.crt", directory / "tls.key"


def review(image: str) -> dict[str, Any]:
    gvk = {"group": "", "version": "v1", "kind": "Pod"}
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
           "spec": {"containers": [{"name": "app", "image": image}]}}  # fmt: skip
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {"uid": str(uuid.uuid4()), "kind": gvk, "resource": {"group": "", "version": "v1",
                    "resource": "pods"}, "namespace": "default", "operation": "CREATE", "object": obj,
                    "userInfo": {"username": "bench"}, "dryRun": False},
    }  # fmt: skip


WRK_SCRIPT = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, "/validate", nil, bodies[i])
end
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, '"allowed":true', 1, true) then
    wrk.thread:stop()
    io.stderr:write("unexpected answer: " .. status .. " " .. body .. "\\n")
  end
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--skip-processes", action="store_true", help="skip the N notation verify processes")
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench_admission needs wrk (apt-get install wrk)")

    import requests

    from notation_devstack.registry import RegistryServer

    with tempfile.TemporaryDirectory(prefix="notation-bench-admission-") as tmp:
        base = Path(tmp)
        env = dict(os.environ, NOTATION_CONFIG=str(base / "config"), NOTATION_CACHE=str(base / "cache"))
        env.pop("NOTATION_VERIFY_CACHE", None)
        subprocess.run([*NOTATION, "cert", "generate-test", "--default", "bench"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        policy = {"version": "1.0", "trustPolicies": [{"name": "bench", "registryScopes": ["*"],
                  "signatureVerification": {"level": "strict"}, "trustStores": ["ca:bench"],
                  "trustedIdentities": ["*"]}]}  # fmt: skip
        (base / "policy.json").write_text(json.dumps(policy))
        subprocess.run([*NOTATION, "policy", "import", str(base / "policy.json")], env=env, check=True,
                       capture_output=True)  # fmt: skip
        ca, cert, key = tls_files(base)

        with RegistryServer(base / "registry") as registry:
            host = registry.host
            refs = [f"{host}/bench/app@{d}" for d in push_images(registry.url, "bench/app", args.count)]
            timed([*NOTATION, "sign", "--insecure-registry", "--parallel", "8", *refs], env)
            print(f"{args.count} signed images on {registry.url}; load average before: {os.getloadavg()[0]:.2f}")

            serve = subprocess.Popen(
                [sys.executable, "-m", "notation_admission", "serve", "--config-dir", str(base / "config"),
                 "--host", "127.0.0.1", "--port", "0", "--tls-cert", str(cert), "--tls-key", str(key),
                 "--insecure-registry", host, "--decision-log", str(base / "decisions.jsonl")],
                env=env, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                assert serve.stderr is not None
                line = serve.stderr.readline()
                if "listening on" not in line:
                    raise SystemExit(f"the service did not start: {line}{serve.stderr.read()}")
                url = line.split()[-1]
                session = requests.Session()
                session.trust_env = False
                session.verify = str(ca)
                session.get(url + "/healthz", timeout=10).raise_for_status()

                local = threading.local()

                def post_health() -> None:
                    if getattr(local, "session", None) is None:
                        local.session = requests.Session()
                        local.session.trust_env, local.session.verify = False, str(ca)
                        local.session.get(url + "/healthz", timeout=10)

                def post(ref: str) -> bool:
                    post_health()  # one keep-alive connection per client, as the API server keeps its own
                    s = local.session
                    r = s.post(url + "/validate", json=review(ref), timeout=30)
                    return bool(r.json()["response"]["allowed"])

                with ThreadPoolExecutor(args.connections) as pool:
                    list(pool.map(lambda _: post_health(), range(args.connections * 4)))  # connect the clients
                    start = time.perf_counter()
                    ok = list(pool.map(post, refs))
                    cold = time.perf_counter() - start
                assert all(ok), "a signed image was denied"
                print(f"cold pass: {args.count} images verified once, {args.connections} concurrent clients: "
                      f"{cold:.2f} s wall, {cold / args.count * 1000:.1f} ms per image (target <= 2 s)")  # fmt: skip

                bodies = base / "bodies.txt"
                bodies.write_text("".join(json.dumps(review(r), separators=(",", ":")) + "\n" for r in refs))
                script = base / "review.lua"
                script.write_text(WRK_SCRIPT % bodies)
                proc = subprocess.run(
                    [wrk, "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency", "-s", str(script),
                     url],
                    capture_output=True, text=True, timeout=args.duration + 60,
                )  # fmt: skip
                out = proc.stdout
                rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
                pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)", out, re.M))
                errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
                print(f"warm: wrk -t2 -c{args.connections} -d{args.duration}s over TLS, keep-alive: "
                      f"{float(rps.group(1)) if rps else 0:.0f} reviews/s, p50 {pct.get('50')}, p90 {pct.get('90')}, "
                      f"p99 {pct.get('99')} (targets >= 1,000/s, p99 <= 30 ms)")  # fmt: skip
                if errors or proc.stderr.strip():
                    print(f"  wrk reported: {errors.group(0) if errors else ''} {proc.stderr.strip()[:300]}")
                metrics = session.get(url + "/metrics", timeout=10).text
                verified = re.search(r'verifications_total\{outcome="verified"\} ([\d.e+]+)', metrics)
                hits = re.search(r'cache_total\{layer="local",result="hit"\} ([\d.e+]+)', metrics)
                print(f"  service metrics: {float(verified.group(1)) if verified else 0:.0f} verifications, "
                      f"{float(hits.group(1)) if hits else 0:.0f} local cache hits; "
                      f"load average after: {os.getloadavg()[0]:.2f}")  # fmt: skip
            finally:
                serve.terminate()
                serve.wait(15)

            if not args.skip_processes:
                start = time.perf_counter()
                for ref in refs:
                    timed([*NOTATION, "verify", "--insecure-registry", ref], env)
                many = time.perf_counter() - start
                print(f"{args.count} `notation verify` processes, one after another: {many:.2f} s wall, "
                      f"{many / args.count * 1000:.0f} ms per image ({many / cold:.0f}x the service's cold pass)")


if __name__ == "__main__":
    main()
