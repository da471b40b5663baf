"""An offline package index for the tests that install gate into environments of their
own (the Action's install step, pre-commit's hook environments).

Those environments must not depend on what the base interpreter happens to hold (its
setuptools, or gate's dependencies left there by some other install), and the tests have
no network. So they install from a folder of wheels made here from the distributions
this test environment already runs: gate's dependencies, transitively, and the build
requirements of ``pyproject.toml`` (setuptools). A wheel is its distribution's installed
files, as its ``RECORD`` lists them, with the ``WHEEL`` and metadata it was installed
with: pip installs it as it would the original.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
# Files pip writes into a dist-info folder at install time, never part of a wheel.
_INSTALL_TIME = {"INSTALLER", "RECORD", "REQUESTED", "direct_url.json"}


@dataclass(frozen=True)
class Wheel:
    name: str  # canonical
    version: str
    path: Path

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def project() -> dict[str, object]:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)


def distribution_name() -> str:
    name = project()["project"]
    assert isinstance(name, dict)
    return str(name["name"])


def build_requirements() -> list[Requirement]:
    system = project()["build-system"]
    assert isinstance(system, dict)
    return [Requirement(text) for text in system["requires"]]


def _applies(requirement: Requirement) -> bool:
    """Whether this interpreter needs ``requirement`` (no extras asked for)."""
    return requirement.marker is None or requirement.marker.evaluate({"extra": ""})


def installed_closure(requirements: Iterable[Requirement]) -> list[metadata.Distribution]:
    """The installed distributions that satisfy ``requirements`` and, transitively, their
    own requirements, as this interpreter's markers select them; sorted by name."""
    found: dict[str, metadata.Distribution] = {}
    pending = [r for r in requirements if _applies(r)]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        dist = metadata.distribution(name)
        assert requirement.specifier.contains(dist.version, prereleases=True), (
            f"{name} {dist.version} is installed, {requirement} is needed")
        found[name] = dist
        pending.extend(r for r in map(Requirement, dist.requires or []) if _applies(r))
    return [found[name] for name in sorted(found)]


def gate_dependencies() -> list[Requirement]:
    """gate's runtime requirements, as its installed metadata declares them."""
    dist = metadata.distribution(distribution_name())
    return [r for r in map(Requirement, dist.requires or []) if _applies(r)]


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def _wheel_files(dist: metadata.Distribution) -> Iterator[tuple[str, Path]]:
    """``(name in the wheel, file on disk)`` for each file the distribution installed
    into site-packages (scripts and data outside it are left out: pip writes scripts
    anew from the entry points)."""
    for entry in dist.files or []:
        name = entry.as_posix()
        parts = entry.parts
        if parts[0] == ".." or "__pycache__" in parts or name.endswith(".pyc"):
            continue
        if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in _INSTALL_TIME:
            continue
        yield name, Path(str(dist.locate_file(entry)))


def _compressed(tags: list[str]) -> str:
    """The file-name tag of a wheel whose WHEEL file lists ``tags`` (``py2.py3-none-any``)."""
    parts = [tag.split("-") for tag in tags]
    return "-".join(".".join(dict.fromkeys(part[i] for part in parts)) for i in range(3))


def repack(dist: metadata.Distribution, directory: Path) -> Wheel:
    """A wheel of an installed distribution, written into ``directory``."""
    files = list(_wheel_files(dist))
    info = {name.split("/", 1)[0] for name, _ in files if name.split("/", 1)[0].endswith(
        ".dist-info")}
    assert len(info) == 1, f"{dist.metadata['Name']}: no single dist-info folder in {info}"
    [info_dir] = info
    wheel_text = (Path(str(dist.locate_file(f"{info_dir}/WHEEL")))).read_text(encoding="utf-8")
    tags = re.findall(r"^Tag: (\S+)$", wheel_text, re.M)
    assert tags, f"{info_dir}/WHEEL names no tag"
    name = canonicalize_name(dist.metadata["Name"])
    filename = f"{name.replace('-', '_')}-{dist.version}-{_compressed(tags)}.whl"
    path = directory / filename
    record = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname, source in files:
            data = source.read_bytes()
            archive.writestr(arcname, data)
            record.append(f"{arcname},{_record_hash(data)},{len(data)}")
        record.append(f"{info_dir}/RECORD,,")
        archive.writestr(f"{info_dir}/RECORD", "\n".join(record) + "\n")
    return Wheel(name, dist.version, path)


@dataclass(frozen=True)
class Wheelhouse:
    folder: Path
    wheels: tuple[Wheel, ...]

    def hashed_requirements(self) -> str:
        """A requirements file in the form of ``constraints/gate.txt`` pinning exactly
        these wheels, each with its sha256."""
        return "".join(f"{w.name}=={w.version} \\\n    --hash=sha256:{w.sha256}\n"
                       for w in sorted(self.wheels, key=lambda w: w.name))

    def pins(self) -> dict[str, str]:
        return {w.name: w.version for w in self.wheels}


def build(directory: Path) -> Wheelhouse:
    """Wheels of gate's dependencies and of its build requirements, in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    dists = installed_closure([*gate_dependencies(), *build_requirements()])
    return Wheelhouse(directory, tuple(repack(dist, directory) for dist in dists))


def offline_pip_environment(base: Mapping[str, str], wheelhouse: Path) -> dict[str, str]:
    """``base`` with pip reading packages from ``wheelhouse`` only: no index, and none of
    the caller's pip settings (a configured folder of wheels would offer other files)."""
    env = {k: v for k, v in base.items()
           if not k.startswith(("PIP_", "VIRTUALENV_", "PYTHON"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse),
               PIP_DISABLE_PIP_VERSION_CHECK="1",
               # virtualenv (pre-commit's) must not look for newer seed wheels.
               VIRTUALENV_NO_PERIODIC_UPDATE="1")
    return env
