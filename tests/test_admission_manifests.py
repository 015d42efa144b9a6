"""deploy/kubernetes validates against the Kubernetes API schemas (kubernetes-validate ships them: no network), and
the manifests say what issue 14 asks: 2 replicas, probes, non-root, read-only root filesystem, webhooks that fail
closed with kube-system excluded; the Gatekeeper objects point at /provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes"
K8S_VERSION = "1.30"
CUSTOM = {"cert-manager.io/v1", "externaldata.gatekeeper.sh/v1beta1", "templates.gatekeeper.sh/v1",
          "constraints.gatekeeper.sh/v1beta1"}


def documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(DEPLOY.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((str(path.relative_to(DEPLOY)), doc))
    return docs


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [d for _, d in documents() if d["kind"] == kind]


@pytest.mark.parametrize(("name", "doc"), documents(), ids=lambda v: v if isinstance(v, str) else v["kind"])
def test_manifest_validates_against_api_schema(name: str, doc: dict[str, Any]) -> None:
    if doc["apiVersion"] in CUSTOM:  # CRDs: no schema shipped; shape checked below
        assert doc["metadata"]["name"] and isinstance(doc["spec"], dict)
        return
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_deployment_hardening() -> None:
    (dep,) = by_kind("Deployment")[:1]
    spec = dep["spec"]["template"]["spec"]
    (c,) = spec["containers"]
    assert dep["spec"]["replicas"] == 2 and spec["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True and c["securityContext"]["capabilities"]["drop"]
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz" and c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert any(a.startswith("--tls-cert=") for a in c["args"]) and "--plain-http" not in c["args"]
    budget = float(next(a for a in c["args"] if a.startswith("--budget=")).split("=")[1])
    assert budget < 10


def test_webhooks_fail_closed() -> None:
    hooks = [w for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
             for cfg in by_kind(kind) for w in cfg["webhooks"]]
    assert len(hooks) == 2
    for w in hooks:
        assert w["failurePolicy"] == "Fail" and w["sideEffects"] == "None" and w["timeoutSeconds"] <= 10
        excluded = w["namespaceSelector"]["matchExpressions"][0]
        assert excluded["operator"] == "NotIn" and "kube-system" in excluded["values"]
    assert {w["clientConfig"]["service"]["path"] for w in hooks} == {"/validate", "/mutate"}
    assert by_kind("PodDisruptionBudget") and by_kind("HorizontalPodAutoscaler") and by_kind("Service")


def test_gatekeeper_objects() -> None:
    (provider,) = by_kind("Provider")
    assert provider["spec"]["url"].startswith("https://") and provider["spec"]["url"].endswith("/provider")
    (template,) = by_kind("ConstraintTemplate")
    rego = template["spec"]["targets"][0]["rego"]
    assert 'external_data({"provider": "notation-admission"' in rego and "response.errors" in rego
    (constraint,) = by_kind("NotationVerified")
    assert template["spec"]["crd"]["spec"]["names"]["kind"] == constraint["kind"]
