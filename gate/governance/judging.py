"""Change governance: change policies, waivers, emergency overrides and the audit record.

Results flow through here after evaluation, in this order: change policies add
their results, waivers turn covered findings into ``waived``, then an allowed
override turns the remaining blocking findings of overridable policies into
``overridden``. What was used is recorded in the report's audit section.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from gate.blank import blank
from gate.clock import EvaluationTime
from gate.config import Config, OverrideConfig
from gate.evaluation.policy import Policy
from gate.evaluation.policy_loading import builtin_files, policy_files
from gate.governance.waivers import Waiver, apply_waivers, check_policies
from gate.governance.waivers import load_waivers as read_waivers
from gate.results import (
    FAIL,
    OVERRIDDEN,
    Audit,
    Evidence,
    OverrideRef,
    Result,
    WaiverUse,
    severity_rank,
)

if TYPE_CHECKING:
    from gate.git.commits import Commit
    from gate.governance.change import ChangeContext
    from gate.loading.trees import FileTree
    from gate.rulesource import RuleSource



@dataclass
class Rules:
    """The rules a run is judged by, and where they were read."""

    config: Config
    policies: list[Policy]  # enabled and configured
    waivers: list[Waiver]
    inputs: list[tuple[str, str]]  # (name, sha256) of each file, for the audit
    source: str  # "working tree", or the revision's label, e.g. "target origin/main (abc1234)"
    #: The git tree the rules were read from (None: the working tree); the release
    #: manifest is read there too.
    tree: FileTree | None = None

# -- change policies ---------------------------------------------------------------------


def change_policies(policies: list[Policy]) -> list[Policy]:
    return [policy for policy in policies if policy.target == "change"]


def judge_change(
    policies: list[Policy], context: ChangeContext, fail_on: str
) -> tuple[list[Result], list[Evidence]]:
    """Every change policy on every environment's change document."""
    # On demand: gate.governance.change (and the git layer it reads) is for runs that judge changes.
    from gate.governance.change import documents, subject

    chosen = change_policies(policies)
    if not chosen:
        return [], []
    threshold = severity_rank(fail_on)
    results: list[Result] = []
    evidence: list[Evidence] = []
    for environment, document in documents(context).items():
        change = subject(document, environment)
        for policy in chosen:
            configured = policy.for_environment(environment)
            results.extend(replace(result, new=True)
                           for result in configured.check_change(change, threshold))
            evidence.extend(configured.record(change))
    return results, evidence


# -- waivers -----------------------------------------------------------------------------


def load_waivers(config: Config, policies: Iterable[Policy]) -> list[Waiver]:
    """The config's waivers file, read where the config was read."""
    if config.waivers is None:
        return []
    files = config.files
    waivers = read_waivers(config.waivers, files.name(config.waivers), files)
    check_policies(waivers, {policy.id for policy in policies})
    return waivers


def waive(
    results: list[Result], waivers: list[Waiver], time: EvaluationTime, complete: bool
) -> tuple[list[Result], list[WaiverUse]]:
    if not waivers:
        return results, []
    return apply_waivers(results, waivers, time.instant.date(), complete=complete)


# -- overrides ---------------------------------------------------------------------------


def find_overrides(
    commits: list[Commit], settings: OverrideConfig
) -> tuple[list[OverrideRef], list[str]]:
    """Override trailers on the commits that count, and notes on malformed ones."""
    considered = _head(commits, settings) if settings.commits == "head" else commits
    pattern = re.compile(settings.ticket_pattern)
    found: list[OverrideRef] = []
    notes: list[str] = []
    wanted = settings.trailer.lower()
    for commit in considered:
        author = f"{commit.author_name} <{commit.author_email}>"
        for key, values in commit.trailers.items():
            if key.lower() != wanted:
                continue
            for value in values:
                # Split at any whitespace, and a reason of invisible characters is none.
                ticket, reason = [*value.split(None, 1), "", ""][:2]
                reason = reason.strip()
                if pattern.fullmatch(ticket) and blank(reason) and reason:
                    notes.append(
                        f"{settings.trailer} trailer of commit {commit.sha[:12]} ignored: "
                        f"its reason is blank (only whitespace or invisible characters), "
                        f"got {value!r}"
                    )
                    continue
                if not pattern.fullmatch(ticket) or blank(reason):
                    notes.append(
                        f"{settings.trailer} trailer of commit {commit.sha[:12]} ignored: "
                        f"it needs an id matching {settings.ticket_pattern!r} and a reason, "
                        f"e.g. '{settings.trailer}: INC-1234 payment outage' (got {value!r})"
                    )
                    continue
                found.append(OverrideRef(settings.trailer, value.strip(), ticket, reason,
                                         commit.sha, author))
    if settings.allowed:  # fail closed: with nobody listed, nothing is approved
        found, unapproved = approve(found, commits, settings)
        notes += unapproved
    return found, notes


def _head(commits: list[Commit], settings: OverrideConfig) -> list[Commit]:
    """The commit whose override trailers count with ``commits: head``: the head, or with
    approvers configured the newest commit below the approvals stacked on top of it (an
    approver approves by adding a commit after the author's; that must not hide the
    override it approves)."""
    if settings.approvers:
        wanted, trailer = settings.approval_trailer.lower(), settings.trailer.lower()
        for commit in commits:
            keys = {key.lower() for key in commit.trailers}
            if wanted not in keys or trailer in keys:
                return [commit]
    return commits[:1]


# -- four eyes ---------------------------------------------------------------------------


def approve(overrides: list[OverrideRef], commits: list[Commit],
            settings: OverrideConfig) -> tuple[list[OverrideRef], list[str]]:
    """The overrides a second person approved, each with its approver and approving
    commit, and a note saying why each other one is ignored.

    An approval is a commit of the change (any of them, whatever ``commits`` says of the
    override) that carries ``<approval_trailer>: <the override's ticket>`` and whose
    author is in ``approvers`` and is not the author of the overriding commit; with
    ``require_signed_approval`` its signature must also be good (``G``) and by such an
    approver. The overriding commit cannot approve itself: its author is the override's.
    """
    approved: list[OverrideRef] = []
    notes: list[str] = []
    for found in overrides:
        approval, problems = _approval(found, commits, settings)
        if approval is not None:
            approved.append(replace(
                found, approved_by=f"{approval.author_name} <{approval.author_email}>",
                approval_commit=approval.sha))
            continue
        why = "; ".join(problems) if problems else (
            f"no commit of the change carries '{settings.approval_trailer}: {found.ticket}'")
        if not settings.approvers:
            why = "overrides.approvers lists nobody"
        signed = (", with a good signature by that approver"
                  if settings.require_signed_approval else "")
        notes.append(
            f"{found.trailer}: {found.value} (commit {found.commit[:12]}) ignored: it has no "
            f"approval (four eyes: a commit of the change by an approver listed in "
            f"overrides.approvers other than its author {_email(found.author)}, carrying "
            f"'{settings.approval_trailer}: {found.ticket}'{signed}): {why}; "
            "its findings keep blocking")
    return approved, notes


def _approval(found: OverrideRef, commits: list[Commit],
              settings: OverrideConfig) -> tuple[Commit | None, list[str]]:
    """The first commit that approves ``found``, or None and why each candidate did not."""
    from gate.governance.change import signer_email  # on demand, as in judge_change

    wanted = settings.approval_trailer.lower()
    author = _email(found.author)
    problems: list[str] = []
    for commit in commits:
        tickets = [value.split(None, 1)[0] for key, values in commit.trailers.items()
                   if key.lower() == wanted for value in values if value.split()]
        if found.ticket not in tickets:
            continue
        by = commit.author_email.strip().lower()
        where = f"the approval in commit {commit.sha[:12]}"
        if by == author:
            problems.append(f"{where} is by the override's own author {by}")
        elif by not in settings.approvers:
            problems.append(f"{where} is by {by}, who is not in overrides.approvers")
        elif settings.require_signed_approval and not _signed_by_approver(
                commit, author, settings, signer_email):
            signature = commit.signature
            signer = f" by {signature.signer!r}" if signature.signer else ""
            problems.append(f"{where} has no good signature by a listed approver other than "
                            f"the override's author (git says {signature.status}{signer})")
        else:
            return commit, []
    return None, problems


def _signed_by_approver(commit: Commit, author: str, settings: OverrideConfig,
                        signer_email: Callable[[str], str]) -> bool:
    signer = signer_email(commit.signature.signer)
    return (commit.signature.status == "G" and signer in settings.approvers
            and signer != author)


def _email(person: str) -> str:
    """The lower-cased address of ``Name <email>``."""
    text = person.strip()
    if text.endswith(">") and "<" in text:
        text = text[text.rindex("<") + 1:-1]
    return text.strip().lower()


def override(
    results: list[Result], overrides: list[OverrideRef], settings: OverrideConfig
) -> tuple[list[Result], list[OverrideRef], list[str]]:
    """Let blocking findings of overridable policies pass under the first valid override."""
    if not overrides:
        return results, [], []
    if not settings.allowed:
        notes = [f"{o.trailer}: {o.value} (commit {o.commit[:12]}) ignored: overrides are "
                 "not allowed (set overrides.allowed in the config)" for o in overrides]
        return results, [], notes
    used = overrides[0]
    changed: list[Result] = []
    for result in results:
        if result.status != FAIL:
            changed.append(result)
        elif result.policy.overridable:
            changed.append(replace(result, status=OVERRIDDEN, override=used))
        else:
            changed.append(replace(result, message=result.message + (
                f" (not overridable: the {used.trailer} trailer does not apply to "
                f"{result.policy.id})")))
    return changed, [used], []


# -- the audit record --------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def policy_inputs(config: Config, builtin: bool, directories: list[str]) -> list[tuple[str, str]]:
    """(name, sha256) of every file that decides the verdict: policies, config (and the
    config files it extends), waivers. A file of a git source is named
    ``URL@COMMIT:PATH``, so the fingerprint covers where it came from too.

    ``directories`` are paths of the config's source, as its ``policy_dirs`` are."""
    files = config.files
    inputs: list[tuple[str, str]] = []
    if builtin:
        inputs.extend((name, _sha256(text.encode("utf-8"))) for name, text in builtin_files())
    for directory in directories:
        for path in policy_files(directory, files):
            inputs.append((files.name(path), _file_sha256(files, path)))
    if config.path is not None:
        inputs.append((config.file or config.path, _file_sha256(files, config.path)))
    inputs.extend((files.name(path), _file_sha256(files, path)) for path in config.extended)
    if config.waivers is not None:
        inputs.append((files.name(config.waivers), _file_sha256(files, config.waivers)))
    return inputs


def _file_sha256(files: RuleSource, path: str) -> str:
    try:
        return _sha256(files.read_bytes(path))
    except OSError:
        return "unreadable"


def fingerprint(inputs: list[tuple[str, str]]) -> str:
    text = "".join(f"{name}\0{digest}\n" for name, digest in sorted(inputs))
    return _sha256(text.encode("utf-8"))


def audit(
    time: EvaluationTime,
    inputs: list[tuple[str, str]],
    waivers: list[WaiverUse],
    overrides: list[OverrideRef],
    evidence: list[Evidence],
    rules_from: str = "working tree",
) -> Audit:
    return Audit(
        evaluated_at=time.iso(),
        time_source=time.source,
        fingerprint=fingerprint(inputs),
        inputs=sorted(inputs),
        waivers=list(waivers),
        overrides=list(overrides),
        evidence=list(evidence),
        rules_from=rules_from,
    )
