"""Results of an evaluation, and the report every output format renders."""
from __future__ import annotations

from dataclasses import dataclass, field

from gate import __version__
from gate.resources import InputError, Note

SEVERITIES = ("critical", "high", "medium", "low", "info")
ENFORCEMENTS = ("block", "warn")

PASS = "pass"
FAIL = "fail"  # a finding that blocks the gate
WARN = "warn"  # a finding that does not block: enforcement warn, or below --fail-on
WAIVED = "waived"
SKIP = "skip"  # the policy applied but found nothing to check
STATUSES = (FAIL, WARN, WAIVED, SKIP, PASS)


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

    def identity(self) -> str:
        namespace = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{namespace}{self.name}"

    def key(self) -> tuple[str, str, str, str, str]:
        """What makes a resource the same one on both sides of a change."""
        return (self.environment, self.rendered_by or self.file, self.kind, self.namespace,
                self.name)


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of one policy on one resource (one per finding when it fails)."""

    policy: PolicyInfo
    resource: ResourceRef
    status: str
    message: str = ""
    field: str | None = None
    line: int | None = None
    waiver: str | None = None
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


@dataclass
class ChangeSummary:
    """What ``gate diff`` compared: the two sides and the files the change touches."""

    mode: str  # "commits", "staged" or "worktree"
    base_ref: str
    base_sha: str | None
    head_ref: str
    head_sha: str | None
    merge_base: str | None
    files: list[ChangedFile]
    deleted: list[ResourceRef] = field(default_factory=list)
    blocking: str = "new"  # "new": only new findings block; "all": every blocking finding
    notes: list[str] = field(default_factory=list)


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
    _counts: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.results.sort(key=Result.sort_key)
        self.errors.sort(key=lambda e: (e.file, e.line or 0, e.message))
        self.notes.sort(key=lambda n: (n.file, n.line or 0, n.message))
        self.policies.sort(key=lambda p: p.id)
        if self.change is not None:
            self.change.files.sort(key=lambda f: (f.path, f.old_path or ""))
            self.change.deleted.sort(key=lambda r: (r.environment, r.rendered_by, r.file,
                                                    r.line, r.kind, r.namespace, r.name))
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
            **extra,
        }

    def by_status(self, status: str) -> list[Result]:
        return [r for r in self.results if r.status == status]
