"""A small Kustomize renderer for the tests: the subset deploy/k8s uses, nothing more.

Kustomize itself isn't packaged by Debian, PyPI or npm, so the tests render the overlay with this
and, where `kubectl kustomize` exists, check that both agree. Supported: `resources` (files and
folders), `namespace`, `images` (newName, newTag, digest), `replicas`, and `patches` given as
JSON 6902 operation lists with a kind/name target. Anything else in a kustomization is refused, so
a manifest using more can't pass unrendered.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume"}


def render(folder: Path) -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        raise ValueError(f"{folder}: kustomize_lite can't render {sorted(unknown)}")
    docs: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = folder / entry
        if path.is_dir():
            docs += render(path)
        else:
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    for patch in kustomization.get("patches", []):
        operations = yaml.safe_load((folder / patch["path"]).read_text())
        targets = [d for d in docs if _matches(d, patch["target"])]
        if not targets:
            raise ValueError(f"patch {patch['path']} matches nothing")
        for doc in targets:
            for operation in operations:
                _apply(doc, operation)
    for image in kustomization.get("images", []):
        for doc in docs:
            for container in _containers(doc):
                _set_image(container, image)
    for replica in kustomization.get("replicas", []):
        matched = [
            d
            for d in docs
            if d["metadata"]["name"] == replica["name"] and "replicas" in d.get("spec", {})
        ]
        if not matched:
            raise ValueError(f"replicas: nothing called {replica['name']}")
        for doc in matched:
            doc["spec"]["replicas"] = replica["count"]
    namespace = kustomization.get("namespace")
    if namespace:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = namespace
    return docs


def _matches(doc: dict[str, Any], target: dict[str, str]) -> bool:
    return all(
        (doc["kind"] if key == "kind" else doc["metadata"].get(key)) == value
        for key, value in target.items()
    )


def _pointer(path: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in path.lstrip("/").split("/")]


def _apply(doc: dict[str, Any], operation: dict[str, Any]) -> None:
    *parents, last = _pointer(operation["path"])
    node: Any = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    op = operation["op"]
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op == "add":
            node.insert(index, copy.deepcopy(operation["value"]))
        elif op == "replace":
            node[index] = copy.deepcopy(operation["value"])
        elif op == "remove":
            del node[index]
        else:
            raise ValueError(f"unsupported op {op}")
        return
    if op in ("add", "replace"):
        if op == "replace" and last not in node:
            raise ValueError(f"replace of a missing {operation['path']}")
        node[last] = copy.deepcopy(operation["value"])
    elif op == "remove":
        del node[last]
    else:
        raise ValueError(f"unsupported op {op}")


def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    spec = doc.get("spec", {})
    if doc["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["spec"]
    if "template" in spec:
        return spec["template"]["spec"]
    return None


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(doc)
    if spec is None:
        return []
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def _set_image(container: dict[str, Any], image: dict[str, str]) -> None:
    reference = container["image"].split("@", 1)[0]
    slash, colon = reference.rfind("/"), reference.rfind(":")
    name, tag = (reference[:colon], reference[colon + 1 :]) if colon > slash else (reference, "")
    if name != image["name"]:
        return
    new = image.get("newName", name)
    if image.get("digest"):
        container["image"] = f"{new}@{image['digest']}"
    elif image.get("newTag"):
        container["image"] = f"{new}:{image['newTag']}"
    else:
        container["image"] = f"{new}:{tag}" if tag else new
