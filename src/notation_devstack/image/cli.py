"""``notation-devstack image build|push``: the tutorial's `az acr build` step, offline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from notation_devstack.image.client import ImageRef, RegistryClient, credentials_from_env


def register(sub: Any) -> None:
    group = sub.add_parser("image", help="build and push OCI images without a container runtime")
    cmds = group.add_subparsers(dest="image_command", metavar="COMMAND")
    build = cmds.add_parser("build", help="build an image from a Dockerfile (subset) and push it")
    build.add_argument("context", type=Path, help="build context directory")
    build.add_argument("-t", "--image", "--tag", dest="image", required=True, help="REGISTRY/REPOSITORY:TAG")
    build.add_argument("-f", "--file", type=Path, help="Dockerfile (default: CONTEXT/Dockerfile)")
    build.add_argument("--build-arg", action="append", default=[], help="KEY=VALUE")
    build.add_argument("--oci-layout", type=Path, help="write the image into this OCI layout instead of pushing")
    _common(build)
    build.set_defaults(handler=_build)
    push = cmds.add_parser("push", help="push an OCI layout directory or a `docker save` tarball")
    push.add_argument("source", type=Path, help="OCI image layout directory or docker save tar")
    push.add_argument("-t", "--image", dest="image", required=True, help="REGISTRY/REPOSITORY:TAG")
    push.add_argument("--source-tag", help="tag inside the layout (default: the image tag)")
    _common(push)
    push.set_defaults(handler=_push)
    group.set_defaults(handler=lambda _a: group.print_help())


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-u", "--username", help="registry user (default: $DEVSTACK_REGISTRY_USERNAME)")
    parser.add_argument("-p", "--password", help="registry password (default: $DEVSTACK_REGISTRY_PASSWORD)")
    parser.add_argument("--insecure-registry", action="store_true", help="plain HTTP")
    parser.add_argument("--query", help="JMESPath-like selection of the output, e.g. outputImages[0].digest")
    parser.add_argument("-o", "--output", choices=["json", "tsv"], default="json")


def _client(args: argparse.Namespace, registry: str) -> RegistryClient:
    env_user, env_password = credentials_from_env()
    return RegistryClient(registry, args.username or env_user, args.password or env_password, args.insecure_registry)


def _report(args: argparse.Namespace, ref: ImageRef, digest: str) -> int:
    result: Any = {
        "outputImages": [{"registry": ref.registry, "repository": ref.repository, "tag": ref.tag, "digest": digest}]
    }
    if args.query:
        for part in args.query.replace("]", "").replace("[", ".").split("."):
            if part == "":
                continue
            try:
                result = result[int(part)] if part.isdigit() else result[part]
            except (KeyError, IndexError, TypeError):
                result = None
                break
    if args.output == "tsv" and not isinstance(result, dict | list):
        print("" if result is None else result)
    else:
        print(json.dumps(result, indent=2))
    return 0


def _build(args: argparse.Namespace) -> int:
    from notation_devstack.image.build import build, push, write_layout

    build_args = dict(item.split("=", 1) for item in args.build_arg if "=" in item)
    ref = ImageRef.parse(args.image)
    print(f"Building {args.image} from {args.context}", file=sys.stderr)
    image = build(args.context, args.file, client_for=lambda reg: _client(args, reg), build_args=build_args)
    if args.oci_layout:
        digest = write_layout(image, args.oci_layout, ref.tag)
        print(f"Wrote {args.oci_layout}:{ref.tag}@{digest} (OCI layout; nothing was pushed)", file=sys.stderr)
    else:
        digest = push(image, _client(args, ref.registry), ref.repository, ref.tag)
        print(f"Pushed {ref.registry}/{ref.repository}:{ref.tag}@{digest}", file=sys.stderr)
    return _report(args, ref, digest)


def _push(args: argparse.Namespace) -> int:
    from notation_devstack.image.archive import load
    from notation_devstack.image.build import push

    ref = ImageRef.parse(args.image)
    image = load(args.source, args.source_tag or ref.tag)
    digest = push(image, _client(args, ref.registry), ref.repository, ref.tag)
    print(f"Pushed {ref.registry}/{ref.repository}:{ref.tag}@{digest}", file=sys.stderr)
    return _report(args, ref, digest)
