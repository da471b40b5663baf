"""Results of an evaluation, and the report every output format renders."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from gate import __version__
from gate.loading.resources import InputError, Note

SEVERITIES = ("critical", "high", "medium", "low", "info")
ENFORCEMENTS = ("block", "warn")

PASS = "pass"
FAIL = "fail"  # a finding that blocks the gate
WARN = "warn"  # a finding that does not block: enforcement warn, or below --fail-on
WAIVED = "waived"  # a finding a valid waiver (file or inline annotation) covers
OVERRIDDEN = "overridden"  # a blocking finding let through by an emergency override
BASELINED = "baselined"  # a finding an entry of the baseline records (gate check --baseline)
SKIP = "skip"  # the policy applied but found nothing to check
STATUSES = (FAIL, WARN, OVERRIDDEN, WAIVED, BASELINED, SKIP, PASS)


def severity_rank(severity: str) -> int:
    """0 for critical, growing as severity falls."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    """What a report says about a policy, with the configuration in force applied."""

    id: str
    title: str
    description: str
    rationale: str
    remediation: str
    severity: str
    enforcement: str
    controls: tuple[str, ...]
    file: str
    target: str = "resources"  # "resources", "documents" or "change"
    overridable: bool = False  # an emergency override may let its blocking findings pass
    inline_waivers: bool = False  # a resource annotation may waive it


@dataclass(frozen=True, slots=True)
class WaiverRef:
    """The waiver that covers a finding, as reports show it.

    ``source`` is ``waivers.yaml:12`` for a waiver file entry, or
    ``annotation gate.dev/waive.<id>`` for an inline waiver (no approver, no expiry).
    """

    source: str
    reason: str
    ticket: str | None = None
    approved_by: str | None = None
    expires: str | None = None  # ISO date, the last day the waiver applies

    def __str__(self) -> str:
        parts = [self.reason]
        if self.ticket:
            parts.append(f"ticket {self.ticket}")
        if self.approved_by:
            parts.append(f"approved by {self.approved_by}")
        if self.expires:
            parts.append(f"expires {self.expires}")
        return f"{'; '.join(parts)} ({self.source})"


@dataclass(frozen=True, slots=True)
class OverrideRef:
    """An emergency override (a commit trailer) that let blocking findings pass."""

    trailer: str  # e.g. "Gate-Override"
    value: str  # the trailer's whole value, e.g. "INC-1234 payment outage"
    ticket: str  # the incident or change id the value starts with
    reason: str
    commit: str  # sha of the commit carrying the trailer
    author: str  # "Name <email>" of that commit's author
    # Four eyes: the approver from ``overrides.approvers`` who approved it ("Name <email>")
    # and the commit that carries the approval; empty where no approval is configured.
    approved_by: str = ""
    approval_commit: str = ""

    def __str__(self) -> str:
        text = f"{self.trailer}: {self.value} (by {self.author}, commit {self.commit[:12]}"
        if self.approved_by:
            text += f"; approved by {self.approved_by}, commit {self.approval_commit[:12]}"
        return text + ")"


CHANGE_API_VERSION = "gate.dev/v1"
CHANGE_KIND = "Change"


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """A resource as reports name it.

    ``rendered_by`` is the directory whose rendering (a Kustomize overlay)
    produced the resource, empty for a resource read as written; the same base
    file rendered by three overlays gives three resources.
    """

    api_version: str
    kind: str
    name: str
    namespace: str
    file: str
    line: int
    environment: str = ""
    rendered_by: str = ""

    @property
    def is_change(self) -> bool:
        """Whether this names a change (a change policy's subject), not a resource."""
        return self.kind == CHANGE_KIND and self.api_version == CHANGE_API_VERSION

    def subject(self) -> str:
        """How reports name a change subject: ``change to prod`` (or ``change``)."""
        return f"change to {self.environment}" if self.environment else "change"

    def identity(self) -> str:
        namespace = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{namespace}{self.name}"

    def key(self) -> tuple[str, str, str, str, str]:
        """What makes a resource the same one on both sides of a change."""
        return (self.environment, self.rendered_by or self.file, self.kind, self.namespace,
                stable_name(self.kind, self.name, bool(self.rendered_by)))


# kustomize's content-hash suffix of a generated ConfigMap or Secret: ten characters of a
# sha256 hex digest with 0, 1, 3, a and e replaced by g, h, k, m and t.
_CONTENT_HASH = re.compile(r"-[2456789bcdfghkmt]{10}\Z")


def stable_name(kind: str, name: str, rendered: bool) -> str:
    """A resource's name as the ratchet compares it across a change.

    A generated ConfigMap or Secret is renamed whenever its content changes (kustomize
    appends a hash of it), yet it is the same object: ``web-config-7g2dhk9m4b`` and
    ``web-config-b5f8c2kt9h`` are both ``web-config``, so an edit to its source does
    not make its existing findings new, nor list it as deleted.
    """
    if rendered and kind in ("ConfigMap", "Secret"):
        return _CONTENT_HASH.sub("", name)
    return name


def change_ref(environment: str) -> ResourceRef:
    """The subject of a change policy's result: the change, as it reaches one environment.

    It has no file (``file`` is empty, ``line`` 0); a finding about something in the
    change (an image line, say) carries its own ``Result.file`` and ``Result.line``.
    """
    return ResourceRef(CHANGE_API_VERSION, CHANGE_KIND, environment or "(no environment)", "",
                       "", 0, environment=environment)


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of one policy on one resource (one per finding when it fails)."""

    policy: PolicyInfo
    resource: ResourceRef
    status: str
    message: str = ""
    field: str | None = None
    line: int | None = None
    waiver: WaiverRef | None = None
    override: OverrideRef | None = None
    file: str | None = None  # where the offending value was set, when not the resource's file
    new: bool | None = None  # gate diff: absent at the base of the change (None: not a diff)

    @property
    def location_line(self) -> int:
        return self.line if self.line is not None else self.resource.line

    @property
    def location_file(self) -> str:
        return self.file or self.resource.file

    def sort_key(self) -> tuple[str, str, str, int, str, str, str, str, str, int, str, str]:
        return (
            self.resource.environment, self.resource.rendered_by,
            self.resource.file, self.resource.line, self.resource.kind,
            self.resource.namespace, self.resource.name, self.policy.id,
            self.location_file, self.location_line, self.field or "", self.message,
        )


@dataclass(frozen=True, slots=True)
class ChangedFile:
    status: str  # A, D, M, R, T as git reports them
    path: str
    old_path: str | None = None


@dataclass(frozen=True, slots=True)
class CommitSignature:
    """A commit's signature as git reports it (``%G?``, ``%GS``, ``%GK``, ``%GF``).

    ``status``: ``G`` good, ``B`` bad, ``U`` good of unknown validity, ``X`` good but
    expired, ``Y`` good by an expired key, ``R`` good by a revoked key, ``E`` cannot be
    checked (a missing key, say), ``N`` no signature.
    """

    status: str = "N"
    signer: str = ""
    key: str = ""
    fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class CommitRecord:
    """One commit of a change, as the change log of a report lists it."""

    sha: str
    author: str  # "Name <email>"
    authored_at: str  # ISO-8601 with the author's offset
    committer: str  # "Name <email>"
    committed_at: str  # ISO-8601 with the committer's offset
    subject: str
    signature: CommitSignature = CommitSignature()
    # Trailers as git parses them: (key as written, its values), in order.
    trailers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    tickets: tuple[str, ...] = ()  # change tickets the commit names (change-ticket's rule)


@dataclass(frozen=True, slots=True)
class RollbackRecord:
    """An environment a change moves back to what an earlier release tag deployed."""

    environment: str
    release: str  # the release tag whose versions (or targetRevision) it returns to
    moves: tuple[str, ...]  # e.g. "ms1: 1.1.0 -> 1.0.0", "Application shop-prod: v1.1.0 -> v1.0.0"
    # The window or freeze an ``allow_rollback`` let it through ("" when none was closed).
    let_through: str = ""


@dataclass
class ChangeSummary:
    """What ``gate diff`` compared: the two sides and the files the change touches."""

    mode: str  # "commits", "staged" or "worktree"
    base_ref: str
    # With --staged and --worktree the base is HEAD (base_sha its commit, None before the
    # first commit) and the head is the index or working tree (head_sha None).
    base_sha: str | None
    head_ref: str
    head_sha: str | None
    merge_base: str | None
    files: list[ChangedFile]
    deleted: list[ResourceRef] = field(default_factory=list)
    blocking: str = "new"  # "new": only new findings block; "all": every blocking finding
    notes: list[str] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)  # environments the change touches
    commits: int = 0  # commits in base..head (0 for --staged and --worktree)
    # Existing findings (warnings the change did not add), counted per policy id; listed
    # among the results only with --show-existing (gate/commands/diff.py).
    existing: dict[str, int] = field(default_factory=dict)
    existing_listed: bool = True
    # The change log: every commit in base..head, newest first (empty without commits).
    commit_log: list[CommitRecord] = field(default_factory=list)
    # Environments the change only moves back to an earlier release (gate/governance/releases/).
    rollbacks: list[RollbackRecord] = field(default_factory=list)


ACTIVE = "active"
EXPIRED = "expired"
STALE = "stale"
WAIVER_STATES = (ACTIVE, EXPIRED, STALE)


@dataclass(frozen=True, slots=True)
class WaiverUse:
    """One waiver-file entry and what became of it in this run.

    ``active``: in force, ``matched`` findings waived (0 is impossible: that is stale);
    ``expired``: past its date, ``matched`` findings it would have covered now count;
    ``stale``: in force but matched nothing (the finding is fixed, or the match is wrong).
    """

    source: str  # "waivers.yaml:12"
    policy: str
    reason: str
    ticket: str | None
    approved_by: str
    expires: str  # ISO date, the last day the waiver applies
    state: str
    matched: int


@dataclass(frozen=True, slots=True)
class Evidence:
    """Values a change policy records for the audit trail (e.g. change tickets)."""

    policy: str
    label: str
    environment: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BaselineUse:
    """One entry of a baseline file and what became of it in this run (the states of
    a waiver: ``active`` with the findings it baselined, ``expired``, ``stale``)."""

    source: str  # ".gate-baseline.yaml:12"
    policy: str
    expires: str  # ISO date, the last day the entry applies
    state: str
    matched: int


@dataclass
class BaselineRecord:
    """The baseline a check was given (``gate check --baseline FILE``), entry by entry."""

    file: str
    entries: list[BaselineUse] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for use in self.entries if use.state == state)

    def sort(self) -> None:
        self.entries.sort(key=lambda u: (WAIVER_STATES.index(u.state), u.source))


@dataclass
class Audit:
    """What a compliance officer files as evidence of a run.

    ``fingerprint`` is the sha256 over ``inputs`` (each policy file, the config and the
    waivers file by name and content sha256), so two runs with the same fingerprint
    judged by the same rules.
    """

    evaluated_at: str  # ISO-8601, UTC
    time_source: str  # "--now", "head commit", "SOURCE_DATE_EPOCH" or "clock"
    fingerprint: str
    inputs: list[tuple[str, str]]  # (name, sha256 of its bytes), sorted by name
    waivers: list[WaiverUse] = field(default_factory=list)
    overrides: list[OverrideRef] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    # Where the rules (config, policies, waivers, release manifest) were read:
    # "working tree", or with gate diff --rules-from base the commit, e.g.
    # "target origin/main (abc1234)" or "HEAD (abc1234)".
    rules_from: str = "working tree"
    baseline: BaselineRecord | None = None  # gate check --baseline

    def sort(self) -> None:
        if self.baseline is not None:
            self.baseline.sort()
        self.inputs.sort()
        self.waivers.sort(key=lambda w: (WAIVER_STATES.index(w.state), w.source))
        self.overrides = sorted(set(self.overrides), key=lambda o: (o.commit, o.value))
        self.evidence.sort(key=lambda e: (e.label, e.environment, e.policy, e.values))


#: Why something gate saw was not judged.
NOT_RENDERED = "not rendered"  # a renderer is off, missing, or not asked for
NOT_REFERENCED = "not referenced"  # nothing deploys it (an unused Kustomize component)
# A change policy on a change not yet committed (gate diff --staged or --worktree).
LOCAL_CHANGE = "not applied locally"
EXCLUDED = "excluded"  # an ``exclude:`` glob of the config names it
# The JSON schema enumerates these.
UNJUDGED_CATEGORIES = (NOT_RENDERED, NOT_REFERENCED, LOCAL_CHANGE, EXCLUDED)


@dataclass(frozen=True, slots=True)
class Unjudged:
    """A chart, overlay or file gate saw and did not judge, and why; or a change policy
    that applies to a change gate did not judge it on (a local change).

    Never silent: every report format lists these, so a passing run cannot hide
    workloads nobody looked at (a chart rendered only with ``--helm``, say).
    """

    # As reports name it: the chart or overlay directory, or the file (for a change
    # policy, the config file that decides; "" without one).
    file: str
    what: str  # "Helm chart", "Kustomize component", ...
    category: str  # one of UNJUDGED_CATEGORIES
    reason: str  # one sentence: what would make gate judge it

    def describe(self) -> str:
        """``Helm chart not rendered: <reason>``: one wording for every report format."""
        return f"{self.what} {self.category}: {self.reason}"

    def sort_key(self) -> tuple[str, str, str, str]:
        # Every field, so that two items differing only in category still sort the same
        # way in every run (a set's order changes with PYTHONHASHSEED).
        return (self.file, self.what, self.category, self.reason)


@dataclass(frozen=True)
class CertificationRow:
    """One version a production environment deploys at a release tag, and where the
    certifying environment ran it (``gate release verify``)."""

    microservice: str
    environment: str
    version: str
    file: str
    line: int
    certified_at: str | None  # the tag itself or an earlier release tag; None: never


@dataclass
class ReleaseEvidence:
    """``gate release verify``: the release tag verified and its certification table."""

    tag: str
    commit: str
    certified_in: str
    rule: str  # the certification rule, in words
    microservice_rule: str
    rows: list[CertificationRow] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # what could not be read, in words


@dataclass
class Report:
    """Everything a run found, in a deterministic order."""

    results: list[Result]
    errors: list[InputError]
    notes: list[Note]
    policies: list[PolicyInfo]
    resource_count: int
    fail_on: str = SEVERITIES[-1]
    tool_version: str = __version__
    change: ChangeSummary | None = None
    audit: Audit | None = None
    unjudged: list[Unjudged] = field(default_factory=list)
    release: ReleaseEvidence | None = None  # gate release verify
    _counts: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.results.sort(key=Result.sort_key)
        self.errors.sort(key=lambda e: (e.file, e.line or 0, e.message))
        self.notes.sort(key=lambda n: (n.file, n.line or 0, n.message))
        self.unjudged = sorted(set(self.unjudged), key=Unjudged.sort_key)
        self.policies.sort(key=lambda p: p.id)
        if self.change is not None:
            self.change.environments.sort()
            self.change.files.sort(key=lambda f: (f.path, f.old_path or ""))
            self.change.deleted.sort(key=lambda r: (r.environment, r.rendered_by, r.file,
                                                    r.line, r.kind, r.namespace, r.name))
        if self.audit is not None:
            self.audit.sort()
        counts = dict.fromkeys(STATUSES, 0)
        for result in self.results:
            counts[result.status] += 1
        self._counts = counts

    def count(self, status: str) -> int:
        return self._counts[status]

    @property
    def verdict(self) -> str:
        """``fail`` when a finding blocks or an input could not be read (fail closed)."""
        return "fail" if self.count(FAIL) or self.errors else "pass"

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return 1 if self.count(FAIL) else 0

    def summary(self) -> dict[str, int]:
        extra = {}
        if self.change is not None:
            extra = {
                "new": sum(1 for r in self.results if r.new),
                "changed_files": len(self.change.files),
                "deleted_resources": len(self.change.deleted),
            }
        return {
            "resources": self.resource_count,
            "policies": len(self.policies),
            "results": len(self.results),
            **{status: self.count(status) for status in STATUSES},
            "errors": len(self.errors),
            "skipped_documents": len(self.notes),
            "unjudged": len(self.unjudged),
            **extra,
        }

    def all_policies(self) -> list[PolicyInfo]:
        """Every policy of the report, and any only seen in a result, sorted by id."""
        by_id: dict[str, PolicyInfo] = {}
        for policy in [*self.policies, *(result.policy for result in self.results)]:
            by_id.setdefault(policy.id, policy)
        return [by_id[key] for key in sorted(by_id)]

    def by_status(self, status: str) -> list[Result]:
        return [r for r in self.results if r.status == status]
