"""How gate is installed: its distribution's name, and ``constraints/gate.txt``, the
pinned and hashed requirements the Action and the CI recipes install from (docs/ci.md,
"Installing gate"). The recipes' install lines run for real in tests/test_action.py
(the Action) and here (GitLab), offline, from the test wheelhouse."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gate import __version__
from tests import wheelhouse as wheels
from tests.gitrepo import GitRepo, git_environment, run_git
from tests.processes import output_of, run

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints" / "gate.txt"
UPDATE = ROOT / "constraints" / "update"
ACTION: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
GITLAB = ROOT / "examples" / "gitlab" / ".gitlab-ci.yml"
JENKINS = ROOT / "examples" / "jenkins" / "Jenkinsfile"
NAME = "gitops-gate"
# pip-compile's annotation of what pyproject.toml asks for itself.
PROJECT_VIA = re.compile(rf"{NAME} \(pyproject\.toml(::build-system\.requires)?\)")
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)")
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


@dataclass
class Pin:
    version: str
    hashes: list[str]
    via: list[str] = field(default_factory=list)


def read_pins(text: str) -> dict[str, Pin]:
    """``{canonical name: Pin}`` of a hashed requirements file, strictly: every
    requirement is ``NAME==VERSION`` with one or more ``--hash=sha256:`` options, and
    nothing else is allowed (no ranges, URLs, editables, extras, markers or options)."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    in_via = False
    logical = re.sub(r"\\\n", " ", text)
    for number, line in enumerate(logical.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            current, in_via = None, False
            continue
        if stripped.startswith("#"):
            comment = stripped[1:].strip()
            if current is not None and comment.startswith("via"):
                rest = comment[3:].strip()
                in_via = not rest
                if rest:
                    current.via.append(rest)
            elif current is not None and in_via and comment:
                current.via.append(comment)
            continue
        requirement, *options = stripped.split()
        match = PIN.fullmatch(requirement)
        assert match, f"line {number}: not NAME==VERSION: {stripped}"
        hashes = [HASH.fullmatch(option) for option in options]
        assert options and all(hashes), f"line {number}: only sha256 hashes may follow: {line}"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"line {number}: {name} pinned twice"
        current = pins[name] = Pin(match.group(2), [h.group(1) for h in hashes if h])
        in_via = False
    return pins


@pytest.fixture(scope="module")
def pins() -> dict[str, Pin]:
    return read_pins(CONSTRAINTS.read_text(encoding="utf-8"))


def python_environment(version: str) -> dict[str, str]:
    """Marker values of this machine, as if it ran Python ``version``."""
    return {"python_version": version, "python_full_version": f"{version}.0", "extra": ""}


# -- the distribution ------------------------------------------------------------------------


def test_the_distribution_is_gitops_gate_and_installs_the_gate_command() -> None:
    project = wheels.project()["project"]
    assert isinstance(project, dict)
    assert project["name"] == NAME
    assert project["scripts"] == {"gate": "gate.main:main"}
    dist = metadata.distribution(NAME)  # this test environment's install of the checkout
    assert dist.version == __version__
    assert dist.metadata["License-Expression"] == project["license"] == "Apache-2.0"
    assert [ep.name for ep in dist.entry_points if ep.group == "console_scripts"] == ["gate"]


def test_the_license_file_is_the_apache_license() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


# A requirement naming the unrelated `gate`: `gate @ git+...`, `gate==0.1`, `gate>=0.1`.
GATE_REQUIREMENT = re.compile(r"(?<![\w.$/-])gate\s*(@\s*(git\+|https?:)|[=<>~!]=)")
# Options of pip install whose value is not a requirement.
_VALUED = {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target",
           "--only-binary", "--no-binary", "-i", "--index-url", "--extra-index-url",
           "-f", "--find-links", "--prefix", "--root", "--python-version", "--platform"}


def installs_the_unrelated_gate(line: str) -> bool:
    """Whether a line would install the project named `gate` from the index."""
    if GATE_REQUIREMENT.search(line):
        return True
    for command in re.findall(r"\bpip3?\s+install\b([^;&|#\n]*)", line):
        words = command.split()
        for index, word in enumerate(words):
            if word.startswith("-") or (index and words[index - 1] in _VALUED):
                continue
            name = re.match(r"[\"']?([A-Za-z0-9][A-Za-z0-9._-]*)", word)
            if name and canonicalize_name(name.group(1)) == "gate":
                return True
    return False


def test_nothing_documented_installs_the_unrelated_gate() -> None:
    texts = [ROOT / "action.yml", *ROOT.glob("*.md"), *(ROOT / "docs").rglob("*.md"),
             *(p for p in (ROOT / "examples").rglob("*") if p.is_file())]
    for path in texts:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not installs_the_unrelated_gate(line), (
                f"{path.relative_to(ROOT)}:{number}: {line}")


@pytest.mark.parametrize(("line", "wrong"), [
    ("pip install gate", True),
    ("python -m pip install --quiet -U 'gate' && gate check .", True),
    ("pip install gate==0.1.0", True),
    ('GATE_PIP_SPEC: "gate @ git+https://example.com/gate@v0.1.0"', True),
    ('pip install -e ".[test]" && gate check fixtures/demo', False),
    ('pip install --no-deps --no-build-isolation "$gate_src"', False),
    ("pip install -r gate/constraints/gate.txt --only-binary :all:", False),
    ("pip install gitops-gate==0.1.0", False),
    ("uses: your-org/gate@v0.1.0", False),
])
def test_the_wrong_install_check_has_teeth(line: str, wrong: bool) -> None:
    assert installs_the_unrelated_gate(line) is wrong


# -- constraints/gate.txt ------------------------------------------------------------------


def test_the_parser_refuses_what_pip_would_install_unchecked() -> None:
    good = "a==1 \\\n    --hash=sha256:" + "0" * 64 + "\n"
    assert read_pins(good)["a"].version == "1"
    for bad in ("a>=1 --hash=sha256:" + "0" * 64, "a==1", "a==1 --hash=md5:00",
                "-e .", "a @ https://example.com/a.whl", "a==1 --hash=sha256:" + "0" * 64
                + " --index-url https://example.com", "a[x]==1 --hash=sha256:" + "0" * 64):
        with pytest.raises(AssertionError):
            read_pins(bad + "\n")
    with pytest.raises(AssertionError, match="twice"):
        read_pins(good + good)


def test_every_requirement_is_pinned_with_its_hashes(pins: dict[str, Pin]) -> None:
    assert pins
    for name, pin in pins.items():
        assert pin.hashes, name
        assert len(set(pin.hashes)) == len(pin.hashes), name


def test_every_dependency_and_build_requirement_is_pinned_within_pyproject(
    pins: dict[str, Pin],
) -> None:
    project = wheels.project()["project"]
    assert isinstance(project, dict)
    wanted = [Requirement(text) for text in project["dependencies"]]
    for requirement in [*wanted, *wheels.build_requirements()]:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not pinned"
        assert requirement.specifier.contains(pins[name].version, prereleases=True), (
            f"{name}=={pins[name].version} is outside {requirement}")


def test_every_pin_is_needed(pins: dict[str, Pin]) -> None:
    """Each pin says what needs it (pip-compile's ``# via``), and that leads back to
    pyproject.toml: no stale pin of a package nothing requires any more."""
    needed: set[str] = set()
    grew = True
    while grew:
        grew = False
        for name, pin in pins.items():
            assert pin.via, f"{name}: no '# via' annotation"
            if name not in needed and any(
                PROJECT_VIA.fullmatch(via) or canonicalize_name(via) in needed
                for via in pin.via
            ):
                needed.add(name)
                grew = True
    assert needed == set(pins), f"pinned, needed by nothing: {sorted(set(pins) - needed)}"


def test_the_requirements_of_pinned_releases_are_pinned(pins: dict[str, Pin]) -> None:
    """Where this environment holds the very release a pin names, that release's own
    requirements, on every Python gate supports, are pinned too, within their ranges.
    (The whole file installs for real, with its hashes, in .ci/run.)"""
    checked = []
    for name, pin in pins.items():
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if dist.version != pin.version:
            continue
        checked.append(name)
        for requirement in map(Requirement, dist.requires or []):
            for python in SUPPORTED_PYTHONS:
                marker = requirement.marker
                if marker is not None and not marker.evaluate(python_environment(python)):
                    continue
                needed = canonicalize_name(requirement.name)
                assert needed in pins, f"{name} {pin.version} needs {requirement} on {python}"
                assert requirement.specifier.contains(pins[needed].version, prereleases=True)
    if not checked:
        pytest.skip("this environment holds none of the pinned releases")


@pytest.mark.e2e
def test_the_file_says_how_it_is_made() -> None:
    text = CONSTRAINTS.read_text(encoding="utf-8")
    assert "pip-compile with Python 3.10" in text
    assert re.search(r"^#\s+constraints/update$", text, re.M)
    assert os.access(UPDATE, os.X_OK)
    done = run(["bash", "-n", str(UPDATE)], timeout=30)
    assert done.returncode == 0, done.stderr


# -- the Action and the recipes install from it ---------------------------------------------


def pip_installs(script: str) -> list[list[str]]:
    """The arguments after ``pip install`` of each such command in a shell script."""
    found = []
    for line in re.sub(r"\\\n\s*", " ", script).splitlines():
        words = shlex.split(line, comments=True) if "pip" in line else []
        for index in range(len(words) - 1):
            if words[index:index + 2] == ["pip", "install"]:
                found.append(words[index + 2:])
    return found


def assert_hashed_install(installs: list[list[str]], source: str) -> None:
    """Dependencies from ``SOURCE/constraints/gate.txt`` with hashes and wheels only,
    then gate from ``SOURCE`` without dependencies or an isolated build."""
    assert len(installs) == 2, installs
    dependencies, gate = installs
    assert "--require-hashes" in dependencies
    assert dependencies[dependencies.index("--only-binary") + 1] == ":all:"
    assert dependencies[dependencies.index("-r") + 1] == f"{source}/constraints/gate.txt"
    assert {"--no-deps", "--no-build-isolation"} <= set(gate)
    assert gate[-1] == source
    assert not [word for word in gate if not word.startswith("-")][:-1], gate


def test_the_action_installs_dependencies_with_hashes_then_gate_without() -> None:
    [install] = [step for step in ACTION["runs"]["steps"] if step["id"] == "install"]
    assert_hashed_install(pip_installs(install["run"]), "$GITHUB_ACTION_PATH")


def test_the_gitlab_and_jenkins_recipes_install_as_the_action_does() -> None:
    pipeline = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    assert_hashed_install(pip_installs("\n".join(pipeline["gate"]["before_script"])),
                          "$gate_src")
    assert_hashed_install(pip_installs(JENKINS.read_text(encoding="utf-8")), "$gate_src")


def gitlab_install(tmp_path: Path, wheelhouse: wheels.Wheelhouse,
                   constraints: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the GitLab job's ``before_script`` as GitLab runs it (one shell, stopping at
    the first failure), with the image's ``python`` a fresh virtualenv first on ``PATH``,
    pip's only index the test wheelhouse, and ``GATE_SOURCE`` a local repository holding
    this checkout with ``constraints`` as its constraints file, tagged as the recipe's
    ``GATE_REF`` names it (and one commit after the tag). Returns the process and the
    virtualenv."""
    pipeline = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    ref = pipeline["variables"]["GATE_REF"]
    source = GitRepo.init(tmp_path / "gate-source")
    listed = run_git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (source.path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source.path / name)
    source.write("constraints/gate.txt", constraints)
    source.commit("gate at a release")
    source.git("tag", ref)
    source.write("README.md", "a later commit the ref does not name\n")
    source.commit("after the release")

    venv = tmp_path / "image-python"
    output_of([sys.executable, "-m", "venv", str(venv)], timeout=300)
    env = wheels.offline_pip_environment(git_environment(), wheelhouse.folder)
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}",
               GATE_SOURCE=f"file://{source.path}", GATE_REF=ref)
    script = "set -eo pipefail\n" + "\n".join(pipeline["gate"]["before_script"])
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    done = run(["bash", "--noprofile", "--norc", "-c", script], cwd=workspace, env=env,
               timeout=600)
    assert not (workspace / "constraints").exists()  # nothing written into the checkout
    return done, venv


@pytest.mark.e2e
def test_the_gitlab_recipe_installs_gate_at_its_ref(
    tmp_path: Path, wheelhouse: wheels.Wheelhouse
) -> None:
    """The recipe fetches gate at ``GATE_REF`` and installs what its constraints pin,
    checking their hashes, then gate; offline, from the test wheelhouse, which the
    source's constraints file pins with its hashes."""
    done, venv = gitlab_install(tmp_path, wheelhouse, wheelhouse.hashed_requirements())
    assert done.returncode == 0, done.stdout + done.stderr
    version = output_of([venv / "bin" / "gate", "--version"], timeout=60)
    assert version == f"gate {__version__}\n"
    frozen = output_of([venv / "bin" / "python", "-I", "-m", "pip", "list", "--format", "freeze"],
                       timeout=120)
    installed = {canonicalize_name(name): version for name, version in
                 (line.split("==") for line in frozen.split())}
    assert {name: installed.get(name) for name in wheelhouse.pins()} == wheelhouse.pins()
    assert installed[NAME] == __version__


def _tampered(text: str) -> str:
    """The first hash of the file with its digits changed."""
    digest = HASH.search(text)
    assert digest
    wrong = "".join("0" if c != "0" else "1" for c in digest.group(1))
    return text.replace(digest.group(1), wrong, 1)


def _without(text: str, name: str) -> str:
    """The file without the pin of ``name`` (a dependency another pin needs)."""
    kept = re.sub(rf"^{re.escape(name)}==[^\n]*\\\n(\s+--hash=[^\n]*\n)+", "", text,
                  flags=re.M)
    assert kept != text
    return kept


@pytest.mark.e2e
@pytest.mark.parametrize(("change", "says"), [
    (_tampered, "DO NOT MATCH THE HASHES"),
    (lambda text: _without(text, "smmap"), "--require-hashes"),
], ids=["a-hash-that-differs", "a-dependency-left-out"])
def test_the_recipe_installs_nothing_the_constraints_do_not_vouch_for(
    tmp_path: Path, wheelhouse: wheels.Wheelhouse, change: Any, says: str
) -> None:
    done, venv = gitlab_install(tmp_path, wheelhouse, change(wheelhouse.hashed_requirements()))
    assert done.returncode != 0, done.stdout + done.stderr
    assert says in done.stderr, done.stderr
    assert not (venv / "bin" / "gate").exists()
