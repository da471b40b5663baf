"""The commits of a change: the author's own, never a merge that CI made.

In CI the checked-out head is often not the author's last commit but a merge of it
with the branch it targets, which CI made: GitHub's ``pull_request`` and ``merge_group``
checkouts and GitLab's merged results pipelines and merge trains merge the change
*into* the base (the base side is the first parent), Jenkins' "merge with the target"
merges the base *into* the change (the base side is the second parent). Such a merge
carries CI's message, not the author's trailers, so change tickets and overrides are
read from the change's own commits: those of its head commit, as the CI system names
it (``--head-commit``, the pull request's head), or else as :func:`change_commits`
finds it. The tree judged is still the head's: what would be merged.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gate.git.commits import Commit
from gate.git.repository import Repository
from gate.git.runner import GitError

#: The most merges of changes into the base a head may stack (a merge queue's group or
#: a merge train): GitHub allows groups of up to 100 pull requests.
MAX_MERGES = 100


@dataclass(frozen=True)
class ChangeCommits:
    """The change's own commits, its head commit first, and what the report says about
    a merge that was left out."""

    commits: list[Commit]
    notes: list[str] = field(default_factory=list)


def change_commits(repository: Repository, base_sha: str, merge_base: str, head_sha: str,
                   head_commit: str | None = None, head_commit_ref: str = "") -> ChangeCommits:
    """The commits of the change from ``base_sha`` to ``head_sha``, without any merge CI
    made of it with the base.

    ``head_commit`` (``--head-commit``) is the change's own head as the CI system knows
    it: the head itself, or a parent of the head when the head is CI's merge of it. Else
    the head is taken for such a merge when it is either

    - a merge *into* the base: every commit on its first-parent line down to the base's
      history is a merge of two parents (one for a pull request, several for a merge
      queue's group or a merge train) and its second parent is not in the base's
      history; the change's head is that second parent; or
    - a merge of the base *into* the change: its second parent is in the base's history
      and its first parent is not; the change's head is that first parent.

    The merges are then left out of the commits, and a note says so.
    """
    if head_commit is not None:
        return _given(repository, base_sha, merge_base, head_sha, head_commit, head_commit_ref)
    everything = repository.commits(merge_base, head_sha)
    found = _ci_merge(repository, base_sha, head_sha)
    if found is None:
        return ChangeCommits(everything)
    change_head, merges, into = found
    by_sha = {commit.sha: commit for commit in everything}
    own = [commit for commit in everything if commit.sha not in merges]
    own.sort(key=lambda commit: commit.sha != change_head)  # stable: the head first
    merge, head = by_sha[head_sha], by_sha[change_head]
    if not into:
        how = "merges the base into the change (as Jenkins' merge with the target does)"
    elif len(merges) == 1:
        how = "merges the change into the base (as a pull request's merge does)"
    else:
        how = (f"and the {len(merges) - 1} merge(s) below it merge changes into the base (as a "
               "merge queue or merge train does)")
    which = "second" if into else "first"
    return ChangeCommits(own, [
        f"the head {_named(merge)} {how}, a merge made by CI or on merging, not one of the "
        f"change's own commits: its trailers are not read; the change's head commit is "
        f"{_named(head)}, its {which} parent"
    ])


def _given(repository: Repository, base_sha: str, merge_base: str, head_sha: str,
           head_commit: str, ref: str) -> ChangeCommits:
    """The commits of the head commit the CI system named: the head, or a parent of the
    head when the head is a merge."""
    if head_commit == head_sha:
        return ChangeCommits(repository.commits(merge_base, head_sha))
    parents = repository.parents(head_sha)
    if len(parents) < 2 or head_commit not in parents:
        raise GitError(
            f"--head-commit {ref}: {head_commit[:12]} is neither the head {head_sha[:12]} "
            "nor a parent of it (the head is no merge of it): the checkout is not of this "
            "change; check out the pull request's merge commit or its head")
    if repository.is_ancestor(head_commit, base_sha):
        raise GitError(
            f"--head-commit {ref}: {head_commit[:12]} is the base's side of the merge "
            f"{head_sha[:12]} (it is in the base's history), not the change's head")
    merge = repository.commit(head_sha)
    own = repository.commits(base_sha, head_commit)
    others = [parent for parent in parents if parent != head_commit]
    ahead = [parent for parent in others if not repository.is_ancestor(parent, base_sha)]
    note = (f"the head {_named(merge)} merges the change's head commit {head_commit[:12]} "
            "(--head-commit) with the base, a merge made by CI, not one of the change's own "
            "commits: its trailers are not read")
    if ahead:
        note += (f"; its other parent {', '.join(p[:12] for p in ahead)} is not in the base's "
                 "history (changes merged ahead of this one, as in a merge train): what they "
                 "change is judged with it, their commits are not the change's")
    return ChangeCommits(own, [note])


def _ci_merge(repository: Repository, base_sha: str,
              head_sha: str) -> tuple[str, set[str], bool] | None:
    """(the change's head, the merges CI made, whether they merge *into* the base), when
    the head is such a merge (see :func:`change_commits`); else None."""
    line = repository.first_parent_line(head_sha, base_sha, MAX_MERGES + 1)
    if not line or len(line[0][1]) != 2:
        return None
    first, second = line[0][1]
    second_in_base = repository.is_ancestor(second, base_sha)
    # Not truncated and no root: the last merge's first parent is in the base's history.
    if (not second_in_base and len(line) <= MAX_MERGES
            and all(len(parents) == 2 for _, parents in line)):
        return second, {sha for sha, _ in line}, True
    if second_in_base and len(line) > 1:  # the first parent is not in the base's history
        return first, {head_sha}, False
    return None


def _named(commit: Commit) -> str:
    return f"{commit.sha[:12]} ('{commit.subject}')"
