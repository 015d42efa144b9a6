"""Image names as Kubernetes and Docker spell them -> notation references; the pinning JSONPatch (issue 14)."""

from __future__ import annotations

import pytest

from notation_admission.workloads import ImageRef, UnsupportedObject, normalize, pin_patch, pod_spec_images

D = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("image", "reference"),
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("nginx:1.27", "docker.io/library/nginx:1.27"),
        ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
        ("index.docker.io/nginx", "docker.io/library/nginx:latest"),
        ("myregistry.azurecr.io/net-monitor:v1", "myregistry.azurecr.io/net-monitor:v1"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
        ("127.0.0.1:5000/team/app:v2", "127.0.0.1:5000/team/app:v2"),
        (f"ghcr.io/o/app:v1@{D}", f"ghcr.io/o/app@{D}"),
        (f"nginx@{D}", f"docker.io/library/nginx@{D}"),
    ],
)
def test_normalize_docker_defaults(image: str, reference: str) -> None:
    assert normalize(image).reference == reference


@pytest.mark.parametrize("image", ["", " nginx", "nginx:", "a b", "nginx@sha256", "nginx@"])
def test_normalize_refuses(image: str) -> None:
    with pytest.raises(ValueError):
        normalize(image)


def test_pin_patch_keeps_the_name_and_skips_pinned() -> None:
    images = [ImageRef("nginx:1", "/spec/containers/0/image"), ImageRef(f"r.io/a:v@{D}", "/spec/containers/1/image"),
              ImageRef("localhost:5000/app", "/spec/containers/2/image")]  # fmt: skip
    ops = pin_patch(images, {"nginx:1": D, f"r.io/a:v@{D}": D, "localhost:5000/app": D})
    assert ops == [
        {"op": "replace", "path": "/spec/containers/0/image", "value": f"nginx@{D}"},
        {"op": "replace", "path": "/spec/containers/2/image", "value": f"localhost:5000/app@{D}"},
    ]


def test_pod_spec_images_paths_and_errors() -> None:
    cron = {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}}}}
    path = "/spec/jobTemplate/spec/template/spec/containers/0/image"
    assert pod_spec_images(cron, "CronJob") == [ImageRef("x", path)]
    assert pod_spec_images({"spec": {}}, "Deployment") == []
    with pytest.raises(UnsupportedObject):
        pod_spec_images({}, "Service")
    with pytest.raises(ValueError, match=r"spec.containers\[0\].image is missing"):
        pod_spec_images({"spec": {"containers": [{"name": "c"}]}}, "Pod")
