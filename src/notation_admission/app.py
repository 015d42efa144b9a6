"""The HTTP layer: AdmissionReview, Gatekeeper ProviderRequest and /verify documents in and out (Starlette).

Pure protocol translation over :class:`notation_admission.core.Core`; every request is bounded (body size, image
count, the core's time budget) and every decision is one JSON line on the decision log.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import IO, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from notation_admission import workloads
from notation_admission.core import Core, Verdict, one_line

log = logging.getLogger("notation_admission")

ADMISSION_API = "admission.k8s.io/v1"
PROVIDER_API = "externaldata.gatekeeper.sh/v1beta1"


class BadRequest(Exception):
    """A malformed or oversized request: 400/413 with a one-line message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Limits:
    max_body_bytes: int = 3 * 1024 * 1024
    """An AdmissionReview carries object and oldObject; etcd objects are at most 1.5 MiB."""
    max_images: int = 64


class DecisionLog:
    """One JSON object per line per decision (stderr by default)."""

    def __init__(self, stream: IO[str] | None) -> None:
        self.stream = stream

    def write(self, record: dict[str, Any]) -> None:
        if self.stream is None:
            return
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **record}
        self.stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.stream.flush()


def _image_log(v: Verdict) -> dict[str, Any]:
    return {
        "image": v.image,
        "digest": v.digest,
        "allowed": v.allowed,
        "reason": v.reason,
        "warnings": list(v.warnings),
        "source": v.source,
    }


class Service:
    def __init__(self, core: Core, limits: Limits, decisions: DecisionLog, status: Callable[[], dict[str, Any]]):
        self.core = core
        self.limits = limits
        self.decisions = decisions
        self.status = status

    # -- helpers -----------------------------------------------------------------------------------------------
    async def _json_body(self, request: Request) -> Any:
        declared = request.headers.get("content-length")
        limit = self.limits.max_body_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise BadRequest(f"request body of {declared} bytes is over the limit of {limit} bytes", 413)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BadRequest(f"request body is over the limit of {limit} bytes", 413)
            chunks.append(chunk)
        try:
            return json.loads(b"".join(chunks))
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"request body is not JSON: {one_line(str(exc))}") from None

    def _observe(self, endpoint: str, started: float, code: int) -> None:
        self.core.metrics.requests.labels(endpoint, str(code)).inc()
        self.core.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)

    # -- AdmissionReview ---------------------------------------------------------------------------------------
    async def validate(self, request: Request) -> Response:
        return await self._review(request, mutate=False)

    async def mutate(self, request: Request) -> Response:
        return await self._review(request, mutate=True)

    async def _review(self, request: Request, *, mutate: bool) -> Response:
        endpoint = "mutate" if mutate else "validate"
        started = time.perf_counter()
        try:
            doc = await self._json_body(request)
            req = _admission_request(doc)
        except BadRequest as exc:
            self._observe(endpoint, started, exc.status)
            return PlainTextResponse(str(exc) + "\n", exc.status)
        uid = req["uid"]
        kind = req.get("kind", {}).get("kind", "") if isinstance(req.get("kind"), dict) else ""
        obj = req.get("object")
        dry_run = bool(req.get("dryRun"))
        response: dict[str, Any] = {"uid": uid, "allowed": True}
        verdicts: list[Verdict] = []
        if req.get("operation") in ("DELETE", "CONNECT") or obj is None:
            pass  # nothing will run
        else:
            try:
                if not isinstance(obj, dict):
                    raise ValueError("object is not a JSON object")
                images = workloads.pod_spec_images(obj, kind)
            except workloads.UnsupportedObject as exc:
                response = _deny(uid, str(exc))
                images = []
            except ValueError as exc:
                self._observe(endpoint, started, 400)
                return PlainTextResponse(f"malformed {kind or 'object'}: {exc}\n", 400)
            names = list(workloads.unique(images))
            if len(names) > self.limits.max_images:
                response = _deny(uid, f"{len(names)} distinct images are over the limit of {self.limits.max_images}")
            elif names:
                verdicts = await self.core.check(names, write_shared=not dry_run)
                denied = [v for v in verdicts if not v.allowed]
                warnings = [f"{v.image}: {w}" for v in verdicts for w in v.warnings]
                if denied:
                    response = _deny(
                        uid,
                        "notation: "
                        + "; ".join(f"image {v.image} was not verified: {v.reason}" for v in denied),
                    )
                elif mutate:
                    ops = workloads.pin_patch(images, {v.image: v.digest for v in verdicts if v.digest})
                    if ops:
                        response["patchType"] = "JSONPatch"
                        response["patch"] = base64.b64encode(json.dumps(ops).encode()).decode()
                if warnings:
                    response["warnings"] = warnings
        meta = obj.get("metadata", {}) if isinstance(obj, dict) else {}
        self.decisions.write(
            {
                "endpoint": endpoint,
                "uid": uid,
                "kind": kind,
                "namespace": req.get("namespace") or (meta.get("namespace") if isinstance(meta, dict) else None),
                "name": req.get("name") or (meta.get("name") if isinstance(meta, dict) else None),
                "operation": req.get("operation"),
                "dryRun": dry_run,
                "allowed": response["allowed"],
                "message": response.get("status", {}).get("message"),
                "images": [_image_log(v) for v in verdicts],
                "ms": round((time.perf_counter() - started) * 1000, 2),
            }
        )
        self.core.metrics.decisions.labels(endpoint, str(response["allowed"]).lower()).inc()
        self._observe(endpoint, started, 200)
        return JSONResponse(
            {"apiVersion": doc.get("apiVersion", ADMISSION_API), "kind": "AdmissionReview", "response": response}
        )

    # -- Gatekeeper external data --------------------------------------------------------------------------------
    async def provider(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            doc = await self._json_body(request)
            keys = _provider_keys(doc)
        except BadRequest as exc:
            self._observe("provider", started, exc.status)
            return JSONResponse(_provider_response([], str(exc)), exc.status)
        if len(set(keys)) > self.limits.max_images:
            message = f"{len(set(keys))} distinct keys are over the limit of {self.limits.max_images}"
            self._observe("provider", started, 200)
            return JSONResponse(_provider_response([], message))
        verdicts = await self.core.check(list(dict.fromkeys(keys)))
        by_image = {v.image: v for v in verdicts}
        items = []
        for key in keys:
            v = by_image[key]
            value = {
                "verified": v.allowed,
                "digest": v.digest,
                "reference": workloads.pinned(key, v.digest) if v.digest and v.allowed else None,
                "level": v.level,
                "warnings": list(v.warnings),
            }
            items.append({"key": key, "value": value, "error": "" if v.allowed else (v.reason or "not verified")})
        self.decisions.write(
            {
                "endpoint": "provider",
                "allowed": all(v.allowed for v in verdicts),
                "images": [_image_log(v) for v in verdicts],
                "ms": round((time.perf_counter() - started) * 1000, 2),
            }
        )
        self.core.metrics.decisions.labels("provider", str(all(v.allowed for v in verdicts)).lower()).inc()
        self._observe("provider", started, 200)
        return JSONResponse(_provider_response(items, ""))

    # -- /verify -----------------------------------------------------------------------------------------------
    async def verify(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            doc = await self._json_body(request)
            refs = doc.get("references") if isinstance(doc, dict) else None
            if not isinstance(refs, list) or not refs or not all(isinstance(r, str) and r for r in refs):
                raise BadRequest('expected {"references": ["registry/repository@digest", ...]}')
            if len(refs) > self.limits.max_images:
                raise BadRequest(f"{len(refs)} references are over the limit of {self.limits.max_images}")
        except BadRequest as exc:
            self._observe("verify", started, exc.status)
            return PlainTextResponse(str(exc) + "\n", exc.status)
        work = self.core.run_blocking(lambda: self.core.verifier.verify_document(refs))
        try:
            report = await asyncio.wait_for(asyncio.shield(work), self.core.budget)
        except TimeoutError:
            self._observe("verify", started, 503)
            return PlainTextResponse(f"verification did not finish within the {self.core.budget:g}s budget\n", 503)
        self.decisions.write(
            {
                "endpoint": "verify",
                "allowed": report["summary"]["failed"] == 0,
                "images": [
                    {"image": r["reference"], "digest": r["digest"], "allowed": r["result"] != "failed",
                     "reason": r["error"]}
                    for r in report["references"]
                ],
                "ms": round((time.perf_counter() - started) * 1000, 2),
            }
        )
        self._observe("verify", started, 200)
        return JSONResponse(report)

    # -- probes ------------------------------------------------------------------------------------------------
    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(self, request: Request) -> Response:
        status = self.status()
        return JSONResponse(status, 200 if status.get("ready") else 503)

    async def metrics(self, request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(self.core.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _deny(uid: str, message: str) -> dict[str, Any]:
    return {"uid": uid, "allowed": False, "status": {"code": 403, "reason": "Forbidden", "message": message}}


def _admission_request(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict) or doc.get("kind") != "AdmissionReview":
        raise BadRequest("expected an AdmissionReview")
    if doc.get("apiVersion") not in (ADMISSION_API, "admission.k8s.io/v1beta1"):
        raise BadRequest(f"unsupported AdmissionReview apiVersion {doc.get('apiVersion')!r}")
    req = doc.get("request")
    if not isinstance(req, dict):
        raise BadRequest("AdmissionReview has no request")
    if not isinstance(req.get("uid"), str) or not req["uid"]:
        raise BadRequest("AdmissionReview request has no uid")
    return req


def _provider_keys(doc: Any) -> list[str]:
    if not isinstance(doc, dict) or doc.get("kind") != "ProviderRequest" or doc.get("apiVersion") != PROVIDER_API:
        raise BadRequest(f"expected a ProviderRequest ({PROVIDER_API})")
    req = doc.get("request")
    keys = req.get("keys") if isinstance(req, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise BadRequest("ProviderRequest request.keys must be a list of strings")
    return keys


def _provider_response(items: list[dict[str, Any]], system_error: str) -> dict[str, Any]:
    return {
        "apiVersion": PROVIDER_API,
        "kind": "ProviderResponse",
        "response": {"idempotent": True, "items": items, "systemError": system_error},
    }


def build_app(service: Service, on_start: Callable[[], Any] | None = None) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.core.open_redis()
        task = asyncio.ensure_future(on_start()) if on_start is not None else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
            await service.core.aclose()

    routes = [
        Route("/validate", service.validate, methods=["POST"]),
        Route("/mutate", service.mutate, methods=["POST"]),
        Route("/provider", service.provider, methods=["POST"]),
        Route("/verify", service.verify, methods=["POST"]),
        Route("/healthz", service.healthz, methods=["GET"]),
        Route("/readyz", service.readyz, methods=["GET"]),
        Route("/metrics", service.metrics, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
