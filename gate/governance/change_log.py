"""The change log of ``gate diff``: every commit of the change, for the audit trail.

One :class:`~gate.results.CommitRecord` per commit the change's own (the author's
commits, never a merge CI made, see :mod:`gate.governance.change_commits`), newest first: who
wrote and who committed it, when, its signature as git verified it, its trailers and
the change tickets it names. The tickets are those the ``change-ticket`` policy counts,
found by that policy's own evidence expression on a document of the one commit, so the
log and the policy never disagree on what a ticket is (its ``trailer`` and ``pattern``
parameters, as configured). With ``change-ticket`` not enabled, no ticket is counted.
"""
from __future__ import annotations

from gate.evaluation.policy import Policy
from gate.git.commits import Commit
from gate.governance.change import commit_document
from gate.results import CommitRecord

TICKET_POLICY = "change-ticket"
TICKET_EVIDENCE = "Change tickets"


def commit_log(commits: list[Commit], policies: list[Policy]) -> list[CommitRecord]:
    """A record per commit, in the order given (newest first)."""
    ticket_policy = next((p for p in policies if p.id == TICKET_POLICY and p.enabled), None)
    return [_record(commit, ticket_policy) for commit in commits]


def commit_tickets(commit: Commit, ticket_policy: Policy | None) -> tuple[str, ...]:
    """The change tickets one commit names, as ``ticket_policy`` counts them."""
    if ticket_policy is None:
        return ()
    entry = commit_document(commit)
    # The evidence reads the head commit (commits: head) or every commit (commits: all):
    # of a document holding this one commit, either is this commit's tickets.
    document = {"mode": "commits", "commits": [entry], "head_commit": entry}
    return ticket_policy.evidence_values(document).get(TICKET_EVIDENCE, ())


def _record(commit: Commit, ticket_policy: Policy | None) -> CommitRecord:
    return CommitRecord(
        sha=commit.sha,
        author=f"{commit.author_name} <{commit.author_email}>",
        authored_at=commit.authored_at.isoformat(),
        committer=f"{commit.committer_name} <{commit.committer_email}>",
        committed_at=commit.committed_at.isoformat(),
        subject=commit.subject,
        signature=commit.signature,
        trailers=tuple((key, tuple(values)) for key, values in commit.trailers.items()),
        tickets=commit_tickets(commit, ticket_policy),
    )
