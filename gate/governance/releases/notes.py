"""``gate release diff``: release notes between two release tags, as a change record
needs them: per microservice and environment what changed, and the commits in between
with their authors and the change tickets they name.

A commit's tickets are read by the ``change-ticket`` policy's own evidence rule (its
trailer and pattern as ``.gate.yaml`` configures them, else the policy's defaults),
evaluated on a change document of that one commit: the same tickets ``gate diff``
records as evidence.
"""
from __future__ import annotations

from dataclasses import dataclass

from gate.evaluation.policy import Policy
from gate.git.commits import Commit
from gate.governance.change_log import commit_tickets
from gate.governance.releases.compare import VersionChange, version_changes
from gate.governance.releases.history import ReleaseHistory
from gate.governance.releases.tags import ReleaseTag
from gate.governance.releases.versions import Unread

TICKET_POLICY = "change-ticket"


@dataclass(frozen=True)
class NoteCommit:
    sha: str
    author_name: str
    author_email: str
    authored_at: str  # ISO 8601, as the commit records it
    subject: str
    tickets: tuple[str, ...]

    @property
    def author(self) -> str:
        return f"{self.author_name} <{self.author_email}>"


@dataclass
class ReleaseNotes:
    old: ReleaseTag
    new: ReleaseTag
    environments: list[str]
    changes: list[VersionChange]
    commits: list[NoteCommit]  # newest first, as git log lists them
    ticket_rule: str
    unread: list[tuple[str, Unread]]
    #: Whether the old tag is an ancestor of the new one (else the commits are those
    #: of the new tag that the old one lacks: git log OLD..NEW).
    linear: bool
    microservice_rule: str

    @property
    def authors(self) -> list[str]:
        return sorted({c.author for c in self.commits})

    @property
    def tickets(self) -> list[str]:
        return sorted({t for c in self.commits for t in c.tickets})

    @property
    def without_ticket(self) -> list[NoteCommit]:
        return [c for c in self.commits if not c.tickets]

    @property
    def complete(self) -> bool:
        return not self.unread


class TicketReader:
    """The change tickets of one commit, by the ``change-ticket`` policy's rule."""

    def __init__(self, policy: Policy | None) -> None:
        self.policy = policy if policy is not None and policy.evidence else None

    @property
    def rule(self) -> str:
        if self.policy is None:
            return f"no {TICKET_POLICY} policy is loaded: no ticket is read"
        params = self.policy.params
        return (f"the commit's {params.get('trailer')!r} trailer matching "
                f"{params.get('pattern')!r} (policy {TICKET_POLICY}"
                + (", as configured)" if self.policy.enabled else ", its defaults: not enabled)"))

    def tickets(self, commit: Commit) -> tuple[str, ...]:
        if self.policy is None:
            return ()
        return commit_tickets(commit, self.policy)


def ticket_policy(loaded: list[Policy], configured: list[Policy]) -> Policy | None:
    """The ``change-ticket`` policy as configured when enabled, else as loaded."""
    for policies in (configured, loaded):
        found = next((p for p in policies if p.id == TICKET_POLICY), None)
        if found is not None:
            return found
    return None


def release_notes(history: ReleaseHistory, old: ReleaseTag, new: ReleaseTag,
                  tickets: TicketReader) -> ReleaseNotes:
    before = history.deployment(old.commit)
    after = history.deployment(new.commit)
    environments = history.environments(before, after)
    repository = history.repository
    commits = [NoteCommit(c.sha, c.author_name, c.author_email, c.authored_at.isoformat(),
                          c.subject, tickets.tickets(c))
               for c in repository.commits(old.commit, new.commit)]
    unread = [(old.name, u) for u in before.unread] + [(new.name, u) for u in after.unread]
    return ReleaseNotes(
        old=old, new=new, environments=environments,
        changes=version_changes(before, after, environments), commits=commits,
        ticket_rule=tickets.rule, unread=unread,
        linear=repository.is_ancestor(old.commit, new.commit),
        microservice_rule=history.settings.microservice_rule)
