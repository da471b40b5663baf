"""The release tags of a repository, in version order."""
from __future__ import annotations

import re
from dataclasses import dataclass

from gate.git.repository import Repository
from gate.governance.releases.settings import ReleaseSettings

_PARTS = re.compile(r"(\d+)|(\D+)")


@dataclass(frozen=True, order=True)
class ReleaseTag:
    order: tuple[tuple[int, int, str], ...]  # the version as a sort key (version_key)
    name: str
    commit: str
    created_at: int


def version_key(name: str) -> tuple[tuple[int, int, str], ...]:
    """A tag name as a sort key: numbers compare as numbers, so v1.10.0 > v1.9.0,
    and a pre-release (v2.0.0-rc1) sorts before its release (v2.0.0)."""
    key: list[tuple[int, int, str]] = []
    for number, other in _PARTS.findall(name):
        if number:
            key.append((1, int(number), ""))
        elif other.startswith("-") and key:
            key.append((0, 0, other))  # "-rc1" ranks below the end of the name
        else:
            key.append((1, -1, other))
    key.append((1, -2, ""))  # the end of a name ranks above any pre-release suffix
    return tuple(key)


def release_tags(repository: Repository, settings: ReleaseSettings) -> list[ReleaseTag]:
    """Every tag matching ``releases.tag_pattern`` that names a commit, oldest version
    first."""
    return sorted(ReleaseTag(version_key(tag.name), tag.name, tag.commit, tag.created_at)
                  for tag in repository.tags() if settings.is_release_tag(tag.name))
