"""``gate.loading.imageref.parse_image``: container image references as runtimes read them."""
from __future__ import annotations

from typing import Any

import pytest

from gate.loading.imageref import parse_image

SHA = "sha256:a172cedcae47474b615c54d510a5d84a8dea3032e958587430b413538be3f333"
SHA512 = "sha512:" + "f43f799324a27fbdf95f67fae0bc55b3358e7595a0497518abae0b3998a6261a" * 2

# reference -> (registry, registry_explicit, repository, name, tag, digest)
VALID: list[tuple[str, tuple[str, bool, str, str, str | None, str | None]]] = [
    # Docker Hub: an implicit registry, and library/ for single-component names
    ("app", ("docker.io", False, "app", "docker.io/library/app", None, None)),
    ("app:latest", ("docker.io", False, "app", "docker.io/library/app", "latest", None)),
    ("library/nginx:1.27", ("docker.io", False, "library/nginx", "docker.io/library/nginx",
                            "1.27", None)),
    ("acme/app:2", ("docker.io", False, "acme/app", "docker.io/acme/app", "2", None)),
    ("docker.io/library/nginx:1.27", ("docker.io", True, "library/nginx",
                                      "docker.io/library/nginx", "1.27", None)),
    # a first component with a port is a registry, and what follows the port is no tag
    ("registry:5000/app", ("registry:5000", True, "app", "registry:5000/app", None, None)),
    ("registry:5000/app:1.2", ("registry:5000", True, "app", "registry:5000/app", "1.2", None)),
    ("registry:5000/team/app", ("registry:5000", True, "team/app", "registry:5000/team/app",
                                None, None)),
    # localhost is a registry even without a dot or a port
    ("localhost/app", ("localhost", True, "app", "localhost/app", None, None)),
    ("localhost:5000/app:1", ("localhost:5000", True, "app", "localhost:5000/app", "1", None)),
    # IPv6 registries, with and without a port
    ("[::1]:5000/app:1.0", ("[::1]:5000", True, "app", "[::1]:5000/app", "1.0", None)),
    ("[fe80::1]/app", ("[fe80::1]", True, "app", "[fe80::1]/app", None, None)),
    # a dot makes a registry; upper case is allowed in the domain only
    ("ghcr.io/acme/team/app:1.4.2", ("ghcr.io", True, "acme/team/app",
                                     "ghcr.io/acme/team/app", "1.4.2", None)),
    ("Registry.Example.com/app:1", ("Registry.Example.com", True, "app",
                                    "Registry.Example.com/app", "1", None)),
    # digests, alone and beside a tag
    (f"app@{SHA}", ("docker.io", False, "app", "docker.io/library/app", None, SHA)),
    (f"app:latest@{SHA}", ("docker.io", False, "app", "docker.io/library/app", "latest", SHA)),
    (f"registry:5000/app:1.0@{SHA}", ("registry:5000", True, "app", "registry:5000/app",
                                      "1.0", SHA)),
    (f"app@{SHA512}", ("docker.io", False, "app", "docker.io/library/app", None, SHA512)),
    (f"app@{SHA.upper().replace('SHA256', 'sha256')}",
     ("docker.io", False, "app", "docker.io/library/app", None,
      SHA.upper().replace("SHA256", "sha256"))),
    # tags: word characters, dots and dashes, up to 128, not starting with . or -
    ("app:v1.0_rc-2", ("docker.io", False, "app", "docker.io/library/app", "v1.0_rc-2", None)),
    ("app:_x", ("docker.io", False, "app", "docker.io/library/app", "_x", None)),
    ("app:" + "t" * 128, ("docker.io", False, "app", "docker.io/library/app", "t" * 128, None)),
    # separators inside path components
    ("acme/a.b_c__d-e--f:1", ("docker.io", False, "acme/a.b_c__d-e--f",
                              "docker.io/acme/a.b_c__d-e--f", "1", None)),
    # surrounding whitespace is not part of the reference
    ("  app:1.0\n", ("docker.io", False, "app", "docker.io/library/app", "1.0", None)),
]


@pytest.mark.parametrize(("reference", "expected"), VALID, ids=[r for r, _ in VALID])
def test_valid_references(
    reference: str, expected: tuple[str, bool, str, str, str | None, str | None]
) -> None:
    parsed = parse_image(reference)
    registry, explicit, repository, name, tag, digest = expected
    assert parsed == {
        "reference": reference.strip(),
        "registry": registry,
        "registry_explicit": explicit,
        "repository": repository,
        "name": name,
        "tag": tag,
        "digest": digest,
        "valid": True,
    }


INVALID = [
    "$(IMAGE)",  # an unexpanded variable
    "${IMAGE}",
    "UPPER/case:1",  # upper case in the repository
    "App",
    "",
    "   ",
    "app:",  # empty tag
    "app:1:2",
    "app:-x",  # a tag cannot start with - or .
    "app:.x",
    "app:" + "t" * 129,  # too long
    "app name:1",
    "app//x:1",
    "-app:1",
    "app-:1",
    "example.com:/app",  # a port with no number
    "app@sha256:abc123",  # digest too short
    "app@sha256",
    f"app@{SHA}@{SHA}",
    "registry:5000/",
    "my_registry.io/app:1",  # a dot makes it a registry, and _ is not allowed in a domain
]


@pytest.mark.parametrize("reference", INVALID)
def test_invalid_references(reference: str) -> None:
    assert parse_image(reference)["valid"] is False


def test_result_is_a_fresh_mapping() -> None:
    first = parse_image("app:1")
    first["tag"] = "changed"
    assert parse_image("app:1")["tag"] == "1"  # the cache is not shared with callers


@pytest.mark.parametrize(
    ("reference", "key", "expected"),
    [
        # One image has one name: docker.io/nginx is Docker Hub's library/nginx too.
        ("docker.io/nginx", "name", "docker.io/library/nginx"),
        # An empty digest after '@' is not a reference.
        ("app@", "valid", False),
        ("app:1.0@", "valid", False),
        # Tags are ASCII.
        ("app:v\u00e9", "valid", False),
    ],
)
def test_edge_cases(reference: str, key: str, expected: Any) -> None:
    assert parse_image(reference)[key] == expected
