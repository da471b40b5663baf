"""``gate init``: everything it writes is valid, and it never overwrites anything."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate import __version__, hooksource
from gate.commands import init
from gate.config import apply_config, load_config
from gate.evaluation.evaluate import evaluate
from gate.evaluation.policy import Policy
from gate.evaluation.policy_assembly import check_unique
from gate.evaluation.policy_loading import load_builtin, load_directory
from gate.loading.resources import Resource, read_resources
from gate.loading.sources import SourceFile
from gate.results import FAIL, PASS, SKIP, WARN
from tests.conftest import REPO_ROOT, RunGate
from tests.processes import run

WRITTEN = [
    ".gate.yaml",
    "policies/require-team-label.yaml",
    "policies/.tests/require-team-label/pass.yaml",
    "policies/.tests/require-team-label/fail.yaml",
    "policies/.tests/require-team-label/require-team-label.test.yaml",
    ".pre-commit-config.yaml",
]
HOOKS_REPO = "https://git.example.com/platform/gate.git"
PASS_CASES = "policies/.tests/require-team-label/pass.yaml"
FAIL_CASES = "policies/.tests/require-team-label/fail.yaml"
# A commented-out setting: `# key:`, `# - item` or a deeper `#   line` (prose starts
# otherwise: a capital letter, a backtick, or a word not followed by a colon).
COMMENTED = re.compile(r"^(?P<indent>\s*)# (?P<yaml>[a-z_-]+:(?: |$).*|- .*|\s+\S.*)$")


def repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)  # stops the search for a .gate.yaml here
    return root


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and ".git" not in p.relative_to(root).parts)


@pytest.fixture
def started(tmp_path: Path, run_gate: RunGate) -> Path:
    root = repository(tmp_path)
    proc = run_gate("init", "--hooks-repo", HOOKS_REPO, cwd=root)
    assert proc.returncode == 0, proc.stderr
    return root


def load_policies(root: Path) -> list[Policy]:
    policies = [*load_builtin(), *load_directory(str(root / "policies"))]
    check_unique(policies)
    return policies


def report(proc: Any) -> dict[str, Any]:
    assert proc.returncode in (0, 1), proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    assert data["errors"] == []
    return data


# -- what it writes ---------------------------------------------------------------------


def test_init_writes_the_starter_files(tmp_path: Path, gate_cli: RunGate) -> None:
    root = repository(tmp_path)
    proc = gate_cli("init", "--hooks-repo", HOOKS_REPO, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert files_under(root) == sorted(WRITTEN)
    lines = proc.stdout.splitlines()
    assert lines[: len(WRITTEN)] == [f"wrote {name}" for name in WRITTEN]
    assert "Next steps:" in proc.stdout
    assert "gate explain require-team-label" in proc.stdout
    assert proc.stderr == ""


def test_init_into_a_new_directory(tmp_path: Path, gate_cli: RunGate) -> None:
    root = repository(tmp_path)
    proc = gate_cli("init", "deploy/gitops", "--hooks-repo", HOOKS_REPO, cwd=root)
    assert proc.returncode == 0, proc.stderr
    target = root / "deploy" / "gitops"
    assert files_under(target) == sorted(WRITTEN)
    assert [line for line in proc.stdout.splitlines() if line.startswith("wrote ")] == [
        f"wrote deploy/gitops/{name}" for name in WRITTEN
    ]
    assert "cd deploy/gitops" in proc.stdout


@pytest.mark.e2e
def test_config_loads_and_applies(started: Path) -> None:
    config = load_config(str(started / ".gate.yaml"))
    assert config.policy_dirs == [str(started / "policies")]
    # An empty repository shows no environments: none is invented (a commented example).
    assert not config.environments.enabled
    enabled = {policy.id for policy in apply_config(config, load_policies(started))}
    assert init.POLICY_ID in enabled


@pytest.mark.e2e
def test_every_commented_setting_is_valid_too(started: Path) -> None:
    """Uncommenting the calendar, waivers, overrides and policy examples keeps it valid."""
    text = (started / ".gate.yaml").read_text(encoding="utf-8")
    uncommented = []
    for line in text.splitlines():
        match = COMMENTED.match(line)
        uncommented.append(match["indent"] + match["yaml"] if match else line)
    result = "\n".join(uncommented) + "\n"
    for key in ("calendar:", "waivers:", "overrides:", "- discover: argocd",
                "change-ticket:", "prod: {enforcement: block}", "environments:",
                "judge_change_policies_locally: true"):
        assert re.search(rf"^\s*{re.escape(key)}", result, re.MULTILINE), key
    (started / "waivers.yaml").write_text("waivers: []\n", encoding="utf-8")
    (started / "full.yaml").write_text(result, encoding="utf-8")
    config = load_config(str(started / "full.yaml"))
    assert config.calendar is not None and config.overrides.allowed
    assert config.judge_change_policies_locally
    assert config.environments.names() == ["prod"] and config.environments.argocd
    assert config.waivers == str(started / "waivers.yaml")
    enabled = {policy.id for policy in apply_config(config, load_policies(started))}
    assert {"change-ticket", "promotion-certified", init.POLICY_ID} <= enabled


@pytest.mark.e2e
def test_example_policy_is_complete_and_documented(started: Path) -> None:
    [policy] = load_directory(str(started / "policies"))
    info = policy.info
    assert policy.id == init.POLICY_ID
    assert info.file.endswith("policies/require-team-label.yaml")
    for name in ("title", "description", "rationale", "remediation"):
        assert getattr(info, name).strip(), name
    assert info.controls
    assert policy.parameters
    for name, parameter in policy.parameters.items():
        assert parameter.description.strip() and parameter.schema is not None, name
    examples = policy.spec["examples"]
    fails = evaluate([policy], resources_of(examples["fail"]), "info")
    assert any(result.status == FAIL for result in fails)
    passes = evaluate([policy], resources_of(examples["pass"]), "info")
    assert passes and all(result.status in (PASS, SKIP) for result in passes)


def resources_of(text: str) -> list[Resource]:
    return [r for r in read_resources(SourceFile("example.yaml", text)) if isinstance(r, Resource)]


@pytest.mark.e2e
def test_cases_name_themselves(started: Path) -> None:
    for name in (PASS_CASES, FAIL_CASES):
        text = (started / name).read_text(encoding="utf-8")
        documents = re.split(r"^---\s*$", text, flags=re.MULTILINE)
        assert all(re.search(r"^# Case: \S", d, re.MULTILINE) for d in documents), name
        assert ("must PASS" if name == PASS_CASES else "must FAIL") in text


# -- gate check with the written config and policy ---------------------------------------


@pytest.mark.e2e
def test_failing_cases_fail_on_the_example_policy_only(started: Path, run_gate: RunGate) -> None:
    proc = run_gate("check", "-f", "json", FAIL_CASES, cwd=started)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    results = report(proc)["results"]
    findings = [r for r in results if r["status"] in (FAIL, WARN)]
    assert {r["policy"] for r in findings} == {init.POLICY_ID}
    failed = {r["resource"]["name"] for r in findings}
    assert failed == {"orders", "ledger"}
    assert {r["field"] for r in findings} == {"metadata.labels.team"}


@pytest.mark.e2e
def test_passing_cases_pass_every_policy(started: Path, run_gate: RunGate) -> None:
    proc = run_gate("check", "-f", "json", PASS_CASES, cwd=started)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = report(proc)["results"]
    assert [r for r in results if r["status"] not in (PASS, SKIP)] == []
    judged = {r["resource"]["name"] for r in results if r["policy"] == init.POLICY_ID}
    assert judged == {"checkout"}


@pytest.mark.e2e
def test_checking_the_new_repository_passes(started: Path, run_gate: RunGate) -> None:
    """The failing cases are hidden from `gate check .`: a fresh repository passes."""
    proc = run_gate("check", cwd=started)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.e2e
def test_explain_the_example_policy(started: Path, run_gate: RunGate) -> None:
    proc = run_gate("explain", init.POLICY_ID, cwd=started)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"# {init.POLICY_ID}: ")
    assert "## Example: fails" in proc.stdout


# -- the pre-commit snippet ---------------------------------------------------------------


def hook_ids(config: Any) -> set[str]:
    return {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}


@pytest.mark.e2e
def test_pre_commit_config_enables_the_ratchet_hook_of_gates_repository(started: Path) -> None:
    text = (started / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    [repo] = config["repos"]
    # gate's own hook definitions, at the release tag of this gate: never `language:
    # system`, which runs whatever `gate` is on the PATH, and fails outside the venv.
    assert repo == {"repo": HOOKS_REPO, "rev": f"v{__version__}",
                    "hooks": [{"id": "gate-diff"}]}
    assert "language" not in text
    published = {hook["id"]: hook for hook in yaml.safe_load(
        (REPO_ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert published["gate-diff"]["entry"] == "gate diff --staged"  # the ratchet
    assert published["gate-diff"]["language"] == "python"


@pytest.mark.e2e
def test_pre_commit_config_is_valid_for_pre_commit(started: Path) -> None:
    pytest.importorskip("pre_commit")
    done = run([sys.executable, "-m", "pre_commit", "validate-config",
                started / ".pre-commit-config.yaml"], timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_existing_pre_commit_config_is_kept_and_the_snippet_printed(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    root = repository(tmp_path)
    mine = "repos: []  # mine\n"
    (root / ".pre-commit-config.yaml").write_text(mine, encoding="utf-8")
    proc = gate_cli("init", "--hooks-repo", HOOKS_REPO, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert (root / ".pre-commit-config.yaml").read_text(encoding="utf-8") == mine
    assert "wrote .pre-commit-config.yaml" not in proc.stdout
    assert files_under(root) == sorted(WRITTEN)
    snippet = proc.stdout.split("add gate's hook to its repos:\n\n", 1)[1]
    snippet = snippet.split("\nNext steps:", 1)[0]
    [repo] = yaml.safe_load("repos:\n" + snippet)["repos"]
    assert repo == {"repo": HOOKS_REPO, "rev": f"v{__version__}",
                    "hooks": [{"id": "gate-diff"}]}


def test_without_a_known_hooks_repository_no_pre_commit_config_is_written(
    tmp_path: Path, gate_cli: RunGate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where this gate came from is unknown: the address is never invented."""
    monkeypatch.setattr(hooksource, "installed_from", lambda: None)
    root = repository(tmp_path)
    proc = gate_cli("init", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert files_under(root) == sorted(WRITTEN[:-1])
    assert "wrote no .pre-commit-config.yaml; add this to it by hand, with the address of " \
        "gate's repository for URL" in proc.stdout
    assert "--hooks-repo URL" in proc.stdout
    assert "  - repo: URL\n" in proc.stdout
    assert "pre-commit install" not in proc.stdout  # nothing to install yet


def test_the_hooks_repository_this_gate_was_installed_from_is_used(
    tmp_path: Path, gate_cli: RunGate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hooksource, "installed_from", lambda: "ssh://git@git.example.com/gate")
    root = repository(tmp_path)
    proc = gate_cli("init", cwd=root)
    assert proc.returncode == 0, proc.stderr
    config = yaml.safe_load((root / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert config["repos"][0]["repo"] == "ssh://git@git.example.com/gate"


@pytest.mark.parametrize("value", ["", "a b", "https://x/\nrepos: []"])
def test_a_hooks_repository_on_one_line(tmp_path: Path, gate_cli: RunGate, value: str) -> None:
    root = repository(tmp_path)
    proc = gate_cli("init", "--hooks-repo", value, cwd=root)
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert "--hooks-repo" in line
    assert files_under(root) == []


class FakeDistribution:
    """What hooksource reads of an installed distribution."""

    def __init__(self, direct_url: str | None, project_urls: list[str]) -> None:
        self.direct_url = direct_url
        self.metadata = {"Project-URL": project_urls}

    def read_text(self, name: str) -> str | None:
        return self.direct_url if name == "direct_url.json" else None


class FakeMetadata(dict[str, list[str]]):
    def get_all(self, key: str) -> list[str] | None:
        return self.get(key)


@pytest.mark.parametrize(("direct_url", "project_urls", "expected"), [
    (json.dumps({"url": "https://tok@git.example.com/gate.git",
                 "vcs_info": {"vcs": "git", "commit_id": "0" * 40}}),
     [], "https://git.example.com/gate.git"),
    (json.dumps({"url": "file:///home/me/gate", "dir_info": {"editable": True}}),
     ["Homepage, https://docs.example.com", "Source, https://github.com/acme/gate"],
     "https://github.com/acme/gate"),
    (json.dumps({"url": "https://example.com/gate-0.1.0.tar.gz", "archive_info": {}}),
     ["Documentation, https://docs.example.com"], None),
    ("not json", [], None),
    (None, [], None),
])
def test_where_this_gate_was_installed_from(
    monkeypatch: pytest.MonkeyPatch, direct_url: str | None, project_urls: list[str],
    expected: str | None,
) -> None:
    fake = FakeDistribution(direct_url, project_urls)
    fake.metadata = FakeMetadata(fake.metadata)
    monkeypatch.setattr(hooksource, "_distribution", lambda: fake)
    assert hooksource.installed_from() == expected


@pytest.mark.parametrize(("url", "expected"), [
    ("https://github.com/acme/gate", "https://github.com/acme/gate"),
    ("git+https://github.com/acme/gate.git", "https://github.com/acme/gate.git"),
    ("https://user:token@git.example.com/gate.git", "https://git.example.com/gate.git"),
    ("https://x-access-token@github.com/acme/gate", "https://github.com/acme/gate"),
    ("ssh://git@git.example.com:2222/gate.git", "ssh://git@git.example.com:2222/gate.git"),
    ("git@github.com:acme/gate.git", "git@github.com:acme/gate.git"),
    ("https://github.com/acme/gate?ref=main#frag", "https://github.com/acme/gate"),
    ("file:///home/me/gate", None),       # a local path: not where a team's hooks live
    ("/home/me/gate", None),
    ("http://git.example.com/gate", None),  # never over plain http
    ("https://github.com/acme/ga te", None),
    ("", None),
])
def test_remote_urls(url: str, expected: str | None) -> None:
    assert hooksource.remote_url(url) == expected


# -- never overwriting --------------------------------------------------------------------


@pytest.mark.parametrize("existing", [".gate.yaml", ".gate.yml"])
def test_refuses_to_overwrite(existing: str, tmp_path: Path, gate_cli: RunGate) -> None:
    root = repository(tmp_path)
    (root / existing).write_text("# mine\n", encoding="utf-8")
    proc = gate_cli("init", "--hooks-repo", HOOKS_REPO, cwd=root)
    assert proc.returncode == 2
    assert proc.stdout == ""
    [line] = proc.stderr.splitlines()
    assert existing in line and "refusing to overwrite" in line
    assert files_under(root) == [existing]
    assert (root / existing).read_text(encoding="utf-8") == "# mine\n"


@pytest.mark.parametrize("existing", ["policies/require-team-label.yaml", FAIL_CASES,
                                      "policies/kyverno/require-labels.yaml"])
def test_an_existing_policies_folder_is_left_untouched(
    existing: str, tmp_path: Path, gate_cli: RunGate
) -> None:
    root = repository(tmp_path)
    (root / existing).parent.mkdir(parents=True, exist_ok=True)
    (root / existing).write_text("# mine\n", encoding="utf-8")
    proc = gate_cli("init", "--hooks-repo", HOOKS_REPO, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert (root / existing).read_text(encoding="utf-8") == "# mine\n"
    moved = [name.replace("policies/", ".gate/policies/", 1) for name in WRITTEN]
    assert files_under(root) == sorted([existing, *moved])
    assert "policies/ exists and is left untouched" in proc.stdout
    config = load_config(str(root / ".gate.yaml"))
    assert config.policy_dirs == [str(root / ".gate" / "policies")]
    proc = gate_cli("test", ".gate/policies", cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_refusal_names_every_existing_file(tmp_path: Path, gate_cli: RunGate) -> None:
    root = repository(tmp_path)
    mine = [".gate.yaml", ".gate.yml"]
    for name in mine:
        (root / name).write_text("# mine\n", encoding="utf-8")
    proc = gate_cli("init", "--hooks-repo", HOOKS_REPO, cwd=root)
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert "refusing to overwrite existing files: .gate.yaml, .gate.yml (nothing written)" \
        in line
    assert files_under(root) == mine


@pytest.mark.e2e
def test_a_second_init_refuses(started: Path, run_gate: RunGate) -> None:
    before = {name: (started / name).read_bytes() for name in files_under(started)}
    proc = run_gate("init", "--hooks-repo", HOOKS_REPO, cwd=started)
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert ".gate.yaml" in line and "refusing to overwrite" in line
    assert {name: (started / name).read_bytes() for name in files_under(started)} == before


def test_a_file_in_the_way_of_a_directory(tmp_path: Path, gate_cli: RunGate) -> None:
    root = repository(tmp_path)
    (root / "policies").write_text("not a directory\n", encoding="utf-8")
    (root / ".gate").write_text("not a directory either\n", encoding="utf-8")
    proc = gate_cli("init", "--hooks-repo", HOOKS_REPO, cwd=root)
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert "refusing to overwrite existing files: .gate " in line
    assert files_under(root) == [".gate", "policies"]


def test_target_that_is_a_file(tmp_path: Path, gate_cli: RunGate) -> None:
    root = repository(tmp_path)
    (root / "file").write_text("", encoding="utf-8")
    proc = gate_cli("init", "file", cwd=root)
    assert proc.returncode == 2
    assert "not a directory" in proc.stderr


def test_help(tmp_path: Path, gate_cli: RunGate) -> None:
    proc = gate_cli("init", "--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: gate init")


@pytest.mark.e2e
def test_the_example_policy_passes_its_own_tests(started: Path, run_gate: RunGate) -> None:
    proc = run_gate("test", "policies", cwd=started)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 expectations: 4 passed, 0 failed" in proc.stdout
