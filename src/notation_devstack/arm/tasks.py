"""ACR Tasks quick runs (``az acr build``): a source upload URL, the upload itself (a block-blob PUT, as Azure
Storage takes it), ``scheduleRun`` with a ``DockerBuildRequest``, and the run's status with ``outputImages``.

The run is done inside ``scheduleRun`` by the devstack's Dockerfile-subset builder and pushed to the registry, so
the run comes back finished and ``az``'s poller stops at once. A build error (a RUN line, a missing file) fails the
run with that message in ``runErrorMessage`` (``az acr task show-run``); a remote context (git URL, tarball URL)
fails the request clearly: there is no network.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import tarfile
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from notation_devstack.cloud.http import HttpError, Request, Response

if TYPE_CHECKING:
    from notation_devstack.arm.service import ArmConfig
    from notation_devstack.arm.store import ArmStore

BLOB_PREFIX = "devstackstorage"
MAX_CONTEXT = 64 * 1024 * 1024


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


class Tasks:
    def __init__(self, config: ArmConfig, store: ArmStore) -> None:
        self.config = config
        self.store = store
        key_path = store.root / "blob-key"
        if not key_path.exists():
            from notation_devstack.vault.store import atomic_write

            atomic_write(key_path, secrets.token_bytes(32), mode=0o600)
        self._key = key_path.read_bytes()

    def _sig(self, blob: str, expiry: str) -> str:
        return hmac.new(self._key, f"{blob}\n{expiry}".encode(), hashlib.sha256).hexdigest()

    # --- the storage side -------------------------------------------------------------------------------------

    def blob_route(self, request: Request) -> Response | None:
        seg = request.segments
        if len(seg) != 3 or seg[0] != BLOB_PREFIX or seg[1] != "source":
            return None
        blob = seg[2]
        expiry = request.query.get("se", "")
        if not hmac.compare_digest(request.query.get("sig", ""), self._sig(blob, expiry)) or expiry < _now():
            raise HttpError(403, "AuthenticationFailed", "Server failed to authenticate the request. Make sure the "
                                                         "value of Authorization header is formed correctly.",
                            body=b"", headers={"x-ms-error-code": "AuthenticationFailed"})
        path = self.store.uploads / blob
        if request.method == "PUT":
            if len(request.body) > MAX_CONTEXT:
                raise HttpError(413, "RequestBodyTooLarge", "The build context is larger than 64 MiB.", body=b"")
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(request.body)
            tmp.replace(path)
            md5 = hashlib.md5(request.body, usedforsecurity=False).digest()
            import base64

            return Response(201, None, {"ETag": f'"0x{secrets.token_hex(8).upper()}"',
                                        "Last-Modified": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
                                        "Content-MD5": base64.b64encode(md5).decode(),
                                        "x-ms-request-server-encrypted": "true", "x-ms-version": "2021-08-06"})
        if request.method in ("GET", "HEAD") and path.exists():
            return Response(200, path.read_bytes())
        raise HttpError(404, "BlobNotFound", "The specified blob does not exist.", body=b"",
                        headers={"x-ms-error-code": "BlobNotFound"})

    # --- the registry side ------------------------------------------------------------------------------------

    def route(self, request: Request, registry_id: str, rest: list[str]) -> Response:
        low = [s.lower() for s in rest]
        if low == ["listbuildsourceuploadurl"] and request.method == "POST":
            blob = f"{secrets.token_hex(16)}.tar.gz"
            expiry = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 3600))
            from urllib.parse import quote

            url = (f"{request.base}/{BLOB_PREFIX}/source/{blob}?sv=2021-08-06&sr=b&sp=cw"
                   f"&se={quote(expiry, safe='')}&sig={self._sig(blob, expiry)}")
            return Response(200, {"uploadUrl": url, "relativePath": f"source/{blob}"})
        if low == ["schedulerun"] and request.method == "POST":
            return Response(200, self._schedule(registry_id, request.json()))
        if len(low) >= 2 and low[0] == "runs":
            run = self.store.doc["runs"].get(rest[1].lower())
            if run is None:
                raise HttpError(404, "ResourceNotFound", f"The run '{rest[1]}' was not found.")
            if len(low) == 2 and request.method == "GET":
                return Response(200, run)
            if low[2:] == ["listlogsasurl"] and request.method == "POST":
                return Response(200, {"logLink": run["properties"].get("logLink", "")})
        raise HttpError(404, "NotFound", f"notation-devstack ACR does not serve {request.method} {'/'.join(rest)}")

    def _schedule(self, registry_id: str, doc: dict[str, Any]) -> dict[str, Any]:
        kind = doc.get("type")
        if kind != "DockerBuildRequest":
            raise HttpError(400, "InvalidRunRequest", f"notation-devstack ACR Tasks runs DockerBuildRequest only "
                                                      f"(got {kind!r}).")
        source = str(doc.get("sourceLocation") or "")
        if not source.startswith("source/"):
            raise HttpError(400, "InvalidSourceLocation", f"Cannot fetch the build context {source}: "
                                                          "notation-devstack is offline; give a local directory.")
        with self.store.lock:
            run_id = f"dt{len(self.store.doc['runs']) + 1}"
            self.store.doc["runs"][run_id] = {}
        started = _now()
        outputs: list[dict[str, Any]] = []
        error = ""
        try:
            outputs = self._build(source, doc)
            status = "Succeeded"
        except Exception as exc:  # the builder's own error text becomes the run's error
            status, error = "Failed", str(exc) or type(exc).__name__
        run = {
            "id": f"{registry_id}/runs/{run_id}", "name": run_id,
            "type": "Microsoft.ContainerRegistry/registries/runs",
            "properties": {
                "runId": run_id, "status": status, "lastUpdatedTime": _now(), "runType": "QuickRun",
                "createTime": started, "startTime": started, "finishTime": _now(),
                "outputImages": outputs, "platform": doc.get("platform") or {"os": "linux", "architecture": "amd64"},
                "agentConfiguration": {"cpu": 2}, "isArchiveEnabled": False, "provisioningState": "Succeeded",
                **({"runErrorMessage": error} if error else {}),
            },
        }
        with self.store.lock:
            self.store.doc["runs"][run_id] = run
            self.store.save()
        if error:
            # az's --no-logs poller would only say "finished with unsuccessful status"; say why, at once
            raise HttpError(400, "BuildFailed", f"The run with ID '{run_id}' failed: {error}")
        return run

    def _build(self, source: str, doc: dict[str, Any]) -> list[dict[str, Any]]:
        from notation_devstack.image.build import build, push
        from notation_devstack.image.client import ImageRef, RegistryClient

        archive = self.store.uploads / source.split("/", 1)[1]
        if not archive.exists():
            raise RuntimeError(f"the uploaded source {source} is gone")
        names = [str(n) for n in doc.get("imageNames") or []]
        args = {}
        for item in doc.get("arguments") or []:
            if isinstance(item, dict) and item.get("name"):
                args[str(item["name"])] = str(item.get("value") or "")
        with tempfile.TemporaryDirectory(prefix="acr-task-") as tmp:
            context = Path(tmp)
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(context, filter="data")
            dockerfile = context / str(doc.get("dockerFilePath") or "Dockerfile")
            if not dockerfile.resolve().is_relative_to(context.resolve()) or not dockerfile.is_file():
                raise RuntimeError(f"Dockerfile {doc.get('dockerFilePath')!r} not found in the build context")
            c = self.config
            login = c.registry_login_server

            def client_for(registry: str) -> RegistryClient:
                if registry == login:
                    return RegistryClient(registry, c.registry_username, c.registry_password)
                raise RuntimeError(f"cannot pull from {registry}: notation-devstack is offline")

            image = build(context, dockerfile, client_for=client_for, build_args=args)
            outputs = []
            if doc.get("isPushEnabled", True):
                for name in names:
                    full = name if name.split("/", 1)[0] == login else f"{login}/{name}"
                    ref = ImageRef.parse(full)
                    if ref.registry != login:
                        raise RuntimeError(f"cannot push {name}: only {login} is served")
                    digest = push(image, client_for(ref.registry), ref.repository, ref.tag)
                    outputs.append({"registry": ref.registry, "repository": ref.repository, "tag": ref.tag,
                                    "digest": digest})
            return outputs
