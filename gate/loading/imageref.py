"""Container image references, parsed the way container runtimes read them.

``name[:tag][@digest]`` where the first path component is a registry only when
it contains ``.`` or ``:`` or is ``localhost`` (so ``registry:5000/app`` is the
repository ``app`` on ``registry:5000`` with no tag, not the tag ``5000/app``).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

DEFAULT_REGISTRY = "docker.io"
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z", re.ASCII)
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}\Z")
_DOMAIN = re.compile(
    r"(?:\[[0-9A-Fa-f:]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]+)?\Z"
)


def _is_registry(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost"


@lru_cache(maxsize=4096)
def _parse(reference: str) -> tuple[tuple[str, Any], ...]:
    name, at, digest = reference.partition("@")
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
    registry = None
    path = name
    first, sep, rest = name.partition("/")
    if sep and _is_registry(first):
        registry, path = first, rest
    valid = bool(
        path
        and all(_COMPONENT.match(part) for part in path.split("/"))
        and (registry is None or _DOMAIN.match(registry))
        and (tag is None or _TAG.match(tag))
        and (not at or _DIGEST.match(digest))
        and "@" not in digest
    )
    full_registry = registry or DEFAULT_REGISTRY
    repository = path
    if full_registry == DEFAULT_REGISTRY and "/" not in path:
        repository = f"library/{path}"  # Docker Hub's official images
    return (
        ("reference", reference),
        ("registry", full_registry),
        ("registry_explicit", registry is not None),
        ("repository", path),
        ("name", f"{full_registry}/{repository}"),
        ("tag", tag if tag is not None else None),
        ("digest", digest or None),
        ("valid", valid),
    )


def parse_image(reference: str) -> dict[str, Any]:
    """Registry, repository, tag and digest of an image reference.

    ``tag`` and ``digest`` are ``None`` when absent; ``valid`` is false for
    text that is not a well-formed reference (such as an unexpanded variable).
    """
    return dict(_parse(reference.strip()))
