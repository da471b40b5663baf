"""The commits of a change are the author's: never a merge CI made of it with its base.

Real repositories with the merges each CI makes (gate/governance/change_commits.py): GitHub's and
GitLab's merge of the change into the base, a merge queue's stack of them, Jenkins'
merge of the base into the change; and the merges an author makes, which stay the
author's. The CI recipes run on such checkouts in tests/test_ci_examples.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.git.repository import open_repository
from gate.git.runner import GitError
from gate.governance.change_commits import change_commits
from tests.conftest import RunGate
from tests.gitrepo import ENV, GitRepo, run_git

pytestmark = pytest.mark.e2e


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """``main`` and ``feature`` (two commits, the ticket on the last); ``main`` moves on."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.write("a.yaml", "a: 1\n")
    repo.commit("initial")
    repo.checkout("-b", "feature")
    repo.write("b.yaml", "b: 1\n")
    repo.commit("first step")
    repo.write("b.yaml", "b: 2\n")
    repo.commit("second step\n\nChange-Request: CHG1")
    repo.checkout("main")
    repo.write("c.yaml", "c: 1\n")
    repo.commit("main moves on")
    return repo


def judge(repo: GitRepo, base: str = "main", head: str = "HEAD",
          given: str | None = None) -> tuple[list[str], list[str]]:
    """(subjects of the change's commits, notes)."""
    with open_repository(str(repo.path)) as repository:
        base_sha, head_sha = repository.resolve(base), repository.resolve(head)
        merge_base = repository.merge_base(base_sha, head_sha)
        given_sha = None if given is None else repository.resolve(given)
        found = change_commits(repository, base_sha, merge_base, head_sha, given_sha,
                               given or "")
    return [commit.subject for commit in found.commits], found.notes


def merge_into(repo: GitRepo, base: str, change: str, message: str) -> str:
    """A merge of ``change`` into ``base`` (the base its first parent), HEAD on it."""
    repo.checkout("--detach", base)
    return repo.merge(change, message)


AUTHORS = ["second step", "first step"]


def test_an_ordinary_head_is_the_change_head(repo: GitRepo) -> None:
    assert judge(repo, head="feature") == (AUTHORS, [])


def test_a_pull_requests_merge_is_not_one_of_the_changes_commits(repo: GitRepo) -> None:
    merge = merge_into(repo, "main", "feature",
                       f"Merge {repo.sha('feature')} into {repo.sha('main')}")
    subjects, [note] = judge(repo)
    assert subjects == AUTHORS
    assert note.startswith(f"the head {merge[:12]} ('Merge {repo.sha('feature')}")
    assert "merges the change into the base" in note
    assert f"the change's head commit is {repo.sha('feature')[:12]} ('second step')" in note


def test_the_merges_trailers_are_never_read(repo: GitRepo) -> None:
    """Even a merge whose message ends in trailers (a template quoting the description):
    the author's head commit is the head commit."""
    merge_into(repo, "main", "feature",
               "Merge branch 'feature' into 'main'\n\nChange-Request: CHG999\n"
               "Gate-Override: INC-9 from the description")
    with open_repository(str(repo.path)) as repository:
        base, head = repository.resolve("main"), repository.resolve("HEAD")
        found = change_commits(repository, base, repository.merge_base(base, head), head)
    assert found.commits[0].sha == repo.sha("feature")
    assert all("CHG999" not in json.dumps(c.trailers) for c in found.commits)


def test_a_base_that_moved_on_since_the_merge_still_finds_it(repo: GitRepo) -> None:
    """The merge was made with an older tip of the base than the one fetched since."""
    merge = merge_into(repo, "main", "feature", "Merge feature into main")
    repo.checkout("-b", "later", "main")
    repo.write("d.yaml", "d: 1\n")
    repo.commit("main moves on again")
    repo.checkout("--detach", merge)
    assert judge(repo, base="later")[0] == AUTHORS


def test_a_merge_queue_of_two_pull_requests(repo: GitRepo) -> None:
    """Each pull request merged on top of the one ahead of it: every merge on the first-
    parent line is the queue's; the authors' commits are all the change's, the last
    pull request's head first."""
    repo.checkout("-b", "other", "main~1")
    repo.write("e.yaml", "e: 1\n")
    repo.commit("other change")
    merge_into(repo, "main", "other", "Merge pull request #1 from acme/other")
    repo.merge("feature", "Merge pull request #2 from acme/feature")
    subjects, [note] = judge(repo)
    assert subjects[0] == "second step"
    assert sorted(subjects) == sorted([*AUTHORS, "other change"])
    assert "and the 1 merge(s) below it merge changes into the base" in note


def test_jenkins_merge_of_the_target_into_the_pull_request(repo: GitRepo) -> None:
    repo.checkout("--detach", "feature")
    run_git(repo.path, "merge", "-q", "--no-edit", repo.sha("main"),
            env={**ENV, "GIT_AUTHOR_NAME": "Jenkins", "GIT_COMMITTER_NAME": "Jenkins"})
    subjects, [note] = judge(repo)
    assert subjects == AUTHORS
    assert "merges the base into the change" in note and "its first parent" in note


def test_a_merge_of_another_branch_is_the_authors(repo: GitRepo) -> None:
    """Neither parent is the base's: the author merged a topic branch, and the merge is
    the change's head commit, trailers and all."""
    repo.checkout("-b", "topic", "main~1")
    repo.write("t.yaml", "t: 1\n")
    repo.commit("topic work")
    repo.checkout("feature")
    repo.merge("topic", "Merge topic into feature\n\nChange-Request: CHG2")
    subjects, notes = judge(repo, head="feature")
    assert subjects[0] == "Merge topic into feature" and notes == []


def test_the_head_commit_given_as_the_head_keeps_the_authors_merge(repo: GitRepo) -> None:
    """An author's own merge of the base as the branch's last commit has the shape of
    Jenkins' merge; naming the head as the change's head commit keeps it the author's."""
    repo.checkout("feature")
    repo.merge("main", "Merge branch 'main' into feature\n\nChange-Request: CHG3")
    assert judge(repo)[0] == AUTHORS  # taken for CI's merge when nothing says otherwise
    subjects, notes = judge(repo, given="HEAD")
    assert subjects[0] == "Merge branch 'main' into feature" and notes == []


def test_the_head_commit_given_as_a_parent_of_the_merge(repo: GitRepo) -> None:
    merge = merge_into(repo, "main", "feature", "Merge feature into main")
    subjects, [note] = judge(repo, given=repo.sha("feature"))
    assert subjects == AUTHORS
    assert note.startswith(f"the head {merge[:12]} ('Merge feature into main') merges the "
                           f"change's head commit {repo.sha('feature')[:12]} (--head-commit)")
    assert "not in the base's history" not in note


def test_a_merge_train_names_what_was_merged_ahead(repo: GitRepo) -> None:
    repo.checkout("-b", "other", "main")
    repo.write("e.yaml", "e: 1\n")
    repo.commit("other change")
    merge_into(repo, "main", "other", "Merge other into main")
    ahead = repo.sha("HEAD")
    repo.merge("feature", "Merge feature into main")
    subjects, [note] = judge(repo, given=repo.sha("feature"))
    assert subjects == AUTHORS
    assert f"its other parent {ahead[:12]} is not in the base's history" in note


@pytest.mark.parametrize("given", ["main", "feature~1"])
def test_a_head_commit_that_is_not_the_head_nor_its_merges_parent_is_an_error(
    repo: GitRepo, given: str
) -> None:
    merge_into(repo, "main", "feature", "Merge feature into main")
    repo.checkout("--detach", "feature")  # a head that is no merge
    with pytest.raises(GitError, match=r"--head-commit .*: [0-9a-f]{12} is neither the head"):
        judge(repo, given=given)


def test_the_cli_reads_the_authors_commits_and_refuses_a_misplaced_option(
    repo: GitRepo, gate_cli: RunGate
) -> None:
    repo.write(".gate.yaml", "environments:\n  - {name: prod, paths: ['**']}\n"
               "policies:\n  change-ticket:\n    enabled: true\n")
    merge_into(repo, "main", "feature", "Merge feature into main")
    done = gate_cli("diff", "--base", "main", "-f", "json", cwd=repo.path)
    report = json.loads(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [r["status"] for r in report["results"] if r["policy"] == "change-ticket"] == ["pass"]
    assert report["change"]["commits"] == 2
    done = gate_cli("diff", "--base", "main", "--head-commit", "main", cwd=repo.path)
    assert done.returncode == 2 and "is the base's side of the merge" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    done = gate_cli("diff", "--base", "main", "--head-commit", "feature~1", cwd=repo.path)
    assert done.returncode == 2 and "is neither the head" in done.stderr
    done = gate_cli("diff", "--staged", "--head-commit", "HEAD", cwd=repo.path)
    assert done.returncode == 2 and "--head-commit goes with --base" in done.stderr
