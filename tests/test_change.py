"""Change documents: built once per environment, images rendered only when read."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from gate.clock import NOW, EvaluationTime
from gate.errors import ConfigError
from gate.git.commits import Commit
from gate.governance.calendar.config import parse_calendar
from gate.governance.change import ChangeContext, documents, lazy_images, subject
from gate.governance.release_manifest import load_release
from gate.loading.deployed import image_entries
from gate.loading.resources import Resource, read_resources
from gate.loading.sources import SourceFile
from gate.results import ChangedFile, ChangeSummary
from tests.memtree import MemoryTree

UTC = timezone.utc
AT = EvaluationTime(datetime(2026, 12, 24, 9, 0, tzinfo=UTC), NOW)


def commit(sha: str, subject: str, **trailers: list[str]) -> Commit:
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    return Commit(sha, "Dev", "dev@example.com", moment, moment, f"{subject}\n", dict(trailers))


def context(**overrides: Any) -> ChangeContext:
    values: dict[str, Any] = {
        "summary": ChangeSummary("commits", "main", "b" * 40, "HEAD", "h" * 40, "m" * 40,
                                 [ChangedFile("M", "overlays/prod/kustomization.yaml"),
                                  ChangedFile("M", "base/deployment.yaml")]),
        "time": AT,
        "file_environments": {"overlays/prod/kustomization.yaml": ["prod"],
                              "base/deployment.yaml": ["dev", "prod"]},
        "environments": ["dev", "prod"],
        "commits": [commit("2" * 40, "second", **{"Change-Request": ["CHG2"]}),
                    commit("1" * 40, "first")],
    }
    values.update(overrides)
    return ChangeContext(**values)


def test_one_document_per_environment() -> None:
    built = documents(context())
    assert sorted(built) == ["dev", "prod"]
    prod = built["prod"]
    assert prod["environment"] == "prod"
    assert prod["environments"] == ["dev", "prod"]
    assert prod["now"] == "2026-12-24T09:00:00Z"
    assert prod["base"] == {"ref": "main", "sha": "b" * 40, "merge_base": "m" * 40}
    assert [f["path"] for f in prod["files"]] == ["overlays/prod/kustomization.yaml",
                                                  "base/deployment.yaml"]
    assert [f["path"] for f in built["dev"]["files"]] == ["base/deployment.yaml"]
    assert len(prod["all_files"]) == 2
    assert prod["head_commit"]["short_sha"] == "2" * 12
    assert prod["head_commit"]["trailers"] == {"Change-Request": ["CHG2"]}
    assert prod["head_commit"]["subject"] == "second"
    assert prod["window"]["applies"] is False
    assert prod["release"] is None


def test_the_window_is_the_calendars_decision_for_the_environment() -> None:
    calendar = parse_calendar({"freezes": [{
        "name": "xmas", "start": "2026-12-20T00:00:00Z", "end": "2026-12-27T00:00:00Z",
        "reason": "holidays", "environments": ["prod"]}]}, ".gate.yaml", lambda *p: 3)
    built = documents(context(calendar=calendar))
    window = built["prod"]["window"]
    assert (window["applies"], window["allowed"]) == (True, False)
    assert window["blocking"][0]["name"] == "xmas"
    assert window["next_open"] == "2026-12-27T00:00:00+00:00"
    assert built["dev"]["window"]["applies"] is False


def test_images_are_listed_only_when_read() -> None:
    asked: list[tuple[str, str]] = []

    def lister(environment: str, side: str) -> list[dict[str, Any]]:
        asked.append((environment, side))
        return [{"image": f"{environment}-{side}"}]

    images = lazy_images(["dev", "prod", "staging"], lister)
    assert images.get("staging").get("base") == [{"image": "staging-base"}]
    assert asked == [("staging", "base")]  # one side of one environment
    assert images.get("staging") == {"base": [{"image": "staging-base"}],
                                     "head": [{"image": "staging-head"}]}
    assert asked == [("staging", "base"), ("staging", "head")]
    images.get("staging")
    assert len(asked) == 2  # each once
    assert images.get("qa") is not None  # any environment may be asked for
    assert images.get(3) is None
    assert sorted(images) == ["dev", "prod", "qa", "staging"]
    assert len(asked) == 2  # listing environments renders nothing
    assert len([side for sides in images.values() for side in sides.values()]) == 8
    assert len(asked) == 8


def test_a_change_finding_is_located_at_the_nearest_item_with_a_file() -> None:
    document = {"images": {"prod": {"head": [{"image": "x", "file": "o/k.yaml", "line": 7,
                                              "inner": {"value": 1}}]}},
                "release": {"services": [{"name": "a"}]}}
    change = subject(document, "prod")
    assert change.locate(("images", "prod", "head", 0, "inner", "value")) == ("o/k.yaml", 7)
    assert change.locate(("release", "services", 0, "name")) == (None, 0)
    assert change.locate(("missing", 3)) == (None, 0)


def _resources(text: str) -> list[Resource]:
    return [r for r in read_resources(SourceFile("apps/web.yaml", text))
            if isinstance(r, Resource)]


def test_image_entries_name_each_container_image_and_its_line() -> None:
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      initContainers:
        - {name: init, image: busybox}
      containers:
        - name: web
          image: ghcr.io/acme/web:1.2.0@sha256:%s
""" % ("a" * 64)
    entries = image_entries(_resources(text))
    assert [(e["name"], e["tag"], e["line"], e["container"]) for e in entries] == [
        ("docker.io/library/busybox", None, 8, "init"),
        ("ghcr.io/acme/web", "1.2.0", 11, "web"),
    ]
    assert entries[1]["key"] == f"ghcr.io/acme/web:1.2.0@sha256:{'a' * 64}"
    assert entries[1]["resource"] == "Deployment/shop/web"


RELEASE = """\
apiVersion: gate.dev/v1
kind: Release
release: "2026.11"
services:
  - name: web
    image: ghcr.io/acme/web
    version: 1.2.0
  - name: db
    image: postgres
    version: sha256:%s
""" % ("b" * 64)


def test_a_release_manifest_becomes_the_release() -> None:
    release = load_release(MemoryTree({"r.yaml": RELEASE}), "r.yaml")  # type: ignore[arg-type]
    assert release["release"] == "2026.11"
    web, db = release["services"]
    assert (web["image_name"], web["tag"], web["digest"], web["line"]) == (
        "ghcr.io/acme/web", "1.2.0", None, 5)
    assert (db["image_name"], db["tag"], db["digest"]) == (
        "docker.io/library/postgres", None, "sha256:" + "b" * 64)


@pytest.mark.parametrize(("text", "line", "says"), [
    (RELEASE.replace("kind: Release", "kind: Relase"), 2, "Release"),
    (RELEASE.replace("    version: 1.2.0\n", ""), 5, "version"),
    (RELEASE.replace("image: ghcr.io/acme/web", "image: ghcr.io/acme/web:1.2.0"), 6, "image"),
    (RELEASE + "  - name: web2\n    image: ghcr.io/acme/web\n    version: 1.0.0\n", 11,
     "listed twice"),
    (RELEASE + "---\n" + RELEASE, 12, "exactly one YAML document"),
    ("services: [\n", 2, "flow sequence|expected"),
])
def test_bad_release_manifests(text: str, line: int, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as raised:
        load_release(MemoryTree({"r.yaml": text}), "r.yaml")  # type: ignore[arg-type]
    assert (raised.value.file, raised.value.line) == ("r.yaml", line)


def test_a_missing_release_manifest() -> None:
    with pytest.raises(ConfigError, match="release manifest not found"):
        load_release(MemoryTree({}), "r.yaml")  # type: ignore[arg-type]
