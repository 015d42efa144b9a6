"""Registry load clients and the ledger of acknowledged writes they check the registry against.

A write is *acknowledged* when the registry answered it with a 201; only then does it enter the ledger, and from
then on the registry must serve it byte for byte -- under load, and after a kill -9 and a restart.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from devstack_registry_support.oci import NOTARY, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, descriptor, digest
from load_support.harness import Figures

EMPTY = b"{}"
SIG_MEDIA = "application/jose+json"


class Unexpected(Exception):
    """The registry answered something other than what the protocol promises for this request."""


def _expect(r: requests.Response, status: int, what: str) -> requests.Response:
    if r.status_code != status:
        raise Unexpected(f"{what}: HTTP {r.status_code} (wanted {status}): {r.text[:200]}")
    return r


@dataclass
class Ledger:
    """Everything the registry acknowledged (thread-safe)."""

    blobs: dict[tuple[str, str], bytes] = field(default_factory=dict)
    manifests: dict[tuple[str, str], bytes] = field(default_factory=dict)
    tags: dict[tuple[str, str], str] = field(default_factory=dict)
    referrers: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_blob(self, repo: str, data: bytes) -> None:
        with self.lock:
            self.blobs[(repo, digest(data))] = data

    def add_manifest(self, repo: str, body: bytes, tag: str | None, subject: str | None) -> None:
        with self.lock:
            self.manifests[(repo, digest(body))] = body
            if tag:
                self.tags[(repo, tag)] = digest(body)
            if subject:
                self.referrers.setdefault((repo, subject), set()).add(digest(body))

    def pick(self, rng: random.Random) -> tuple[str, tuple[str, str], bytes] | None:
        with self.lock:
            if not self.blobs:
                return None
            if rng.random() < 0.5 or not self.manifests:
                key = rng.choice(list(self.blobs)) if len(self.blobs) < 2000 else next(iter(self.blobs))
                return "blob", key, self.blobs[key]
            key = rng.choice(list(self.manifests)) if len(self.manifests) < 2000 else next(iter(self.manifests))
            return "manifest", key, self.manifests[key]

    def referrer_snapshot(self, rng: random.Random) -> tuple[tuple[str, str], set[str]] | None:
        with self.lock:
            if not self.referrers:
                return None
            key = rng.choice(list(self.referrers))
            return key, set(self.referrers[key])


class Client:
    """One load client: its own HTTPS session (keep-alive, basic auth, our CA) and a reproducible RNG."""

    def __init__(self, url: str, auth: tuple[str, str], ca: Path, seed: int) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.auth = auth
        self.session.verify = str(ca)
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify; no proxies on loopback
        self.rng = random.Random(seed)

    def close(self) -> None:
        self.session.close()

    # ----- writes --------------------------------------------------------------------------------------------
    def push_blob(self, repo: str, data: bytes, chunks: int = 1) -> None:
        """Monolithic POST (chunks=1) or POST + PATCHes + closing PUT; returns only after the 201."""
        s, url = self.session, self.url
        if chunks <= 1:
            r = s.post(f"{url}/v2/{repo}/blobs/uploads/", params={"digest": digest(data)}, data=data)
            _expect(r, 201, "monolithic blob push")
        else:
            r = _expect(s.post(f"{url}/v2/{repo}/blobs/uploads/"), 202, "start upload")
            location = r.headers["Location"]
            step = max(1, len(data) // chunks)
            offset = 0
            while offset < len(data) - step:
                part = data[offset:offset + step]
                r = s.patch(f"{url}{location}", data=part, headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"{offset}-{offset + len(part) - 1}",
                })
                _expect(r, 202, "upload chunk")
                offset += len(part)
                location = r.headers["Location"]
            r = s.put(f"{url}{location}", params={"digest": digest(data)}, data=data[offset:],
                      headers={"Content-Type": "application/octet-stream"})
            _expect(r, 201, "close upload")
        if r.headers.get("Docker-Content-Digest") != digest(data):
            raise Unexpected(f"blob push answered digest {r.headers.get('Docker-Content-Digest')}")

    def push_manifest(self, repo: str, body: bytes, ref: str | None = None) -> requests.Response:
        r = self.session.put(f"{self.url}/v2/{repo}/manifests/{ref or digest(body)}", data=body,
                             headers={"Content-Type": OCI_MANIFEST})
        _expect(r, 201, "manifest push")
        if r.headers.get("Docker-Content-Digest") != digest(body):
            raise Unexpected(f"manifest push answered digest {r.headers.get('Docker-Content-Digest')}")
        return r

    def push_image(self, repo: str, tag: str, layer_size: int, chunks: int, ledger: Ledger,
                   figures: Figures) -> dict[str, Any]:
        """Config + layer + tagged manifest, each entering the ledger once acknowledged."""
        config = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag,
                             "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        layer = self.rng.randbytes(layer_size)
        self.push_blob(repo, config)
        ledger.add_blob(repo, config)
        figures.op("blob_push")
        self.push_blob(repo, layer, chunks)
        ledger.add_blob(repo, layer)
        figures.op("blob_push_chunked" if chunks > 1 else "blob_push")
        body = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config), "layers": [descriptor(OCI_LAYER, layer)],
        }).encode()
        self.push_manifest(repo, body, tag)
        ledger.add_manifest(repo, body, tag, None)
        figures.op("manifest_push")
        return descriptor(OCI_MANIFEST, body)

    def push_signature(self, repo: str, subject: dict[str, Any], ledger: Ledger, figures: Figures) -> str:
        """A Notary signature manifest (Form A) whose subject is ``subject``; returns its digest."""
        envelope = self.rng.randbytes(self.rng.randint(200, 3000))
        self.push_blob(repo, envelope)
        ledger.add_blob(repo, envelope)
        self.push_blob(repo, EMPTY)
        ledger.add_blob(repo, EMPTY)
        figures.op("blob_push")
        body = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": descriptor(NOTARY, EMPTY), "layers": [descriptor(SIG_MEDIA, envelope)],
            "subject": subject, "annotations": {"io.cncf.notary.x509chain.thumbprint#S256": envelope[:8].hex()},
        }).encode()
        r = self.push_manifest(repo, body)
        if r.headers.get("OCI-Subject") != subject["digest"]:
            raise Unexpected(f"signature push answered OCI-Subject {r.headers.get('OCI-Subject')}")
        ledger.add_manifest(repo, body, None, subject["digest"])
        figures.op("referrer_push")
        return digest(body)

    # ----- reads ---------------------------------------------------------------------------------------------
    def pull(self, kind: str, repo: str, dgst: str) -> bytes:
        """GET a blob or a manifest by digest; the bytes must hash to the digest."""
        path = "blobs" if kind == "blob" else "manifests"
        headers = {"Accept": OCI_MANIFEST} if kind == "manifest" else {}
        r = _expect(self.session.get(f"{self.url}/v2/{repo}/{path}/{dgst}", headers=headers), 200, f"{kind} pull")
        if digest(r.content) != dgst:
            raise Unexpected(f"{kind} {repo}@{dgst} served bytes hashing to {digest(r.content)}")
        return r.content

    def referrers(self, repo: str, subject: str) -> list[dict[str, Any]]:
        r = _expect(self.session.get(f"{self.url}/v2/{repo}/referrers/{subject}"), 200, "referrers")
        manifests = r.json().get("manifests")
        if not isinstance(manifests, list):
            raise Unexpected("referrers answer without a manifests list")
        return manifests


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return "sha256:" + h.hexdigest()


def verify_ledger(client: Client, ledger: Ledger, figures: Figures) -> None:
    """Every acknowledged blob, manifest, tag and referrer is served intact; misses are counted as lost."""
    for (repo, dgst), data in list(ledger.blobs.items()):
        figures.checked += 1
        try:
            if client.pull("blob", repo, dgst) != data:
                figures.loss(f"blob {repo}@{dgst} differs")
        except (Unexpected, requests.RequestException) as exc:
            figures.loss(f"blob {repo}@{dgst}: {exc}")
    for (repo, dgst), body in list(ledger.manifests.items()):
        figures.checked += 1
        try:
            if client.pull("manifest", repo, dgst) != body:
                figures.loss(f"manifest {repo}@{dgst} differs")
        except (Unexpected, requests.RequestException) as exc:
            figures.loss(f"manifest {repo}@{dgst}: {exc}")
    for (repo, tag), dgst in list(ledger.tags.items()):
        figures.checked += 1
        r = client.session.get(f"{client.url}/v2/{repo}/manifests/{tag}", headers={"Accept": OCI_MANIFEST})
        if r.status_code != 200 or r.headers.get("Docker-Content-Digest") != dgst or digest(r.content) != dgst:
            figures.loss(f"tag {repo}:{tag} -> HTTP {r.status_code} {r.headers.get('Docker-Content-Digest')}")
    for (repo, subject), wanted in list(ledger.referrers.items()):
        figures.checked += 1
        try:
            listed = {str(d.get("digest")) for d in client.referrers(repo, subject)}
        except (Unexpected, requests.RequestException) as exc:
            figures.loss(f"referrers {repo}@{subject}: {exc}")
            continue
        for missing in sorted(wanted - listed):
            figures.loss(f"referrer {missing} of {repo}@{subject} not listed")


def crawl(client: Client, figures: Figures) -> int:
    """Digest-checked reads of everything the registry lists: catalog -> tags -> manifests -> blobs, referrers.

    Anything listed but not served intact (a dangling tag, a torn blob, a referrer entry naming a manifest that is
    not there or has another subject) is an error: nothing half-written may be served. Returns the reads made.
    """
    reads = 0
    s, url = client.session, client.url
    repos = _expect(s.get(f"{url}/v2/_catalog"), 200, "catalog").json()["repositories"]
    for repo in repos:
        tags = _expect(s.get(f"{url}/v2/{repo}/tags/list"), 200, "tags").json()["tags"]
        seen: set[str] = set()
        todo: list[str] = []
        for tag in tags:
            r = s.get(f"{url}/v2/{repo}/manifests/{tag}", headers={"Accept": OCI_MANIFEST})
            reads += 1
            if r.status_code != 200 or digest(r.content) != r.headers.get("Docker-Content-Digest"):
                figures.error(f"listed tag {repo}:{tag} served HTTP {r.status_code} / a body not matching its digest")
                continue
            todo.append(digest(r.content))
        while todo:
            dgst = todo.pop()
            if dgst in seen:
                continue
            seen.add(dgst)
            try:
                body = json.loads(client.pull("manifest", repo, dgst))
                reads += 1
                for blob in [body["config"], *body["layers"]]:
                    data = client.pull("blob", repo, blob["digest"])
                    reads += 1
                    if len(data) != blob["size"]:
                        figures.error(f"blob {blob['digest']} is {len(data)} bytes, manifest says {blob['size']}")
                for entry in client.referrers(repo, dgst):
                    reads += 1
                    ref_body = client.pull("manifest", repo, entry["digest"])
                    if len(ref_body) != entry["size"] or json.loads(ref_body)["subject"]["digest"] != dgst:
                        figures.error(f"referrer entry {entry['digest']} of {repo}@{dgst} does not match its manifest")
                    todo.append(entry["digest"])
            except (Unexpected, requests.RequestException, ValueError, KeyError, TypeError) as exc:
                figures.error(f"listed manifest {repo}@{dgst}: {type(exc).__name__}: {exc}")
    return reads
