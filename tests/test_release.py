"""Releases: the tag scheme every example uses, the changelog, the security policy, and
CI running the README's commands (docs/releasing.md)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gate import __version__
from tests.processes import run

ROOT = Path(__file__).resolve().parents[1]
TAG = f"v{__version__}"
SHA = re.compile(r"[0-9a-f]{40}")
# Where a document names a release of gate: the Action or a pip URL (`.../gate@REF`),
# pre-commit (`repo: .../gate` then `rev: REF`), the recipes' GATE_REF, a clone.
RELEASE_REFERENCES = [
    re.compile(r"[\w.-]+/gate@([^\s'\"`)]+)"),
    re.compile(r"repo:\s*\S*/gate\s*\n\s*rev:\s*['\"]?([^\s'\"`]+)"),
    re.compile(r"GATE_REF\s*[:=]\s*['\"]?([^\s'\"`]+)"),
    re.compile(r"--branch\s+(\S+)\s+\S*/gate\b"),
]


def documents() -> list[Path]:
    return sorted({*ROOT.glob("*.md"), ROOT / "action.yml", *(ROOT / "docs").rglob("*.md"),
                   *(p for p in (ROOT / "examples").rglob("*") if p.is_file())})


def release_references(text: str) -> list[str]:
    return [match.group(1) for pattern in RELEASE_REFERENCES
            for match in pattern.finditer(text)]


def test_the_version_is_semantic() -> None:
    assert re.fullmatch(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)", __version__)


def test_every_example_names_the_current_release_by_its_tag() -> None:
    found = 0
    for path in documents():
        for ref in release_references(path.read_text(encoding="utf-8")):
            if ref.startswith("<") or SHA.fullmatch(ref):  # a placeholder, or a pinned commit
                continue
            assert ref == TAG, f"{path.relative_to(ROOT)} names {ref}, not {TAG}"
            found += 1
    assert found >= 5  # the Action, pre-commit, GitLab, Jenkins, docs/ci.md at least


@pytest.mark.parametrize(("text", "refs"), [
    ("uses: your-org/gate@v0.1.0", ["v0.1.0"]),
    ("uses: your-org/gate@v0.1", ["v0.1"]),
    ("  - repo: https://github.com/your-org/gate\n    rev: 0.1.0\n", ["0.1.0"]),
    ('  GATE_REF: "v0.2.0"', ["v0.2.0"]),
    ("GATE_REF = 'main'", ["main"]),
    ("git clone --depth 1 --branch v0.1.0 https://github.com/your-org/gate dir", ["v0.1.0"]),
    ("uses: actions/checkout@v4", []),
    ("repo: https://github.com/other/tool\n    rev: v9.9.9", []),
])
def test_release_references_are_found(text: str, refs: list[str]) -> None:
    assert release_references(text) == refs


def test_the_changelog_has_a_section_for_this_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\](.*)$", text, re.M)
    versions = [name for name, _ in headings if name != "Unreleased"]
    assert versions and versions[0] == __version__, headings
    for name, rest in headings:
        if name != "Unreleased":
            assert re.fullmatch(r" - (\d{4}-\d{2}-\d{2}|Unreleased)", rest), (name, rest)
            assert re.search(rf"^\[{re.escape(name)}\]: \S+/v{re.escape(name)}$", text, re.M)
    assert [name for name, _ in headings].count("Unreleased") <= 1


def test_the_security_policy_supports_this_release_line() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    major, minor, _ = __version__.split(".")
    assert f"| {major}.{minor}.x | yes" in text
    assert "(docs/security.md)" in text
    assert "Report a vulnerability" in text


@pytest.mark.e2e
def test_ci_runs_the_readmes_commands_in_a_fresh_virtualenv() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in script.splitlines()]
    install = 'pip install -e ".[test]"'
    fast, e2e = 'python -m pytest -m "not e2e"', "python -m pytest -m e2e"
    assert f"\n{install} && gate check fixtures/demo\n" in readme
    assert f"\n{fast}\n{e2e}\n" in readme
    assert install in lines and fast in lines and e2e in lines
    venv = next(n for n, line in enumerate(lines) if re.search(r'-m venv "\$work/venv"', line))
    activate = lines.index('. "$work/venv/bin/activate"')
    assert venv < activate < lines.index(install) < lines.index(fast) < lines.index(e2e)
    done = run(["bash", "-n", str(ROOT / ".ci" / "run")], timeout=30)
    assert done.returncode == 0, done.stderr
