"""Run the real ``gate`` CLI over the vendored histories in ``tests/realrepos/``.

Each history is a git bundle (see ``tests/realrepos/README.md``): a replay of real
upstream commits, each carrying an ``Upstream-Commit:`` trailer. A :class:`History`
clones one offline, checks out any commit into a scratch folder for ``gate check``,
runs ``gate diff`` in the clone, and caches every run, so a commit checked once is
never checked again whichever pair asks for it.

A finding's identity is the one gate's ratchet uses (``gate/commands/diff.py``
``finding_key`` over ``gate/results.py`` ``ResourceRef.key``): policy id; environment,
overlay that rendered the resource (else its file), kind, namespace, name; and the
field, or the message when there is no field. Note that gate's key leaves out the
resource's ``apiVersion``: an ``autoscaling/v2beta2`` -> ``v2`` move keeps findings.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import sys
import tarfile
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gate.results import stable_name
from tests.gitrepo import ENV, run_git
from tests.processes import run

REALREPOS = Path(__file__).parent / "realrepos"
GATE = [sys.executable, "-m", "gate"]
TIMEOUT = 300  # seconds for one gate run
WORKERS = 2  # the machines running this have two cores
NOW = "2026-12-24T09:00:00Z"  # fixes the evaluation time: the same run, the same report

# The statuses that are findings in a report (gate's FINDINGS, plus overridden ones).
FINDING_STATUSES = frozenset({"fail", "warn", "waived", "overridden"})
# The subject of a change policy's result: only gate diff has these; never in gate check.
CHANGE_SUBJECT = ("gate.dev/v1", "Change")

# Every vendored history, as the upstream commits it replays (oldest first, 12 hex
# digits). The test ids name pairs by these, and a test checks the bundles against them.
UPSTREAM: dict[str, list[str]] = {
    "podinfo": [
        "be955e76b0fe", "0b8a7dace736", "a51de59edbc2", "81654006ee8b", "7ac390bb273e",
        "e51374c0ec76", "f1eb631ac9ff", "8bded1ba8009", "eca2d3a1d96a", "e3c8277e58b2",
        "9525259938e7", "5d97df9c89b8", "2da74a4ec247", "e0a79a4dddd0", "f2c02b6adece",
        "30ac3ce0427b", "73a9a9c81da7", "72c51ed43bf4", "e92ae0e624a2", "3079cdb898ee",
    ],
    "flux2-kustomize-helm-example": [
        "37edbceb5955", "20fc35a18812", "7578a380a840", "dcdcdc9fba0c", "88d5c5c84b3b",
        "bfaf8dd3a4dc", "8a2bd1d09104", "ce57fa241195", "b3d1eb0ac094", "9836a45d2de8",
        "5530bb1956f5", "7afc0b3d4a9d", "e82a6e266b9a", "64ae4345c04e", "2c04226a6ddd",
        "3395ffb030e3", "32c054304417", "a17e840b9c81", "fe4b3f96c17d", "8cee66461b94",
        "7c6e245ac4e2", "0adbf9440468",
    ],
    "argocd-example-apps": [
        "3ef31aef9ce5", "6150e82d927f", "b4ebe0049d2a", "5c2d89b897c4", "94ad32f4ea26",
        "6bed858de32a", "08f72e2a309b", "53e28ff20cc5", "68657670d913", "0eb6d91dbe4b",
        "7d3261e30477", "f58c7ed8cfe2",
    ],
}
# The top-level folders each bundle's trees hold, and nothing else.
VENDORED_PATHS: dict[str, set[str]] = {
    "podinfo": {"deploy", "kustomize"},
    "flux2-kustomize-helm-example": {"apps", "infrastructure", "clusters"},
    "argocd-example-apps": {"apps", "guestbook", "kustomize-guestbook", "pre-post-sync"},
}

COMMENT = "# gate e2e: a comment-only edit\n"

Key = tuple[str, str, str, str, str, str, str]


def kustomize_available() -> bool:
    return shutil.which("kubectl") is not None or shutil.which("kustomize") is not None


def pairs(repo: str) -> list[tuple[str, str]]:
    """Every consecutive pair of replayed commits, by upstream sha."""
    commits = UPSTREAM[repo]
    return list(itertools.pairwise(commits))


@dataclass
class GateRun:
    """One run of the gate CLI: its arguments, exit status, stderr and JSON report."""

    args: list[str]
    cwd: Path
    returncode: int
    stderr: str
    report: dict[str, Any] | None

    def describe(self) -> str:
        errors = [f"{e['file']}:{e['line']}: {e['message']}"
                  for e in (self.report or {}).get("errors", [])]
        notes = ((self.report or {}).get("change") or {}).get("notes", [])
        return "\n".join([f"$ (cd {self.cwd} && gate {' '.join(self.args)}) -> exit "
                          f"{self.returncode}", *errors, *notes,
                          self.stderr.strip()[-2000:]])

    @property
    def results(self) -> list[dict[str, Any]]:
        return (self.report or {}).get("results", [])


def run_gate(args: list[str], cwd: Path, report: Path) -> GateRun:
    """``gate ARGS -f json=REPORT`` in ``cwd``, as a subprocess, with a fixed clock."""
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    full = [*args, "--now", NOW, "-f", f"json={report}"]
    env = {**ENV, "PYTHONPATH": str(Path(__file__).parent.parent), "NO_COLOR": "1"}
    done = run([*GATE, *full], cwd=cwd, env=env, timeout=TIMEOUT)
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
    return GateRun(full, cwd, done.returncode, done.stderr, data)


def finding_key(result: dict[str, Any]) -> Key:
    """The identity gate's ratchet gives a finding (see the module docstring)."""
    resource = result["resource"]
    rendered = bool(resource.get("rendered_by"))
    return (result["policy"], resource.get("environment") or "",
            resource.get("rendered_by") or resource.get("file") or "", resource["kind"],
            resource.get("namespace") or "",
            stable_name(resource["kind"], resource["name"], rendered),
            result.get("field") or result.get("message") or "")


def findings(run: GateRun) -> set[Key]:
    """The identities of a report's findings (change-policy subjects left out)."""
    return {finding_key(r) for r in run.results
            if r["status"] in FINDING_STATUSES
            and (r["resource"]["apiVersion"], r["resource"]["kind"]) != CHANGE_SUBJECT}


def new_findings(run: GateRun) -> set[Key]:
    """The identities of the findings a gate diff report marks new."""
    return {finding_key(r) for r in run.results
            if r["status"] in FINDING_STATUSES and r.get("new") is True
            and (r["resource"]["apiVersion"], r["resource"]["kind"]) != CHANGE_SUBJECT}


def explain_mismatch(diff: GateRun, base: GateRun, head: GateRun) -> str:
    """A readable account of where gate diff's new findings and the two checks disagree."""
    marked = new_findings(diff)
    expected = findings(head) - findings(base)
    lines = [diff.describe(), base.describe(), head.describe()]
    missing = sorted(expected - marked)
    extra = sorted(marked - expected)
    if missing:
        lines.append(f"{len(missing)} finding(s) new by the checks, not marked new by gate diff:")
        lines += [f"  - {key}" for key in missing[:40]]
    if extra:
        lines.append(f"{len(extra)} finding(s) gate diff marks new, not new by the checks:")
        head_keys = findings(head)
        lines += [f"  + {key}  ("
                  f"{'also in the base check' if key in head_keys else 'not in the head check'})"
                  for key in extra[:40]]
    return "\n".join(lines)


@dataclass
class History:
    """A clone of one vendored bundle, and cached gate runs over its commits."""

    name: str
    root: Path  # scratch folder owned by this history
    clone: Path = field(init=False)
    upstream: dict[str, str] = field(init=False)  # upstream sha (12) -> clone sha
    _checks: dict[str, GateRun] = field(default_factory=dict)
    _diffs: dict[tuple[str, str], GateRun] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.clone = self.root / "clone"
        bundle = REALREPOS / self.name / "history.bundle"
        run_git(bundle.parent, "clone", "-q", str(bundle), str(self.clone))
        log = run_git(self.clone, "log", "--reverse", "--format=%H %(trailers:key=Upstream-Commit,"
                      "valueonly,separator=)")
        self.upstream = {}
        for line in log.splitlines():
            sha, _, upstream = line.partition(" ")
            self.upstream[upstream.strip()[:12]] = sha

    def sha(self, ref: str) -> str:
        """A clone commit by upstream sha (12 hex digits) or by any git revision."""
        if ref in self.upstream:
            return self.upstream[ref]
        return run_git(self.clone, "rev-parse", "--verify", f"{ref}^{{commit}}").strip()

    def checkout(self, sha: str) -> Path:
        """The tree of ``sha`` in a folder of its own (``git archive``: no .git inside)."""
        dest = self.root / "trees" / sha
        if not dest.exists():
            tmp = self.root / "trees" / f"{sha}.tmp"
            tmp.mkdir(parents=True)
            archive = tmp.with_suffix(".tar")
            run_git(self.clone, "archive", "-o", str(archive), sha)
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
            archive.unlink()
            tmp.rename(dest)
        return dest

    def check(self, ref: str) -> GateRun:
        """``gate check . --kustomize auto`` on a full checkout of ``ref``."""
        sha = self.sha(ref)
        with self._lock:
            cached = self._checks.get(sha)
        if cached is not None:
            return cached
        tree = self.checkout(sha)
        run = run_gate(["check", ".", "--kustomize", "auto"], tree,
                       self.root / "reports" / f"check-{sha}.json")
        with self._lock:
            self._checks[sha] = run
        return run

    def diff(self, base: str, head: str) -> GateRun:
        """``gate diff --base BASE --head HEAD --kustomize auto`` in the clone."""
        key = (self.sha(base), self.sha(head))
        with self._lock:
            cached = self._diffs.get(key)
        if cached is not None:
            return cached
        run = run_gate(["diff", "--base", key[0], "--head", key[1], "--kustomize", "auto"],
                       self.clone, self.root / "reports" / f"diff-{key[0]}-{key[1]}.json")
        with self._lock:
            self._diffs[key] = run
        return run

    def prefetch(self, checks: Iterable[str], diffs: Iterable[tuple[str, str]]) -> None:
        """Run many checks and diffs at once, ``WORKERS`` processes at a time."""
        (self.root / "reports").mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(WORKERS) as pool:
            jobs = [pool.submit(self.check, ref) for ref in checks]
            jobs += [pool.submit(self.diff, base, head) for base, head in diffs]
            for job in jobs:
                job.result()

    # --- synthetic edits -------------------------------------------------------------

    def comment_edits(self, ref: str) -> dict[str, str]:
        """On top of ``ref``, one commit per kustomization folder appending a YAML comment
        to every YAML file that kustomization reads (itself included). Folder -> commit.
        """
        base = self.sha(ref)
        tree = self.checkout(base)
        edits: dict[str, str] = {}
        for folder, files in sorted(overlay_inputs(tree).items()):
            run_git(self.clone, "checkout", "-q", "--detach", base)
            for name in files:
                path = self.clone / name
                text = path.read_text(encoding="utf-8")
                if text and not text.endswith("\n"):
                    text += "\n"
                path.write_text(text + COMMENT, encoding="utf-8")
            run_git(self.clone, "commit", "-q", "-am",
                    f"comment-only edit of the inputs of {folder or '.'}")
            edits[folder] = run_git(self.clone, "rev-parse", "HEAD").strip()
        run_git(self.clone, "checkout", "-q", "--detach", base)
        return edits


KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
YAML_SUFFIXES = (".yaml", ".yml")


def overlay_inputs(tree: Path) -> dict[str, list[str]]:
    """Every kustomization folder under ``tree`` -> the YAML files it reads directly.

    Paths are relative to ``tree`` with ``/``. Files outside the tree, folders
    (other kustomizations, listed on their own) and non-YAML files (a comment there
    would change a generated ConfigMap: not a comment-only edit) are left out.
    """
    found: dict[str, list[str]] = {}
    for dirpath, _dirs, names in os.walk(tree):
        for kname in KUSTOMIZATION_NAMES:
            if kname not in names:
                continue
            folder = Path(dirpath)
            try:
                doc = yaml.safe_load((folder / kname).read_text(encoding="utf-8")) or {}
            except yaml.YAMLError:
                continue
            files = {folder / kname}
            for ref in _file_references(doc if isinstance(doc, dict) else {}):
                target = (folder / ref).resolve()
                if (target.is_file() and target.suffix in YAML_SUFFIXES
                        and target.is_relative_to(tree.resolve())):
                    files.add(target)
            rel = folder.relative_to(tree).as_posix()
            found[rel if rel != "." else ""] = sorted(
                p.resolve().relative_to(tree.resolve()).as_posix() for p in files)
    return found


def _file_references(doc: dict[str, Any]) -> list[str]:
    """The local paths a kustomization names: resources, patches, generators, configs."""
    refs: list[str] = []

    def strings(value: Any) -> list[str]:
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    for key in ("resources", "bases", "components", "crds", "transformers", "generators",
                "validators", "configurations", "patchesStrategicMerge"):
        refs += strings(doc.get(key))
    for key in ("patches", "patchesJson6902", "replacements"):
        for entry in doc.get(key) or []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                refs.append(entry["path"])
    for key in ("configMapGenerator", "secretGenerator"):
        for entry in doc.get(key) or []:
            if isinstance(entry, dict):
                refs += [f.split("=", 1)[-1] for f in strings(entry.get("files"))]
                refs += strings(entry.get("envs"))
                if isinstance(entry.get("env"), str):
                    refs.append(entry["env"])
    openapi = doc.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        refs.append(openapi["path"])
    for chart in doc.get("helmCharts") or []:
        if isinstance(chart, dict) and isinstance(chart.get("valuesFile"), str):
            refs.append(chart["valuesFile"])
    return [r for r in refs if "://" not in r and not r.startswith("github.com/")]
