"""Git policy sources: ``extends`` and ``policy_dirs`` naming a repository at a pinned
commit, fetched once into a cache (from local bare repositories: no network), read
from it without the network, verified, and named in the audit record."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from gate.errors import ConfigError
from gate.policy_sources import cache_directory, url_problem
from tests.conftest import RunGate
from tests.gitrepo import GitRepo, run_git
from tests.test_rulesource import policy as named_policy

FORBIDDEN = "web"

SHARED_CONFIG = """\
builtin: false
fail_on: high
policy_dirs: [policies]
locked: [fail_on]
"""

APP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n"


def policy(policy_id: str, name: str = FORBIDDEN) -> str:
    return named_policy(policy_id, name=name)


@dataclass
class Shared:
    """A shared rules repository: a bare repository and the clone it is pushed from."""

    url: str
    sha: str
    work: GitRepo

    def publish(self, files: dict[str, str], message: str = "rules") -> str:
        self.work.write_all(files)
        sha = self.work.commit(message)
        self.work.git("push", "-q", self.url, "HEAD:refs/heads/main")
        return sha


def make_shared(root: Path, files: dict[str, str]) -> Shared:
    bare = root / "shared.git"
    bare.mkdir(parents=True)
    run_git(bare, "init", "-q", "--bare")
    shared = Shared(str(bare), "", GitRepo.init(root / "shared-work"))
    shared.sha = shared.publish(files)
    return shared


@pytest.fixture
def shared(tmp_path: Path) -> Shared:
    return make_shared(tmp_path / "org", {"gate.yaml": SHARED_CONFIG,
                                          "policies/names.yaml": policy("org-names")})


def extends(source: Shared, sha: str | None = None, path: str = "gate.yaml") -> str:
    return f"extends: {{git: {source.url}, rev: {sha or source.sha}, path: {path}}}\n"


@pytest.fixture
def repo(tmp_path: Path, shared: Shared) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write_all({".gate.yaml": extends(shared), "apps/app.yaml": APP.format(name=FORBIDDEN)})
    repo.commit("a repository judged by the shared rules")
    return repo


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.mark.e2e
def test_fetched_once_then_read_from_the_cache_without_the_source(
        repo: GitRepo, shared: Shared, cache: Path, run_gate: RunGate, tmp_path: Path) -> None:
    # Not fetched: one line naming the config line, and nothing written.
    done = run_gate("check", ".", "--cache-dir", cache, cwd=repo.path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f".gate.yaml:1: error: extends: {shared.url}@{shared.sha} is not in the cache "
        f"({cache}): run 'gate fetch' (or pass --fetch) where the network may be used; "
        "gate fetches nothing unless asked\n")
    assert not cache.exists()
    fetched = run_gate("fetch", "--cache-dir", cache, cwd=repo.path)
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout.splitlines()[0] == f"fetched  {shared.url}@{shared.sha}"
    # The source is gone (as the network would be): the cache is enough.
    shutil.move(shared.url, tmp_path / "gone.git")
    judged = run_gate("check", ".", "--cache-dir", cache, "-f", "json", cwd=repo.path)
    assert judged.returncode == 1, judged.stderr
    report = json.loads(judged.stdout)
    assert [(r["policy"], r["status"]) for r in report["results"]] == [("org-names", "fail")]
    again = run_gate("fetch", "--cache-dir", cache, cwd=repo.path)
    assert again.stdout.splitlines()[0] == f"cached   {shared.url}@{shared.sha}"


@pytest.mark.e2e
def test_the_audit_names_the_repository_commit_and_path_of_each_file(
        repo: GitRepo, shared: Shared, cache: Path, gate_cli: RunGate) -> None:
    done = gate_cli("check", ".", "--fetch", "--cache-dir", cache, "-f", "json", cwd=repo.path)
    assert done.returncode == 1, done.stderr
    audit = json.loads(done.stdout)["audit"]
    inputs = {entry["name"]: entry["sha256"] for entry in audit["inputs"]}
    for path in ("gate.yaml", "policies/names.yaml"):
        blob = shared.work.git("show", f"{shared.sha}:{path}").encode("utf-8")
        assert inputs[f"{shared.url}@{shared.sha}:{path}"] == hashlib.sha256(blob).hexdigest()
    assert set(inputs) == {".gate.yaml", f"{shared.url}@{shared.sha}:gate.yaml",
                           f"{shared.url}@{shared.sha}:policies/names.yaml"}
    # The same bytes at another commit are another source: another fingerprint.
    later = shared.publish({"README.md": "the rules\n"}, "docs")
    repo.write(".gate.yaml", extends(shared, later))
    moved = json.loads(gate_cli("check", ".", "--fetch", "--cache-dir", cache, "-f", "json",
                                cwd=repo.path).stdout)["audit"]
    digests = {entry["name"]: entry["sha256"] for entry in moved["inputs"]}
    for path in ("gate.yaml", "policies/names.yaml"):
        before = inputs[f"{shared.url}@{shared.sha}:{path}"]
        assert digests[f"{shared.url}@{later}:{path}"] == before
    assert moved["fingerprint"] != audit["fingerprint"]


@pytest.mark.e2e
def test_a_new_pin_is_not_served_by_an_older_fetch(
        repo: GitRepo, shared: Shared, cache: Path, gate_cli: RunGate) -> None:
    assert gate_cli("fetch", "--cache-dir", cache, cwd=repo.path).returncode == 0
    later = shared.publish({"policies/names.yaml": policy("org-names", name="api")})
    repo.write(".gate.yaml", extends(shared, later))
    done = gate_cli("check", ".", "--cache-dir", cache, cwd=repo.path)
    assert done.returncode == 2
    assert f"{shared.url}@{later} is not in the cache" in done.stderr
    done = gate_cli("check", ".", "--fetch", "--cache-dir", cache, cwd=repo.path)
    assert done.returncode == 0, done.stdout + done.stderr  # the new rules forbid "api"


@pytest.mark.e2e
def test_a_commit_the_repository_does_not_have_fails_closed(
        repo: GitRepo, shared: Shared, cache: Path, gate_cli: RunGate, tmp_path: Path) -> None:
    other = make_shared(tmp_path / "other", {"gate.yaml": "builtin: true\n"})
    repo.write(".gate.yaml", extends(shared, other.sha))
    done = gate_cli("fetch", "--cache-dir", cache, cwd=repo.path)
    assert done.returncode == 2
    assert done.stderr == (
        f".gate.yaml:1: error: extends: {shared.url} has no commit {other.sha} (on none of "
        "its branches and tags, or not that repository's commit): pin a commit of that "
        "repository\n")
    # Nothing else stands in for it.
    done = gate_cli("check", ".", "--cache-dir", cache, cwd=repo.path)
    assert done.returncode == 2
    assert f"{shared.url}@{other.sha} is not in the cache" in done.stderr


@pytest.mark.e2e
def test_an_annotated_tag_object_is_not_a_commit(
        repo: GitRepo, shared: Shared, cache: Path, gate_cli: RunGate) -> None:
    shared.work.git("tag", "-a", "-m", "release", "v1.0.0")
    shared.work.git("push", "-q", shared.url, "v1.0.0")
    tag = shared.work.git("rev-parse", "v1.0.0").strip()
    repo.write(".gate.yaml", extends(shared, tag))
    done = gate_cli("fetch", "--cache-dir", cache, cwd=repo.path)
    assert done.returncode == 2
    assert done.stderr == (f".gate.yaml:1: error: extends: rev {tag} of {shared.url} names a "
                           "tag, not a commit\n")


@pytest.mark.e2e
@pytest.mark.parametrize(("rev", "why"), [
    ("v1.0.0", "a tag or branch moves, so gate does not resolve one"),
    ("main", "a tag or branch moves, so gate does not resolve one"),
    ("abc1234", "an abbreviated or non-SHA-1 id"),
    ("A" * 40, "write it in lower case"),
])
def test_a_tag_branch_or_short_id_is_refused(
        repo: GitRepo, shared: Shared, cache: Path, gate_cli: RunGate, rev: str,
        why: str) -> None:
    repo.write(".gate.yaml", f"# shared rules\nextends:\n  git: {shared.url}\n  rev: {rev}\n"
                             "  path: gate.yaml\n")
    done = gate_cli("fetch", "--cache-dir", cache, cwd=repo.path)
    assert done.returncode == 2
    assert done.stderr == (f".gate.yaml:4: error: extends.rev: {rev!r} is not a full commit id "
                           f"({why}); pin the 40-hex commit, e.g. from: git ls-remote URL "
                           "REF\n")
    assert not cache.exists()


@pytest.mark.e2e
def test_a_source_that_cannot_be_reached_is_one_line(
        repo: GitRepo, cache: Path, gate_cli: RunGate, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.git"
    repo.write(".gate.yaml", "builtin: true\npolicy_dirs:\n"
                             f"  - {{git: {missing}, rev: {'0123456789abcdef' * 2}{'0' * 8}, "
                             "path: policies}\n")
    done = gate_cli("check", ".", "--fetch", "--cache-dir", cache, cwd=repo.path)
    assert done.returncode == 2
    assert done.stderr.startswith(f".gate.yaml:3: error: policy_dirs[0]: cannot fetch {missing}: ")
    assert done.stderr.count("\n") == 1


@pytest.mark.e2e
def test_policy_dirs_from_a_git_source_and_a_path_not_in_it(
        repo: GitRepo, shared: Shared, cache: Path, gate_cli: RunGate) -> None:
    config = ("builtin: false\npolicy_dirs:\n  - local\n"
              f"  - {{git: {shared.url}, rev: {shared.sha}, path: policies}}\n")
    repo.write_all({".gate.yaml": config, "local/mine.yaml": policy("team-names", "db")})
    done = gate_cli("policies", "--fetch", "--cache-dir", cache, cwd=repo.path)
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()[1:3]] == [
        "org-names", "team-names"]
    repo.write(".gate.yaml", config.replace("path: policies", "path: rules"))
    done = gate_cli("policies", "--cache-dir", cache, cwd=repo.path)
    assert done.stderr == (f".gate.yaml:4: error: policy_dirs[1].path: 'rules' is not in "
                           f"{shared.url}@{shared.sha}\n")


@pytest.mark.e2e
def test_a_broken_policy_of_a_source_is_named_by_source_and_line(
        repo: GitRepo, shared: Shared, cache: Path, gate_cli: RunGate) -> None:
    broken = policy("org-names").replace("severity: high", "severity: sometimes")
    later = shared.publish({"policies/names.yaml": broken})
    repo.write(".gate.yaml", extends(shared, later))
    done = gate_cli("check", ".", "--fetch", "--cache-dir", cache, cwd=repo.path)
    assert done.returncode == 2
    line = broken.splitlines().index("severity: sometimes") + 1
    assert done.stderr.startswith(f"{shared.url}@{later}:policies/names.yaml:{line}: error: ")


@pytest.mark.e2e
@pytest.mark.parametrize(("entry", "message"), [
    ("policy_dirs: [../../outside]", "policy_dirs[0]: '../../outside' leaves the git source "
                                     "it is in"),
    ("policy_dirs: [/etc]", "policy_dirs[0]: '/etc': a config from a git source names files "
                            "of its own repository, by relative path"),
    ("extends: /etc/gate.yaml", "extends: '/etc/gate.yaml': a config from a git source names "
                                "files of its own repository, by relative path"),
    ("waivers: ../waivers.yaml", "waivers: '../waivers.yaml' leaves the git source it is in"),
])
def test_paths_in_a_config_from_a_source_stay_in_it(
        repo: GitRepo, shared: Shared, cache: Path, gate_cli: RunGate, entry: str,
        message: str) -> None:
    later = shared.publish({"gate.yaml": f"builtin: false\n{entry}\n"})
    repo.write(".gate.yaml", extends(shared, later))
    done = gate_cli("check", ".", "--fetch", "--cache-dir", cache, cwd=repo.path)
    assert done.stderr == f"{shared.url}@{later}:gate.yaml:2: error: {message}\n"


@pytest.mark.e2e
def test_a_config_from_a_source_extends_and_locks_within_it(
        repo: GitRepo, shared: Shared, cache: Path, gate_cli: RunGate) -> None:
    later = shared.publish({"teams/payments.yaml": "extends: ../gate.yaml\nprofile: baseline\n"})
    repo.write(".gate.yaml", extends(shared, later, "teams/payments.yaml") + "fail_on: low\n")
    done = gate_cli("check", ".", "--fetch", "--cache-dir", cache, cwd=repo.path)
    assert done.stderr == (f".gate.yaml:2: error: fail_on: locked by {shared.url}@{later}:"
                           "gate.yaml:4; a config that extends it may not set it\n")
    repo.write(".gate.yaml", extends(shared, later, "teams/payments.yaml"))
    done = gate_cli("check", ".", "--cache-dir", cache, "-f", "json", cwd=repo.path)
    assert done.returncode == 1, done.stderr
    names = {entry["name"] for entry in json.loads(done.stdout)["audit"]["inputs"]}
    assert f"{shared.url}@{later}:teams/payments.yaml" in names


@pytest.mark.e2e
def test_rules_from_base_keep_the_base_source(
        repo: GitRepo, shared: Shared, cache: Path, gate_cli: RunGate, run_gate: RunGate,
        tmp_path: Path) -> None:
    """A change cannot point the rules at another repository or commit: the base's
    config chooses the source, and gate fetch --rules-from base fetches only that."""
    lenient = make_shared(tmp_path / "attacker", {"gate.yaml": "builtin: false\n"})
    repo.git("checkout", "-q", "-b", "change")
    repo.write_all({".gate.yaml": extends(lenient), "apps/more.yaml": APP.format(name="web")})
    repo.commit("point the rules elsewhere")
    fetched = run_gate("fetch", "--rules-from", "base", "--base", "main", "--cache-dir", cache,
                       cwd=repo.path)
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout.splitlines()[0] == f"fetched  {shared.url}@{shared.sha}"
    assert lenient.url not in fetched.stdout
    # Even with the change's source in the cache, the base's judges.
    assert gate_cli("fetch", "--cache-dir", cache, cwd=repo.path).returncode == 0
    assert gate_cli("diff", "--base", "main", "--cache-dir", cache,
                    cwd=repo.path).returncode == 0
    done = gate_cli("diff", "--base", "main", "--rules-from", "base", "--cache-dir",
                    cache, "-f", "json", cwd=repo.path)
    assert done.returncode == 1, done.stderr
    audit = json.loads(done.stdout)["audit"]
    assert f"{shared.url}@{shared.sha}:gate.yaml" in {i["name"] for i in audit["inputs"]}
    assert not any(lenient.url in i["name"] for i in audit["inputs"])


@pytest.mark.e2e
def test_a_hook_environment_does_not_redirect_the_cache(
        repo: GitRepo, shared: Shared, cache: Path, gate_cli: RunGate) -> None:
    """git runs hooks with GIT_DIR and GIT_INDEX_FILE set; reading the cache must
    still read the cache, not the repository the hook runs in."""
    hook = {"GIT_DIR": str(repo.path / ".git"), "GIT_INDEX_FILE": str(repo.path / ".git/index"),
            "GIT_OBJECT_DIRECTORY": str(repo.path / ".git/objects")}
    done = gate_cli("check", "apps", "--fetch", "--cache-dir", cache, env=hook, cwd=repo.path)
    assert done.returncode == 1, done.stderr
    assert "web is a forbidden name" in done.stdout
    done = gate_cli("check", "apps", "--cache-dir", cache, env=hook, cwd=repo.path)
    assert done.returncode == 1, done.stderr


@pytest.mark.e2e
def test_a_cache_inside_the_repository_is_refused(
        repo: GitRepo, gate_cli: RunGate) -> None:
    done = gate_cli("check", ".", "--fetch", "--cache-dir", ".cache", cwd=repo.path)
    assert done.returncode == 2
    assert done.stderr == (
        f".gate.yaml:1: error: extends: cache directory {repo.path}/.cache lies inside the "
        "working directory or the repository being judged; choose one outside it "
        "(--cache-dir or GATE_CACHE_DIR)\n")
    assert not (repo.path / ".cache").exists()


@pytest.mark.e2e
def test_runs_without_git_sources_never_touch_the_cache(
        tmp_path: Path, gate_cli: RunGate) -> None:
    repo = GitRepo.init(tmp_path / "plain")
    repo.write_all({".gate.yaml": "fail_on: high\n", "app.yaml": APP.format(name="x")})
    done = gate_cli("check", ".", "--fetch", cwd=repo.path,
                    env={"GATE_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "cache").exists()
    fetched = gate_cli("fetch", cwd=repo.path, env={"GATE_CACHE_DIR": str(tmp_path / "cache")})
    assert (fetched.returncode, fetched.stdout) == (
        0, ".gate.yaml: no git policy sources to fetch\n")


def test_the_cache_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("GATE_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_directory() == str(tmp_path / "home" / ".cache" / "gate")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert cache_directory() == str(tmp_path / "home" / ".cache" / "gate")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_directory() == str(tmp_path / "xdg" / "gate")
    monkeypatch.setenv("GATE_CACHE_DIR", str(tmp_path / "gate-cache"))
    assert cache_directory() == str(tmp_path / "gate-cache")
    monkeypatch.chdir(tmp_path)
    assert cache_directory("option") == str(tmp_path / "option")
    monkeypatch.setenv("GATE_CACHE_DIR", "relative")
    with pytest.raises(ConfigError, match="absolute path"):
        cache_directory()


@pytest.mark.parametrize("url", [
    "https://git.example.com/platform/gate-rules.git", "ssh://git@git.example.com/rules.git",
    "git@github.com:bank/gate-rules.git", "file:///srv/git/rules.git", "/srv/git/rules.git",
    "git://git.example.com/rules.git", "https://user@git.example.com/rules.git",
])
def test_urls_a_source_may_use(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(("url", "why"), [
    ("ext::sh -c touch% /tmp/pwned", "a URL holds no spaces"),
    ("ext::sh", "git remote helpers"),
    ("fd::3", "git remote helpers"),
    ("-uhelp", "cannot start with '-'"),
    ("ssh://-oProxyCommand=x/rules", "a host name cannot start with '-'"),
    ("https://user:token@git.example.com/rules.git", "a password in the URL"),
    ("ftp://git.example.com/rules.git", "the 'ftp' transport is not allowed"),
    ("../rules.git", "a relative path is not a source"),
    ("rules", "a relative path is not a source"),
    ("https://git.example.com/a\nb", "control characters"),
])
def test_urls_a_source_may_not_use(url: str, why: str) -> None:
    problem = url_problem(url)
    assert problem is not None and why in problem, problem


@pytest.mark.e2e
def test_no_git_process_reads_the_source_without_fetch(
        repo: GitRepo, shared: Shared, cache: Path, gate_cli: RunGate, tmp_path: Path) -> None:
    """Without --fetch the source repository is never read: a source that is not a
    repository at all gives the same "not in the cache" error, not a git failure."""
    assert gate_cli("fetch", "--cache-dir", cache, cwd=repo.path).returncode == 0
    os.rename(shared.url, tmp_path / "moved.git")
    (Path(shared.url)).write_text("not a repository")
    assert gate_cli("check", ".", "--cache-dir", cache, cwd=repo.path).returncode == 1


@pytest.mark.e2e
def test_a_waivers_file_from_a_source(
        repo: GitRepo, shared: Shared, cache: Path, gate_cli: RunGate) -> None:
    """One waiver process for every repository: the shared config names a waivers file
    of its own repository, read from the same commit."""
    waivers = ("waivers:\n  - policy: org-names\n    reason: a legacy name, renamed in Q3\n"
               "    approved_by: jane.doe@example.com\n    expires: \"2030-01-01\"\n")
    later = shared.publish({"gate.yaml": SHARED_CONFIG + "waivers: waivers.yaml\n",
                            "waivers.yaml": waivers})
    repo.write(".gate.yaml", extends(shared, later))
    done = gate_cli("check", ".", "--fetch", "--cache-dir", cache, "-f", "json",
                    "--now", "2026-06-01T00:00:00Z", cwd=repo.path)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert [(r["policy"], r["status"]) for r in report["results"]] == [("org-names", "waived")]
    names = {entry["name"] for entry in report["audit"]["inputs"]}
    assert f"{shared.url}@{later}:waivers.yaml" in names
