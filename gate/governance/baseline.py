"""Baseline: the findings of a repository with debt, recorded so that only new ones block.

``gate check --create-baseline FILE`` writes every ``fail`` and ``warn`` finding of the
run to FILE, one entry each, with an expiry date; ``gate check --baseline FILE`` gives a
finding an active entry records the status ``baselined`` (reported like a waived one:
listed, never blocking). Entries are exemptions as waivers are (gate/governance/waivers.py): one
that expired covers nothing and the finding says so, one that matched nothing in a
whole-repository check is stale, and the audit section lists what became of each.

An entry names a finding as the ratchet of ``gate diff`` does (gate/governance/ratchet.py), never
by line, which moves: the policy; the resource (kind, namespace, name; a generated
ConfigMap's or Secret's without its content hash), its environment and the overlay or
chart that rendered it; the file where the offending value is set; and the field, or,
for a finding without one, a fingerprint (sha256) of its message.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gate.errors import ConfigError
from gate.governance.waivers import (
    Expiring,
    apply_exemptions,
    check_policies,
    parse_expires,
    single_document,
    validate,
)
from gate.results import (
    BASELINED,
    FAIL,
    WARN,
    BaselineRecord,
    BaselineUse,
    Result,
    WaiverRef,
    stable_name,
)

SCHEMA = "baseline.schema.json"
FORMAT_VERSION = 1
RECORDED = (FAIL, WARN)  # the findings a baseline records
DEFAULT_DAYS = 90  # entries written without --baseline-expires apply this many days
FINGERPRINT_PREFIX = "sha256:"
FINGERPRINT_DIGITS = 16  # hex digits of the message's sha256 an entry keeps
#: The keys of an entry that identify its finding, in the order the file lists them.
IDENTITY = ("policy", "kind", "namespace", "name", "environment", "rendered_by", "file",
            "field", "message")

Key = tuple[str, ...]


def message_fingerprint(message: str) -> str:
    digest = hashlib.sha256(message.encode("utf-8", "surrogatepass")).hexdigest()
    return FINGERPRINT_PREFIX + digest[:FINGERPRINT_DIGITS]


def identity(result: Result) -> dict[str, str]:
    """The finding as an entry names it (keys of ``IDENTITY``, empty ones left out)."""
    resource = result.resource
    found = {
        "policy": result.policy.id,
        "kind": resource.kind,
        "namespace": resource.namespace,
        "name": stable_name(resource.kind, resource.name, bool(resource.rendered_by)),
        "environment": resource.environment,
        "rendered_by": resource.rendered_by,
        "file": result.location_file,
        # The field identifies the finding, however its message (the offending value)
        # changes: a bumped image tag does not make the debt new. Only without a field
        # does the message tell two findings of one resource apart.
        "field": result.field or "",
        "message": "" if result.field else message_fingerprint(result.message),
    }
    return {key: value for key, value in found.items() if value}


def _key(found: dict[str, str]) -> Key:
    return tuple(found.get(name, "") for name in IDENTITY)


@dataclass(frozen=True)
class BaselineEntry(Expiring):
    """One entry of a baseline file: a finding, and the last day it may stand."""

    key: Key  # the values of IDENTITY
    expires: date
    file: str  # the baseline file, as reports name it
    line: int
    policy_line: int | None = field(default=None, compare=False)

    @property
    def policy(self) -> str:
        return self.key[0]

    def matches(self, result: Result) -> bool:
        return _key(identity(result)) == self.key

    def ref(self) -> WaiverRef:
        return WaiverRef(self.source, "recorded in the baseline", None, None,
                         self.expires.isoformat())

    def use(self, state: str, matched: int) -> BaselineUse:
        return BaselineUse(self.source, self.policy, self.expires.isoformat(), state, matched)


# -- loading -----------------------------------------------------------------------------


def load_baseline(path: str) -> list[BaselineEntry]:
    """Read and validate a baseline file (on disk); a ConfigError naming its file and
    line if it is malformed."""
    from gate.rulesource import disk, read_settings

    files = disk()
    name = files.name(path)
    located = read_settings(path, name, "baseline file", files)
    document = single_document(located, name, "a baseline file")
    if document is None:
        raise ConfigError("the baseline file is empty; write one with "
                          "gate check --create-baseline FILE", name, 1)
    _check_identity(document.data, lambda index: located.line(
        document.index, ("findings", index)), name)
    validate(document, located, name, SCHEMA,
             "a baseline file is a mapping with 'version' and a 'findings' list")
    entries = []
    for index, entry in enumerate(document.data.get("findings") or []):
        def line(*key: str, index: int = index) -> int | None:
            return located.line(document.index, ("findings", index, *key))

        entries.append(BaselineEntry(
            key=_key(entry),
            expires=parse_expires(entry["expires"], f"findings[{index}].expires",
                                  line("expires"), name, "baseline entry"),
            file=name, line=line() or 1, policy_line=line("policy")))
    return entries


def _check_identity(data: Any, line_of: Callable[[int], int | None], name: str) -> None:
    """An entry names its finding by ``field`` or, without one, by ``message``: said in
    words before the schema, whose ``oneOf`` would only say "not valid"."""
    entries = data.get("findings") if isinstance(data, dict) else None
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            continue
        given = [key for key in ("field", "message") if key in entry]
        if len(given) != 1:
            problem = ("gives both 'field' and 'message'" if given
                       else "gives neither 'field' nor 'message'")
            raise ConfigError(f"findings[{index}] {problem}: an entry "
                              "names its finding by the field, or by the fingerprint of the "
                              "message of a finding without one", name, line_of(index))


# -- applying ----------------------------------------------------------------------------


def apply_baseline(results: list[Result], entries: list[BaselineEntry], today: date,
                   name: str, *, complete: bool) -> tuple[list[Result], BaselineRecord]:
    """Results with the findings an active entry records baselined, and what became of
    each entry (``complete``: a whole-repository check, so an unmatched entry is stale)."""

    by_key: dict[Key, list[int]] = {}
    for index, entry in enumerate(entries):
        by_key.setdefault(entry.key, []).append(index)

    def candidates(result: Result) -> list[int]:
        return by_key.get(_key(identity(result)), [])

    out, uses = apply_exemptions(results, entries, today, complete=complete,
                                 status=BASELINED, noun="baseline entry",
                                 candidates=candidates)
    return out, BaselineRecord(name, uses)


# -- writing -----------------------------------------------------------------------------


def baseline_text(results: Iterable[Result], created: date, expires: date) -> tuple[str, int]:
    """A baseline file recording the fail and warn findings of ``results``, one entry per
    distinct finding, sorted; and how many entries it holds."""
    import yaml

    found = {_key(identity(result)): identity(result) for result in results
             if result.status in RECORDED}
    findings: list[dict[str, Any]] = [
        {**found[key], "expires": expires.isoformat()} for key in sorted(found)
    ]
    document = {"version": FORMAT_VERSION, "created": created.isoformat(),
                "findings": findings}
    header = (
        "# gate baseline: findings recorded as existing debt. `gate check --baseline FILE`\n"
        "# reports each as baselined (not blocking) until its entry expires; a new finding\n"
        "# still blocks. Written by `gate check --create-baseline`. An entry names a\n"
        "# finding by policy, resource, environment, overlay, file and field (or, without\n"
        "# a field, a sha256 of its message), never by line.\n"
    )
    body = yaml.safe_dump(document, sort_keys=False, default_flow_style=False,
                          allow_unicode=False, width=1_000_000)
    return header + body, len(findings)


# -- the command line (gate check) ---------------------------------------------------------


def expiry(text: str | None, today: date) -> date:
    """The last day new entries apply: ``--baseline-expires``, else ``DEFAULT_DAYS`` on."""
    from datetime import timedelta

    if text is None:
        return today + timedelta(days=DEFAULT_DAYS)
    try:
        chosen = date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--baseline-expires: {text!r} is not a calendar date "
                          "(YYYY-MM-DD, the last day the entries apply)") from None
    if chosen < today:
        raise ConfigError(f"--baseline-expires: {text} is before the evaluation date "
                          f"{today.isoformat()}: the entries would never apply")
    return chosen


def write_baseline(path: str, results: Iterable[Result], today: date, expires: date) -> int:
    """Write a baseline of ``results`` to ``path`` (never through a link); how many
    findings it records."""
    from gate import safewrite

    text, count = baseline_text(results, today, expires)
    safewrite.write_file(path, [text], what="cannot write baseline")
    return count


def use_baseline(path: str, results: list[Result], today: date, known: set[str], *,
                 complete: bool) -> tuple[list[Result], BaselineRecord, tuple[str, str]]:
    """``gate check --baseline FILE``: the results with FILE applied, what became of its
    entries, and (name, sha256) of the file for the audit's fingerprint."""
    from gate.rulesource import disk

    entries = load_baseline(path)
    check_policies(entries, known, "baseline entry")
    files = disk()
    name = files.name(path)
    try:
        digest = hashlib.sha256(files.read_bytes(path)).hexdigest()
    except OSError:
        digest = "unreadable"
    results, record = apply_baseline(results, entries, today, name, complete=complete)
    return results, record, (name, digest)
