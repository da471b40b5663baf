"""Release tags in version order (gate/governance/releases/tags.py), on a real repository."""
from __future__ import annotations

from pathlib import Path

import pytest

from gate.git.repository import open_repository
from gate.governance.releases.settings import ReleaseSettings
from gate.governance.releases.tags import release_tags, version_key
from tests.gitrepo import GitRepo


def test_version_order() -> None:
    names = ["v1.10.0", "v1.9.0", "v2.0.0", "v2.0.0-rc1", "v1.9.1", "v0.1.0"]
    assert sorted(names, key=version_key) == [
        "v0.1.0", "v1.9.0", "v1.9.1", "v1.10.0", "v2.0.0-rc1", "v2.0.0"]


@pytest.mark.e2e
def test_release_tags_of_a_repository(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write("a.yaml", "a: 1\n")
    first = repo.commit("first")
    repo.git("tag", "v1.10.0")  # lightweight
    repo.write("a.yaml", "a: 2\n")
    second = repo.commit("second")
    repo.git("tag", "-a", "-m", "Release v1.9.0", "v1.9.0")  # annotated
    repo.git("tag", "nightly")  # not a release
    repo.git("tag", "v1.2.3", "HEAD^{tree}")  # matches, yet names no commit
    with open_repository(str(repo.path)) as repository:
        tags = release_tags(repository, ReleaseSettings())
        assert [(t.name, t.commit) for t in tags] == [("v1.9.0", second), ("v1.10.0", first)]
        custom = ReleaseSettings(tag_pattern=r"nightly|v1\.10\.0")
        assert [t.name for t in release_tags(repository, custom)] == ["nightly", "v1.10.0"]
