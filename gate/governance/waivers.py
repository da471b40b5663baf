"""Waivers: approved, expiring exceptions to policies, from a waivers file or an annotation.

A waiver in ``waivers.yaml`` names a policy, selects findings (kinds, namespaces, names,
paths, environments), and says why, under which ticket, who approved it and until when.
A matching finding becomes ``waived``; an expired waiver covers nothing and the report
says so; a waiver that matches nothing in a whole-repository check is stale.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Protocol, TypeVar

from gate.blank import blank
from gate.errors import ConfigError
from gate.loading.globs import match_name, match_path
from gate.loading.yamlio import LocatedYaml, ParsedDocument
from gate.results import (
    ACTIVE,
    EXPIRED,
    FAIL,
    STALE,
    WAIVED,
    WARN,
    ResourceRef,
    Result,
    WaiverRef,
    WaiverUse,
)
from gate.rulesource import RuleSource, disk, read_settings
from gate.schema_validation import schema_error, schema_validator

SELECTORS = ("kinds", "namespaces", "names", "paths", "environments")
WAIVABLE = (FAIL, WARN)
SCHEMA = "waivers.schema.json"
#: Fields someone must have written: not blank to a human eye (see gate.blank).
HUMAN_TEXT = ("reason", "approved_by", "ticket")
BLANK_HINT = ("it holds only whitespace or invisible characters (zero-width, format or "
              "control characters); write it out")


class Expiring:
    """An entry of a file (a waiver, a baseline entry) with a last day it applies: the
    class using it has ``file``, ``line`` and ``expires``."""

    file: str
    line: int
    expires: date

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}"

    def expired(self, today: date) -> bool:
        """Past its last day: ``expires`` is the last day the entry applies."""
        return today > self.expires


@dataclass(frozen=True)
class Waiver(Expiring):
    """One entry of a waivers file; ``line`` is the entry's, ``policy_line`` its policy's."""

    policy: str
    kinds: tuple[str, ...] | None
    namespaces: tuple[str, ...] | None
    names: tuple[str, ...] | None
    paths: tuple[str, ...] | None
    environments: tuple[str, ...] | None
    reason: str
    ticket: str | None
    approved_by: str
    expires: date
    file: str
    line: int
    policy_line: int | None = field(default=None, compare=False)

    def matches(self, result: Result) -> bool:
        """Whether this waiver covers ``result`` (whatever its status or the date)."""
        if result.policy.id != self.policy:
            return False
        resource = result.resource
        if resource.is_change and (self.kinds or self.namespaces or self.names):
            return False
        paths = _paths(result)
        return (
            _any(self.kinds, [resource], _kind_matches)
            and _any(self.namespaces, [resource.namespace], match_name)
            and _any(self.names, [resource.name], match_name)
            and _any(self.environments, [resource.environment], match_name)
            and _any(self.paths, paths, match_path)
        )

    def ref(self) -> WaiverRef:
        return WaiverRef(self.source, self.reason, self.ticket, self.approved_by,
                         self.expires.isoformat())

    def use(self, state: str, matched: int) -> WaiverUse:
        return WaiverUse(self.source, self.policy, self.reason, self.ticket, self.approved_by,
                         self.expires.isoformat(), state, matched)


def _any(patterns: tuple[str, ...] | None, values: list[Any],
         match: Callable[[str, Any], bool]) -> bool:
    """An absent selector matches anything; a present one needs a pattern to match a value."""
    return patterns is None or any(match(p, value) for p in patterns for value in values)


def _paths(result: Result) -> list[str]:
    """The repository paths a ``paths`` glob may name for a result.

    Where the finding was set, the resource's file, and the overlay directory that
    rendered it, also as ``dir/`` so that ``overlays/prod/**`` names ``overlays/prod``.
    """
    resource = result.resource
    paths = [p for p in (result.location_file, resource.file) if p]
    if resource.rendered_by:
        paths += [resource.rendered_by, f"{resource.rendered_by.rstrip('/')}/"]
    return paths


def _kind_matches(pattern: str, resource: ResourceRef) -> bool:
    """As in policy selectors: ``Deployment``, or ``apps/v1/Deployment`` with the API version."""
    kind = resource.kind
    return match_name(pattern, f"{resource.api_version}/{kind}" if "/" in pattern else kind)


# -- loading -----------------------------------------------------------------------------


def load_waivers(path: str, name: str | None = None,
                 source: RuleSource | None = None) -> list[Waiver]:
    """Read and validate a waivers file, a path of ``source`` (the working tree by
    default); ConfigError naming the file and line if bad."""
    files = source or disk()
    name = name or files.name(path)
    located = read_settings(path, name, "waivers file", files)
    document = single_document(located, name, "a waivers file")
    if document is None:
        return []
    _check_blank(document, located, name)
    validate(document, located, name, SCHEMA, "a waivers file is a mapping with a 'waivers' list")
    entries = document.data.get("waivers") or []
    return [_waiver(entry, index, document.index, located, name)
            for index, entry in enumerate(entries)]


def single_document(located: LocatedYaml, name: str, what: str) -> ParsedDocument | None:
    """The file's one non-empty document, or None for an empty file."""
    documents = [d for d in located.documents if d.data is not None]
    if len(documents) > 1:
        raise ConfigError(f"{what} holds one YAML document", name, documents[1].line)
    return documents[0] if documents else None


def _check_blank(document: ParsedDocument, located: LocatedYaml, name: str) -> None:
    """Refuse human-entered text no one can read. Before the schema, whose ``\\S``
    catches only some of it, so that every blank value gets the same message."""
    data = document.data
    entries = data.get("waivers") if isinstance(data, dict) else None
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        for key in HUMAN_TEXT:
            value = entry.get(key) if isinstance(entry, dict) else None
            if isinstance(value, str) and blank(value):
                raise ConfigError(f"waivers[{index}].{key} is blank: {BLANK_HINT}", name,
                                  located.line(document.index, ("waivers", index, key)))


def validate(document: ParsedDocument, located: LocatedYaml, name: str, schema: str,
             shape: str) -> None:
    """The document against a schema of gate/schemas/; ``shape`` says what it must be."""
    data = document.data
    if not isinstance(data, dict):
        raise ConfigError(f"{shape}, not a {type(data).__name__}", name, document.line)
    found = schema_error(schema_validator(schema), data)
    if found is not None:
        path, message = found
        raise ConfigError(message, name, located.line(document.index, path))


def _waiver(entry: dict[str, Any], index: int, doc: int, located: LocatedYaml,
            name: str) -> Waiver:
    def line(*key: str) -> int | None:
        return located.line(doc, ("waivers", index, *key))

    match = entry.get("match") or {}
    selectors = {key: tuple(match[key]) if key in match else None for key in SELECTORS}
    ticket = entry.get("ticket")
    return Waiver(
        policy=entry["policy"],
        reason=entry["reason"].strip(),
        ticket=ticket.strip() if ticket is not None else None,
        approved_by=entry["approved_by"].strip(),
        expires=parse_expires(entry["expires"], f"waivers[{index}].expires", line("expires"),
                              name, "waiver"),
        file=name,
        line=line() or 1,
        policy_line=line("policy"),
        **selectors,
    )


def parse_expires(text: str, where: str, line: int | None, name: str, noun: str) -> date:
    """The schema checked the shape YYYY-MM-DD; this checks the calendar."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a calendar date "
                          f"(YYYY-MM-DD, the last day the {noun} applies)", name, line) from None


class _Entry(Protocol):
    """An entry of a settings file that names a policy."""

    @property
    def policy(self) -> str: ...

    @property
    def file(self) -> str: ...

    @property
    def line(self) -> int: ...

    @property
    def policy_line(self) -> int | None: ...


def check_policies(waivers: Sequence[_Entry], known: set[str], noun: str = "waiver") -> None:
    """A waiver (or baseline entry) for a policy that is not loaded is a mistake, not a
    silent no-op."""
    for waiver in waivers:
        if waiver.policy not in known:
            listed = ", ".join(sorted(known)) or "none loaded"
            raise ConfigError(f"{noun} for unknown policy {waiver.policy!r} (known: {listed})",
                              waiver.file, waiver.policy_line or waiver.line)


# -- applying ----------------------------------------------------------------------------


UseT = TypeVar("UseT", covariant=True)


class Exemption(Protocol[UseT]):
    """An expiring exception to policies: a waiver, or an entry of a baseline
    (gate/governance/baseline.py). ``use`` says what became of it in a run."""

    @property
    def source(self) -> str: ...

    @property
    def expires(self) -> date: ...

    def expired(self, today: date) -> bool: ...

    def matches(self, result: Result) -> bool: ...

    def ref(self) -> WaiverRef: ...

    def use(self, state: str, matched: int) -> UseT: ...


def apply_waivers(
    results: list[Result], waivers: list[Waiver], today: date, *, complete: bool
) -> tuple[list[Result], list[WaiverUse]]:
    """Results with covered findings waived, and what became of each waiver.

    Only ``fail`` and ``warn`` results can be waived; the first active waiver that matches
    (in file order) covers one. A finding only an expired waiver matches keeps its status,
    its message saying which waiver expired; that waiver's ``matched`` counts it.
    ``complete``: the results cover everything the waivers could name (a whole-repository
    check), so an active waiver that matched nothing is reported stale.
    """
    return apply_exemptions(results, waivers, today, complete=complete, status=WAIVED,
                            noun="waiver")


def apply_exemptions(
    results: list[Result], entries: Sequence[Exemption[UseT]], today: date, *,
    complete: bool, status: str, noun: str,
    candidates: Callable[[Result], Iterable[int]] | None = None,
) -> tuple[list[Result], list[UseT]]:
    """:func:`apply_waivers` for any kind of exemption: a covered finding gets ``status``;
    ``noun`` names an entry in the message of a finding whose entry expired.
    ``candidates`` gives, in order, the indices of the entries that may match a result
    (by default all of them), for exemptions looked up by key."""
    is_expired = [entry.expired(today) for entry in entries]
    matched = [0] * len(entries)
    everything = range(len(entries))
    out: list[Result] = []
    for result in results:
        if result.status not in WAIVABLE:
            out.append(result)
            continue
        cover = lapsed = None
        for i in everything if candidates is None else candidates(result):
            if entries[i].matches(result):
                if not is_expired[i]:
                    cover = i
                    break
                if lapsed is None:
                    lapsed = i
        if cover is not None:
            matched[cover] += 1
            out.append(replace(result, status=status, waiver=entries[cover].ref()))
            continue
        if lapsed is not None:
            matched[lapsed] += 1
            entry = entries[lapsed]
            result = replace(result, message=f"{result.message} ({noun} {entry.source} "
                                             f"expired on {entry.expires.isoformat()})")
        out.append(result)
    uses = [entries[i].use(EXPIRED, matched[i]) for i in everything if is_expired[i]]
    for i in everything:
        if is_expired[i]:
            continue
        if matched[i]:
            uses.append(entries[i].use(ACTIVE, matched[i]))
        elif complete:
            uses.append(entries[i].use(STALE, 0))
    return out, uses


# -- inline waivers ----------------------------------------------------------------------
