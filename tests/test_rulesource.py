"""Rules (config, policy directories, waivers) read through a file tree, in process:
from an in-memory tree, from a git revision, and from disk, named alike."""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import pytest

from gate.commands.common import load_all, load_rules
from gate.config import load_config
from gate.errors import ConfigError, PolicyError
from gate.evaluation.policy_loading import load_directory, policy_files
from gate.git.repository import open_repository
from gate.governance import judging as governance
from gate.rulesource import DiskRules, RevisionRules, nearest_config
from tests.gitrepo import GitRepo
from tests.memtree import MemoryTree

ROOT = "/srv/repo"  # where an in-memory tree's repository would be on disk


def policy(policy_id: str, severity: str = "high", name: str = "settings") -> str:
    return f"""\
apiVersion: gate.dev/v1
kind: Policy
id: {policy_id}
title: Nothing is called {name}
description: d
rationale: r
remediation: rename it
severity: {severity}
rules:
  - assert: "metadata.name != '{name}'"
    message: "{{{{ metadata.name }}}} is a forbidden name"
    field: metadata.name
"""


def waivers(policy_id: str) -> str:
    return f"""\
waivers:
  - policy: {policy_id}
    reason: legacy name
    approved_by: jane.doe@example.com
    expires: "2030-01-01"
"""


def options(config: str | None = None, policies: list[str] | None = None,
            builtin: bool = False) -> argparse.Namespace:
    return argparse.Namespace(config=config, policies=policies or [], no_builtin=not builtin)


# -- an in-memory tree -------------------------------------------------------------------

MEMORY = {
    ".gate.yaml": "builtin: false\npolicy_dirs: [rules]\nfail_on: high\n",
    "rules/names.yaml": policy("no-settings"),
    "rules/nested/more.yaml": policy("no-config", name="config"),
    "rules/.hidden/skipped.yaml": policy("hidden"),
    "rules/README.md": "not a policy\n",
    "waivers.yaml": waivers("no-settings"),
    "apps/.gate.yml": "builtin: false\npolicy_dirs: [../rules/nested]\n",
    "apps/web/deployment.yaml": "kind: Deployment\n",
    "extra/x.yaml": policy("no-extra", name="extra"),
}


def test_config_is_discovered_from_a_subdirectory_up_to_the_root() -> None:
    tree = MemoryTree(MEMORY)
    assert nearest_config(tree, "apps/web") == "apps/.gate.yml"
    assert nearest_config(tree, "rules/nested") == ".gate.yaml"
    assert nearest_config(MemoryTree({"a/b.yaml": ""}), "a") is None
    # The search stops after the directory ``top`` accepts (the repository root).
    assert nearest_config(tree, "apps/web", top=lambda d: d == "apps/web") is None
    source = RevisionRules(tree, ROOT, cwd="apps/web")
    assert source.find_config() == f"{ROOT}/apps/.gate.yml"  # absolute, as on disk


def test_policy_dirs_and_waivers_from_a_tree_are_named_from_the_working_directory() -> None:
    source = RevisionRules(MemoryTree(MEMORY), ROOT, cwd="rules")
    config, loaded, enabled = load_all(options(), source)
    assert config.file == f"{ROOT}/.gate.yaml"  # above the working directory: absolute
    assert config.policy_dirs == [f"{ROOT}/rules"] and config.fail_on == "high"
    assert [p.id for p in loaded] == ["no-settings", "no-config"]  # hidden directory skipped
    assert [p.info.file for p in loaded] == ["names.yaml", "nested/more.yaml"]
    assert [p.id for p in enabled] == ["no-settings", "no-config"]
    [waiver] = governance.load_waivers(config, loaded)
    assert waiver.source == f"{ROOT}/waivers.yaml:2"


def test_a_config_in_a_subdirectory_names_paths_relative_to_it() -> None:
    source = RevisionRules(MemoryTree(MEMORY), ROOT, cwd="apps/web")
    config, loaded, _ = load_all(options(), source)
    # Paths as the config spells them, joined to where it was found (as on disk).
    assert config.path == f"{ROOT}/apps/.gate.yml"
    assert config.policy_dirs == [f"{ROOT}/apps/../rules/nested"]
    assert config.waivers is None  # none beside apps/.gate.yml
    assert [(p.id, p.info.file) for p in loaded] == [
        ("no-config", f"{ROOT}/apps/../rules/nested/more.yaml")]


def test_command_line_paths_are_relative_to_the_working_directory() -> None:
    source = RevisionRules(MemoryTree(MEMORY), ROOT, cwd="apps")
    config, loaded, _ = load_all(options(config="../.gate.yaml", policies=["web/../../extra"]),
                                 source)
    assert config.path == "../.gate.yaml" and config.file == "../.gate.yaml"  # as typed
    assert [p.info.file for p in loaded] == [
        "../rules/names.yaml", "../rules/nested/more.yaml", "web/../../extra/x.yaml"]
    with pytest.raises(ConfigError,
                       match=r"not found in the commit the rules are read from: nowhere\.yaml"):
        load_all(options(config="../nowhere.yaml"), source)
    with pytest.raises(ConfigError, match="outside the repository"):
        load_all(options(config="../../elsewhere.yaml"), source)
    with pytest.raises(PolicyError, match="policy file or directory not found: nowhere"):
        load_all(options(policies=["nowhere"]), source)


def test_duplicate_policies_from_a_tree_name_both_places() -> None:
    source = RevisionRules(MemoryTree(MEMORY), ROOT, cwd="")
    with pytest.raises(PolicyError, match=r"duplicate policy id 'no-settings' "
                                          r"\(first defined at rules/names.yaml:1\)") as caught:
        load_all(options(policies=["rules"]), source)
    assert caught.value.file == "rules/names.yaml"


def test_the_walk_matches_os_walk_order(tmp_path: Path) -> None:
    """Policy files come in the order os.walk gave: a directory's files, then its
    subdirectories, each by name (not the sorted paths a git tree lists); hidden
    directories are skipped, hidden files are not."""
    files = {"p/z.yaml": "", "p/a/b.yaml": "", "p/a.yml": "", "p/.h/x.yaml": "",
             "p/a/c/d.yaml": "", "p/x.txt": "", "p/.f.yaml": ""}
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    expected = ["p/.f.yaml", "p/a.yml", "p/z.yaml", "p/a/b.yaml", "p/a/c/d.yaml"]
    assert policy_files("p", RevisionRules(MemoryTree(files), ROOT)) == expected
    on_disk = policy_files(str(tmp_path / "p"), DiskRules())
    assert [str(Path(p).relative_to(tmp_path)) for p in on_disk] == expected


def test_an_empty_tree_has_the_defaults() -> None:
    config, loaded, _ = load_all(options(), RevisionRules(MemoryTree({}), ROOT))
    assert config.path is None and config.waivers is None and loaded == []


# -- a git revision ----------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """Rules committed on ``base``; the working tree then loosens every one of them."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.write_all({
        ".gate.yaml": "builtin: false\npolicy_dirs: [compliance/policies]\n",
        "compliance/policies/names.yaml": policy("no-settings"),
        "compliance/policies/more/config.yaml": policy("no-config", name="config"),
        "waivers.yaml": waivers("no-settings"),
        "apps/web/deployment.yaml": "kind: Deployment\n",
    })
    repo.commit("rules")
    repo.git("branch", "base")
    repo.write(".gate.yaml", "builtin: false\npolicy_dirs: [compliance/policies]\n"
                             "policies:\n  no-settings: {enabled: false}\n")
    repo.write("compliance/policies/names.yaml", policy("no-settings", severity="low"))
    repo.remove("compliance/policies/more/config.yaml")
    repo.write("waivers.yaml", waivers("no-settings") + waivers("no-settings")[len("waivers:\n"):])
    return repo


def base_source(repo: GitRepo, cwd: str = "") -> RevisionRules:
    repository = open_repository(str(repo.path))
    sha = repository.resolve("base")
    return RevisionRules(repository.tree_at(sha), repository.root, cwd)


@pytest.mark.e2e
def test_the_base_rules_are_used_while_the_working_tree_differs(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.path)
    source = base_source(repo)
    assert source.label.startswith("base (")
    base = load_rules(options(), source)
    assert [p.id for p in base.policies] == ["no-settings", "no-config"]
    assert [p.info.severity for p in base.policies] == ["high", "high"]
    assert len(base.waivers) == 1
    work = load_rules(options())
    assert [p.id for p in work.policies] == []  # switched off, and the other one removed
    assert len(work.waivers) == 2
    assert (base.source, work.source) == (source.label, "working tree")


@pytest.mark.e2e
def test_base_fingerprints_are_the_sha256_of_the_base_bytes(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.path)
    inputs = dict(load_rules(options(builtin=True), base_source(repo)).inputs)
    for path in (".gate.yaml", "compliance/policies/names.yaml",
                 "compliance/policies/more/config.yaml", "waivers.yaml"):
        blob = repo.git("show", f"base:{path}").encode("utf-8")
        assert inputs[path] == hashlib.sha256(blob).hexdigest(), path
    # The same bytes on disk give the same names and digests.
    repo.git("checkout", "-q", "-f", "base")
    assert dict(load_rules(options(builtin=True)).inputs) == inputs


@pytest.mark.e2e
def test_discovery_at_the_base_from_a_subdirectory(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.path / "apps" / "web")
    source = base_source(repo, "apps/web")
    base = load_rules(options(), source)
    assert base.config.path == f"{repo.path}/.gate.yaml"
    # Named as a run on the working tree names the same files: absolute above it.
    assert base.config.file == f"{repo.path}/.gate.yaml"
    assert [p.info.file for p in base.policies] == [
        f"{repo.path}/compliance/policies/names.yaml",
        f"{repo.path}/compliance/policies/more/config.yaml"]
    work = load_rules(options())
    assert work.config.file == base.config.file
    assert sorted(work.inputs) != sorted(base.inputs)
    assert {name for name, _ in work.inputs} <= {name for name, _ in base.inputs}


@pytest.mark.e2e
def test_a_broken_policy_at_the_base_is_named_with_its_path_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = policy("no-config").replace("severity: high", "severity: sometimes")
    repo = GitRepo.init(tmp_path / "broken")
    repo.write_all({".gate.yaml": "builtin: false\npolicy_dirs: [compliance/policies]\n",
                    "compliance/policies/more/config.yaml": broken})
    repo.commit("a broken policy")
    repo.git("branch", "base")
    repo.write("compliance/policies/more/config.yaml", policy("no-config"))  # mended here
    monkeypatch.chdir(repo.path)
    assert load_rules(options()).policies
    with pytest.raises(PolicyError) as caught:
        load_rules(options(), base_source(repo))
    assert caught.value.file == "compliance/policies/more/config.yaml"
    assert caught.value.line == broken.splitlines().index("severity: sometimes") + 1
    assert "sometimes" in caught.value.message


@pytest.mark.e2e
def test_diff_says_the_rules_were_read_from_the_base(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gate.commands.diff import _load_rules

    repo.write(".gate.yaml", "fail_on: sometimes\n")
    repo.commit("break the config")
    repo.git("branch", "-f", "base")
    repo.write(".gate.yaml", "builtin: false\npolicy_dirs: [compliance/policies]\n")
    monkeypatch.chdir(repo.path)
    repository = open_repository(".")
    target = (repository.resolve("base"), "target base")
    args = options()
    args.rules_from = "working-tree"
    assert _load_rules(args, repository, *target).source == "working tree"
    args.rules_from = "base"
    with pytest.raises(ConfigError) as caught:
        _load_rules(args, repository, *target)
    assert str(caught.value).startswith(".gate.yaml:1: ")
    assert caught.value.message.endswith(
        f"(rules read from target base ({repo.sha('base')[:7]}))")
    # No scratch copy and no change of directory.
    assert Path.cwd() == repo.path


@pytest.mark.e2e
def test_base_policies_outside_the_repository_as_before(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--policies outside the repository has no version at the base: given as an
    absolute path it is read from disk, as it always was; a relative one is not found."""
    from gate.commands.diff import _load_rules

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "shared.yaml").write_text(policy("no-shared", name="shared"))
    monkeypatch.chdir(repo.path)
    repository = open_repository(".")
    base = (repository.resolve("base"), "target base")
    args = options(policies=[str(shared)])
    args.rules_from = "base"
    rules = _load_rules(args, repository, *base)
    assert [(p.id, p.info.file) for p in rules.policies][-1] == (
        "no-shared", f"{shared}/shared.yaml")
    args.policies = ["../shared"]
    with pytest.raises(PolicyError,
                       match=r"not found: \.\./shared \(rules read from target base"):
        _load_rules(args, repository, *base)
    # Inside the repository the base is read, however the path is spelled (the working
    # tree no longer has compliance/policies/more).
    for given in ("compliance/policies/more", str(repo.path / "compliance/policies/more")):
        assert [p.id for p in load_directory(given, base_source(repo))] == ["no-config"]
    with pytest.raises(PolicyError, match="not found"):
        load_directory("compliance/policies/more")


@pytest.mark.e2e
def test_the_working_tree_reads_outside_paths_as_before(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("builtin: false\npolicy_dirs: [shared]\n")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "s.yaml").write_text(policy("no-shared", name="shared"))
    monkeypatch.chdir(repo.path)
    config, loaded, _ = load_all(options(config=str(elsewhere)))
    assert config.file == str(elsewhere) and config.path == str(elsewhere)
    assert [(p.id, p.info.file) for p in loaded] == [("no-shared", f"{tmp_path}/shared/s.yaml")]
    # A path typed relative keeps its spelling in a "not found" message.
    with pytest.raises(PolicyError, match=r"policy file or directory not found: \.\./nowhere$"):
        load_all(options(policies=["../nowhere"]))
    assert load_config(None).waivers == str(repo.path / "waivers.yaml")
