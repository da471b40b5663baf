"""A change checked out as CI checks it out: HEAD a merge CI made of the author's commits.

A *server* repository holds ``main`` and the author's branch ``feature`` (two commits
to prod, the last one carrying the scenario's trailers; ``main`` moves on after the
fork). Each builder makes the merge one CI system makes and clones the server as that
system's runner does, HEAD on the merge:

- GitHub ``pull_request``: ``refs/pull/1/merge``, the head merged into the base (the
  base the first parent), ``Merge <head> into <base>``, checked out detached, as
  ``actions/checkout`` does;
- GitHub ``merge_group``: the queue branch ``gh-readonly-queue/main/pr-1-<base>``,
  ``Merge pull request #1 from acme/feature``;
- GitLab merged results: ``refs/merge-requests/1/merge``, ``Merge branch 'feature' into
  'main'`` with the default template's paragraphs;
- Jenkins "merge with the target": the pull request's head checked out and the target's
  commit merged into it by ``Jenkins <nobody@nowhere>`` (the base the second parent),
  with git's own message, as the git plugin's ``MergeWithGitSCMExtension`` does.

The config, on ``main``, enables ``change-ticket`` for prod, allows overrides and
freezes prod over the year end; the scenarios judge at a time inside or outside it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.gitrepo import ENV, GitRepo, run_git
from tests.manifests import CONFIGMAP, POD_LATEST
from tests.signing import commit_as

POD = POD_LATEST.replace("nginx:latest", "nginx:1.27.3")

CONFIG = """\
environments:
  - {name: dev, paths: ["envs/dev/**"]}
  - {name: prod, paths: ["envs/prod/**"]}
policies:
  change-ticket:
    enabled: true
overrides:
  allowed: true
  approvers: [dana@example.com]
calendar:
  freezes:
    - name: year-end
      start: "2026-12-18T00:00:00+01:00"
      end: "2027-01-04T00:00:00+01:00"
      reason: year-end trading freeze
      environments: [prod]
"""

# What the change itself would like the rules to be: no ticket, no freeze. With
# `--rules-from base` the base's config judges it, so both still apply.
LOOSENED = """\
environments:
  - {name: dev, paths: ["envs/dev/**"]}
  - {name: prod, paths: ["envs/prod/**"]}
policies:
  change-ticket:
    enabled: false
overrides:
  allowed: true
  approvers: [dana@example.com]
"""

TICKET = "Change-Request: CHG123456"
OVERRIDE = "Gate-Override: INC-42 checkout is down"
FROZEN = str(int(datetime(2026, 12, 24, 9, tzinfo=timezone.utc).timestamp()))
THAWED = str(int(datetime(2027, 1, 11, 9, tzinfo=timezone.utc).timestamp()))


@dataclass(frozen=True)
class Scenario:
    """The trailers of the author's two commits, and when the change is judged."""

    name: str
    head_trailers: str  # on the author's head commit
    first_trailers: str  # on the author's first commit
    epoch: str  # SOURCE_DATE_EPOCH: inside or outside the prod freeze
    exit_code: int


SCENARIOS = [
    # The ticket is on the author's head commit: change-ticket passes.
    Scenario("ticket", TICKET, "", THAWED, 0),
    # In the freeze, the author's override lets release-window pass (the ticket is due too).
    Scenario("override", f"{TICKET}\n{OVERRIDE}", "", FROZEN, 0),
    # The author's head commit has no ticket (the first commit's does not count for
    # `commits: head`): change-ticket fails, and names the author's commit.
    Scenario("missing-ticket", "", "Change-Request: CHG100001", THAWED, 1),
]


@dataclass
class Checkout:
    """A runner's clone, HEAD on the merge CI made."""

    workspace: GitRepo
    base: str  # main's tip: the base the merge was made with
    fork_point: str  # where feature left main
    author_head: str  # the author's head commit (the pull request's head)
    merge: str  # HEAD: CI's merge


def _message(subject: str, trailers: str) -> str:
    return f"{subject}\n\n{trailers}" if trailers else subject


def server(tmp_path: Path, scenario: Scenario) -> GitRepo:
    """``main`` with the config and prod's pod; ``feature`` adds prod settings (and
    loosens the config, to no avail), then bumps the pod's image; ``main`` then changes
    dev."""
    repo = GitRepo.init(tmp_path / "server")
    repo.write(".gate.yaml", CONFIG)
    repo.write("envs/prod/web.yaml", POD)
    repo.write("envs/dev/settings.yaml", CONFIGMAP)
    repo.commit("initial")
    repo.checkout("-b", "feature")
    repo.write("envs/prod/settings.yaml", CONFIGMAP)
    repo.write(".gate.yaml", LOOSENED)
    repo.commit(_message("add prod settings", scenario.first_trailers))
    repo.replace("envs/prod/web.yaml", "nginx:1.27.3", "nginx:1.27.4")
    repo.commit(_message("bump web to 1.27.4", scenario.head_trailers))
    if OVERRIDE in scenario.head_trailers:
        # Four eyes: a listed approver approves the override with a commit of their own
        # (which must carry the ticket too: it is now the head).
        commit_as(repo, f"Approve the emergency change\n\n{TICKET}\nGate-Approve: INC-42",
                  "Dana Lead <dana@example.com>")
    repo.checkout("main")
    repo.replace("envs/dev/settings.yaml", "mode: fast", "mode: slow")
    repo.commit("dev: slow mode")
    return repo


def _merge_into_base(repo: GitRepo, ref: str, message: str) -> None:
    """On the server: ``ref`` becomes a merge of ``feature`` into ``main``."""
    repo.checkout("--detach", "main")
    repo.merge("feature", message)
    repo.git("update-ref", ref, "HEAD")
    repo.checkout("main")


def _clone(tmp_path: Path, repo: GitRepo, fetch: str) -> GitRepo:
    """A runner's clone of the server (full history, as ``fetch-depth: 0`` and
    ``GIT_DEPTH: 0`` give), with ``fetch`` fetched and checked out, detached."""
    run_git(tmp_path, "clone", "-q", "--no-checkout", str(repo.path), "workspace")
    workspace = GitRepo(tmp_path / "workspace")
    workspace.clock = repo.clock
    workspace.git("fetch", "-q", "origin", f"+{fetch}:refs/remotes/ci/fetched")
    workspace.checkout("--detach", "refs/remotes/ci/fetched")
    return workspace


def _checkout(repo: GitRepo, workspace: GitRepo) -> Checkout:
    fork_point = repo.git("merge-base", "main", "feature").strip()
    return Checkout(workspace, repo.sha("main"), fork_point, repo.sha("feature"),
                    workspace.sha("HEAD"))


def github_pull_request(tmp_path: Path, scenario: Scenario) -> Checkout:
    repo = server(tmp_path, scenario)
    _merge_into_base(repo, "refs/pull/1/merge",
                     f"Merge {repo.sha('feature')} into {repo.sha('main')}")
    return _checkout(repo, _clone(tmp_path, repo, "refs/pull/1/merge"))


def github_merge_group(tmp_path: Path, scenario: Scenario) -> Checkout:
    repo = server(tmp_path, scenario)
    queue = f"refs/heads/gh-readonly-queue/main/pr-1-{repo.sha('main')}"
    _merge_into_base(repo, queue, "Merge pull request #1 from acme/feature\n\nBump web")
    return _checkout(repo, _clone(tmp_path, repo, queue))


def gitlab_merged_results(tmp_path: Path, scenario: Scenario) -> Checkout:
    repo = server(tmp_path, scenario)
    _merge_into_base(repo, "refs/merge-requests/1/merge",
                     "Merge branch 'feature' into 'main'\n\nBump web\n\n"
                     "See merge request acme/deploy!1")
    return _checkout(repo, _clone(tmp_path, repo, "refs/merge-requests/1/merge"))


def gitlab_merge_request(tmp_path: Path, scenario: Scenario) -> Checkout:
    """A merge request pipeline without merged results: HEAD is the author's head."""
    repo = server(tmp_path, scenario)
    repo.git("update-ref", "refs/merge-requests/1/head", "feature")
    workspace = _clone(tmp_path, repo, "refs/merge-requests/1/head")
    return _checkout(repo, workspace)


def jenkins_merge_with_target(tmp_path: Path, scenario: Scenario) -> Checkout:
    repo = server(tmp_path, scenario)
    repo.git("update-ref", "refs/pull/1/head", "feature")
    workspace = _clone(tmp_path, repo, "refs/pull/1/head")
    workspace.clock += 60
    date = f"{workspace.clock} +0000"
    run_git(workspace.path, "merge", "-q", "--no-edit", repo.sha("main"),
            env={**ENV, "GIT_AUTHOR_NAME": "Jenkins", "GIT_AUTHOR_EMAIL": "nobody@nowhere",
                 "GIT_COMMITTER_NAME": "Jenkins", "GIT_COMMITTER_EMAIL": "nobody@nowhere",
                 "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    return _checkout(repo, workspace)


def read_report(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return report


def assert_judged_by_the_authors_commits(report: dict[str, Any], checkout: Checkout,
                                         scenario: Scenario) -> None:
    """The verdict on tickets and overrides is the author's commits', CI's merge never
    among them, and the report agrees with itself."""
    author, merge = checkout.author_head, checkout.merge
    change = report["change"]
    assert change["head"]["sha"] == merge  # the tree judged is what would be merged
    # The author's two (and an override's approval); CI's merge is not one of them.
    assert change["commits"] == (3 if scenario.name == "override" else 2)
    assert [c["sha"] for c in change["commit_log"]][:1] == [author]
    assert len(change["commit_log"]) == change["commits"]
    [ticket] = [r for r in report["results"] if r["policy"] == "change-ticket"]
    evidence = [(e["label"], e["environment"], e["values"]) for e in report["audit"]["evidence"]]
    if scenario.name == "missing-ticket":
        assert ticket["status"] == "fail"
        assert ticket["message"].startswith(
            f"head commit {author[:12]} ('bump web to 1.27.4') has no 'Change-Request' "
            "trailer"), ticket["message"]
        # No ticket listed beside the failure: the first commit's does not count.
        assert evidence == []
    else:
        assert ticket["status"] == "pass", ticket["message"]
        assert evidence == [("Change tickets", "prod", ["CHG123456"])]
    [window] = [r for r in report["results"] if r["policy"] == "release-window"]
    if scenario.name == "override":
        assert window["status"] == "overridden"
        [used] = report["audit"]["overrides"]
        override = checkout.workspace.sha(f"{author}^")  # below the approval on top
        assert (used["commit"], used["ticket"]) == (override, "INC-42")
        assert (used["approved_by"], used["approval_commit"]) == (
            "Dana Lead <dana@example.com>", author)
    else:
        assert window["status"] == "pass"
        assert report["audit"]["overrides"] == []
    if merge != author:
        assert merge[:12] not in json.dumps(report["results"])
        assert any(merge[:12] in note and author[:12] in note for note in change["notes"])
    assert report["verdict"] == ("fail" if scenario.exit_code else "pass")
