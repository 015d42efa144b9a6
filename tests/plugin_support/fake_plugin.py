"""Body of the configurable test plugin (written into tmp dirs by ``tests.plugin_support.write_plugin``).

Not imported by tests: it is copied below a ``#!<sys.executable>`` line and a ``CONFIG = {...}`` line, so each
test plugin is a real executable that notation runs as a subprocess. CONFIG keys:
  metadata: the get-plugin-metadata answer; log: a JSONL file that records every (command, request);
  behaviour: {command: {kind: hang|crash|exit|raw|error|huge_stdout|huge_stderr|sleep, ...}};
  key, chain: PEM files of the signing key and chain; override: {command: {member: value}} merged into answers;
  envelope: {payload_override: {...}, extra_top: {...}, annotations: {...}, type_override: str};
  verify: {results: {...}, processed: [...]}.
"""

import base64
import json
import os
import sys
import time

CONFIG: dict = {}  # replaced by the writer


def _log(cmd, request):
    path = CONFIG.get("log")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"cmd": cmd, "request": request, "argv": sys.argv[1:]}) + "\n")


def _fail(code, message):
    sys.stderr.write(json.dumps({"errorCode": code, "errorMessage": message}))
    sys.exit(1)


def _load_key_and_chain():
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    with open(CONFIG["key"], "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    with open(CONFIG["chain"], "rb") as f:
        chain = x509.load_pem_x509_certificates(f.read())
    return key, chain


def _key_spec(chain):
    from notation._internal.envelope.algorithms import KeySpec

    return KeySpec.from_public_key(chain[0].public_key())


def _describe_key(req):
    _, chain = _load_key_and_chain()
    return {"keyId": req["keyId"], "keySpec": _key_spec(chain).plugin_name}


def _generate_signature(req):
    from cryptography.hazmat.primitives.serialization import Encoding

    from notation._internal.envelope import _crypto

    key, chain = _load_key_and_chain()
    spec = _key_spec(chain)
    data = base64.b64decode(req["payload"])
    sig = _crypto.sign(spec.algorithm, key, data)
    return {
        "keyId": req["keyId"],
        "signature": base64.b64encode(sig).decode(),
        "signingAlgorithm": spec.algorithm.plugin_name,
        "certificateChain": [base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in chain],
    }


def _generate_envelope(req):
    import datetime as dt

    from notation._internal.envelope.codec import sign_envelope
    from notation._internal.envelope.local_signer import LocalSigner
    from notation._internal.envelope.model import ExtendedAttribute, SignRequest

    opts = CONFIG.get("envelope", {})
    key, chain = _load_key_and_chain()
    payload = base64.b64decode(req["payload"])
    if opts.get("payload_override") or opts.get("extra_top") or opts.get("target_extra"):
        doc = json.loads(payload)
        doc["targetArtifact"].update(opts.get("payload_override", {}))
        doc["targetArtifact"].update(opts.get("target_extra", {}))
        doc.update(opts.get("extra_top", {}))
        payload = json.dumps(doc).encode()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    seconds = req.get("expiryDurationInSeconds")
    extended = tuple(ExtendedAttribute(k, v, True) for k, v in opts.get("extended", {}).items())
    request = SignRequest(
        payload=payload,
        payload_content_type=opts.get("content_type", req["payloadType"]),
        signing_time=now,
        expiry=now + dt.timedelta(seconds=seconds) if seconds else None,
        signing_agent="fake-envelope-plugin/1.0",
        extended=extended,
    )
    envelope = sign_envelope(req["signatureEnvelopeType"], request, LocalSigner(key, chain))
    if opts.get("corrupt"):
        envelope = envelope.replace(b'"signature":"', b'"signature":"AAAA', 1)
    return {
        "signatureEnvelope": base64.b64encode(envelope).decode(),
        "signatureEnvelopeType": opts.get("type_override", req["signatureEnvelopeType"]),
        "annotations": opts.get("annotations", {}),
    }


def _verify_signature(req):
    opts = CONFIG.get("verify", {})
    processed = opts.get("processed")
    if processed is None:
        processed = req["signature"].get("unprocessedAttributes") or []
    results = opts.get("results")
    if results is None:
        results = {c: {"success": True} for c in req["trustPolicy"]["signatureVerification"]}
    return {"verificationResults": results, "processedAttributes": processed}


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    raw = sys.stdin.read()
    request = json.loads(raw) if raw else {}
    _log(cmd, request)
    b = CONFIG.get("behaviour", {}).get(cmd, {})
    kind = b.get("kind")
    if kind == "hang":
        time.sleep(b.get("seconds", 60))
    elif kind == "crash":
        os.abort()
    elif kind == "exit":
        sys.stderr.write(b.get("stderr", ""))
        sys.stdout.write(b.get("stdout", ""))
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(b.get("code", 2))
    elif kind == "raw":
        sys.stdout.write(b["stdout"])
        return
    elif kind == "error":
        _fail(b.get("code", "ERROR"), b.get("message", "failure"))
    elif kind in ("huge_stdout", "huge_stderr"):
        stream = sys.stdout if kind == "huge_stdout" else sys.stderr
        chunk = "x" * (1024 * 1024)
        for _ in range(b.get("mib", 65)):
            stream.write(chunk)
        stream.flush()
        sys.exit(0 if kind == "huge_stdout" else 1)
    handlers = {
        "get-plugin-metadata": lambda r: CONFIG["metadata"],
        "describe-key": _describe_key,
        "generate-signature": _generate_signature,
        "generate-envelope": _generate_envelope,
        "verify-signature": _verify_signature,
    }
    if cmd not in handlers:
        _fail("VALIDATION_ERROR", f"Invalid command: {cmd}")
    try:
        response = handlers[cmd](request)
    except Exception as exc:  # a test plugin reports, never tracebacks
        _fail("ERROR", f"{type(exc).__name__}: {exc}")
    response = dict(response)
    response.update(CONFIG.get("override", {}).get(cmd, {}))
    sys.stdout.write(json.dumps(response))


main()
