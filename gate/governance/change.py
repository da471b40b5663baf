"""The change document: what change policies judge, once per environment a change touches.

``gate diff`` builds one document per environment (docs/change-policies.md lists
every key). Parts that cost a rendering, the images each environment deploys at
each side, are computed only when a policy reads them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gate.clock import EvaluationTime
from gate.git.commits import Commit
from gate.governance.calendar.rules import Calendar, Decision, Period
from gate.loading.resources import Path, Resource
from gate.loading.sources import SourceFile
from gate.results import ChangeSummary, CommitSignature, RollbackRecord

if TYPE_CHECKING:
    from gate.governance.releases.rollback import RollbackJudge

#: (environment, side) -> the images that environment deploys at that side.
ImageLister = Callable[[str, str], list[dict[str, Any]]]
#: (environment, from environment) -> how the one at the head differs from the other at
#: the base (gate/governance/drift_change.py).
DriftLister = Callable[[str, str], dict[str, Any]]
SIDES = ("base", "head")


class ChangeSubject(Resource):
    """The change document dressed as a resource, so policies select and judge it.

    A finding is located at the deepest object on its path that names a ``file``
    and ``line`` (an image, a release entry); otherwise it has no place in a file.
    """

    __slots__ = ()

    def locate(self, path: Path) -> tuple[str | None, int]:
        found: tuple[str | None, int] = (None, 0)
        current: Any = self.obj
        for part in path:
            if isinstance(current, dict):
                current = current.get(part)
            elif isinstance(current, list) and isinstance(part, int) and part < len(current):
                current = current[part]
            else:
                break
            if isinstance(current, dict):
                file, line = current.get("file"), current.get("line")
                if isinstance(file, str) and file and isinstance(line, int):
                    found = (file, line)
        return found


def subject(document: dict[str, Any], environment: str) -> ChangeSubject:
    return ChangeSubject(document, SourceFile("", ""), 0, 0, environment=environment,
                         is_resource=False)


class LazyMapping(dict[str, Any]):
    """A mapping whose values are computed on first read, one key at a time.

    ``keys`` are what iterating yields (computing every value); with ``open_keys``
    any other string key is computed on request too (an environment the change does not
    name), else it is absent.
    """

    def __init__(self, keys: list[str], load: Callable[[str], Any],
                 open_keys: bool = False) -> None:
        super().__init__()
        self._keys = keys
        self._loader = load
        self._open = open_keys

    def _has(self, key: object) -> bool:
        return isinstance(key, str) and (self._open or key in self._keys)

    def _load(self, key: str) -> Any:
        if not dict.__contains__(self, key):
            dict.__setitem__(self, key, self._loader(key))
        return dict.__getitem__(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        return self._load(key) if self._has(key) else default

    def __getitem__(self, key: Any) -> Any:
        if not self._has(key):
            raise KeyError(key)
        return self._load(key)

    def __contains__(self, key: object) -> bool:
        return self._has(key)

    def _all(self) -> None:
        for key in self._keys:
            self._load(key)

    def __iter__(self) -> Iterator[str]:
        self._all()
        return iter(dict.keys(self))

    def __len__(self) -> int:
        self._all()
        return dict.__len__(self)

    def keys(self) -> Any:
        self._all()
        return dict.keys(self)

    def values(self) -> Any:
        self._all()
        return dict.values(self)

    def items(self) -> Any:
        self._all()
        return dict.items(self)

    def __eq__(self, other: object) -> bool:
        self._all()
        return dict.__eq__(self, other)

    __hash__ = None


def lazy_images(environments: list[str], lister: ImageLister) -> LazyMapping:
    """``images``: environment -> {base, head}, each side rendered on first read (and
    only of the repositories whose images the change touches).

    ``get(images, 'staging').base`` renders staging at the base only; ``images.*.head``
    renders every known environment's head.
    """
    def sides(environment: str) -> LazyMapping:
        return LazyMapping(list(SIDES), lambda side: lister(environment, side))

    return LazyMapping(environments, sides, open_keys=True)


def lazy_drift(environment: str, environments: list[str], lister: DriftLister) -> LazyMapping:
    """``drift``: from environment -> how ``environment`` at the head differs from it at
    the base, rendered on first read: ``get(drift, 'staging')``."""
    return LazyMapping(environments, lambda source: lister(environment, source),
                       open_keys=True)


@dataclass
class ChangeContext:
    """Everything about a change that its documents are built from."""

    summary: ChangeSummary  # the two sides and the changed files
    time: EvaluationTime
    file_environments: dict[str, list[str]]  # changed path -> environments it reaches
    environments: list[str]  # every environment the change touches ("" for none known)
    commits: list[Commit] = field(default_factory=list)  # newest first
    calendar: Calendar | None = None
    known_environments: list[str] = field(default_factory=list)
    images: ImageLister | None = None
    release: dict[str, Any] | None = None
    # The images of the resources the change reaches: environment -> side -> images.
    changed_images: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    # Recognises rollbacks (gate/governance/releases/rollback.py); None where none can be
    # (no commits).
    rollbacks: RollbackJudge | None = None
    drift: DriftLister | None = None

    def decision(self, environment: str) -> Decision | None:
        """The release calendar's decision for ``environment`` at the evaluation time."""
        if self.calendar is None:
            return None
        return self.calendar.decide(environment, self.time.instant)

    def rollback_records(self) -> list[RollbackRecord]:
        """The environments recognised as rollbacks (those something asked about, and
        those a calendar rule with ``allow_rollback`` keeps closed), each with the rules
        its ``allow_rollback`` let it through."""
        judge = self.rollbacks
        if judge is None:
            return []
        decisions = {environment: self.decision(environment)
                     for environment in self.environments}
        for environment, decision in decisions.items():
            if decision is not None and decision.allow_rollback:
                judge.judge(environment)

        def let_through(environment: str) -> str:
            decision = decisions.get(environment)
            if decision is None or not decision.allow_rollback:
                return ""
            return ", ".join(rule.name for rule in decision.closed_by)

        return judge.records(let_through)


def commit_document(commit: Commit) -> dict[str, Any]:
    return {
        "sha": commit.sha,
        "short_sha": commit.sha[:12],
        "author": {"name": commit.author_name, "email": commit.author_email},
        "committer": {"name": commit.committer_name, "email": commit.committer_email},
        "authored_at": _iso(commit.authored_at),
        "committed_at": _iso(commit.committed_at),
        "signature": signature_document(commit.signature),
        "subject": commit.subject,
        "message": commit.message,
        "trailers": {key: list(values) for key, values in commit.trailers.items()},
    }


def signature_document(signature: CommitSignature) -> dict[str, Any]:
    """``signature`` of a commit entry: git's verdict and who signed, with the signer's
    e-mail address picked out (``Name <email>`` of an OpenPGP user id; an SSH principal
    that is an address is its own)."""
    return {
        "status": signature.status,
        "signer": signature.signer,
        "email": signer_email(signature.signer),
        "key": signature.key,
        "fingerprint": signature.fingerprint,
    }


def signer_email(signer: str) -> str:
    """The e-mail address of a signer as git names it, lower-cased; "" without one."""
    text = signer.strip()
    if text.endswith(">") and "<" in text:
        text = text[text.rindex("<") + 1:-1].strip()
    return text.lower() if "@" in text and " " not in text else ""


def _iso(moment: Any) -> str:
    return str(moment.isoformat())


def _period(period: Period) -> dict[str, Any]:
    rule = period.rule
    entry: dict[str, Any] = {
        "name": rule.name,
        "kind": rule.kind,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "end_at_least": period.at_least,
        "allow_rollback": rule.allow_rollback,
    }
    line = getattr(rule, "line", None)
    if isinstance(line, int):
        entry["line"] = line
    return entry


def window_document(decision: Decision | None) -> dict[str, Any]:
    """``window``: the release calendar's decision for this environment, now."""
    if decision is None:
        return {"applies": False, "allowed": True, "reason": "no release calendar is configured",
                "blocking": [], "open": [], "next_open": None, "allow_rollback": False,
                "closed_by": []}
    return {
        "applies": not decision.reason.startswith("no release window or freeze applies"),
        "allowed": decision.allowed,
        "reason": decision.reason,
        "blocking": [_period(p) for p in decision.blocking],
        "open": [_period(p) for p in decision.active_allow],
        "next_open": decision.next_open.isoformat() if decision.next_open else None,
        "allow_rollback": decision.allow_rollback,
        "closed_by": [rule.name for rule in decision.closed_by],
    }


ROLLBACK_KEYS = ["is_rollback", "release", "moves", "reason"]
_NO_ROLLBACK: dict[str, Any] = {"is_rollback": False, "release": None, "moves": [],
                "reason": "only a committed change (gate diff --base) is recognised as a "
                          "rollback"}


def rollback_document(context: ChangeContext, environment: str) -> dict[str, Any]:
    """``rollback``: whether the change only moves this environment back to an earlier
    release, recognised on first read (it reads release tags' trees from git)."""
    judge = context.rollbacks
    if judge is None:
        return dict(_NO_ROLLBACK)
    return LazyMapping(list(ROLLBACK_KEYS),
                       lambda key: judge.judge(environment).document()[key])


def documents(context: ChangeContext) -> dict[str, dict[str, Any]]:
    """One change document per environment the change touches."""
    commits = [commit_document(commit) for commit in context.commits]
    files: list[dict[str, Any]] = [
        {"path": f.path, "status": f.status, "old_path": f.old_path,
         "environments": context.file_environments.get(f.path, [])}
        for f in context.summary.files
    ]
    images = None
    if context.images is not None:
        images = lazy_images(
            sorted(set(context.known_environments) | set(context.environments)), context.images)
    summary = context.summary
    built: dict[str, dict[str, Any]] = {}
    for environment in context.environments:
        decision = context.decision(environment)
        built[environment] = {
            "environment": environment,
            "environments": list(context.environments),
            "mode": summary.mode,
            "now": context.time.iso(),
            "base": {"ref": summary.base_ref, "sha": summary.base_sha,
                     "merge_base": summary.merge_base},
            "head": {"ref": summary.head_ref, "sha": summary.head_sha},
            "files": [f for f in files if environment in f["environments"]],
            "all_files": files,
            "commits": commits,
            "head_commit": commits[0] if commits else None,
            "window": window_document(decision),
            "changed": context.changed_images.get(environment, {"base": [], "head": []}),
            "images": images if images is not None else {},
            "release": context.release,
            "rollback": rollback_document(context, environment),
            "target_revisions": (context.rollbacks.target_revisions(environment)
                                 if context.rollbacks is not None else []),
            "drift": {} if context.drift is None else lazy_drift(
                environment, sorted(set(context.known_environments)
                                    | set(context.environments)), context.drift),
        }
    return built
