"""Waivers: approved, expiring exceptions to policies, from a waivers file or an annotation.

A waiver in ``waivers.yaml`` names a policy, selects findings (kinds, namespaces, names,
paths, environments), and says why, under which ticket, who approved it and until when.
A matching finding becomes ``waived``; an expired waiver covers nothing and the report
says so; a waiver that matches nothing in a whole-repository check is stale.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from gate.errors import ConfigError
from gate.globs import match_name, match_path
from gate.results import (
    ACTIVE,
    EXPIRED,
    FAIL,
    STALE,
    WARN,
    Result,
    WaiverRef,
    WaiverUse,
)
from gate.yamlio import LocatedYaml, YamlInputError, read_located

INLINE_PREFIX = "gate.dev/waive."
SELECTORS = ("kinds", "namespaces", "names", "paths", "environments")
WAIVABLE = (FAIL, WARN)


@dataclass(frozen=True)
class Waiver:
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

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}"

    def expired(self, today: date) -> bool:
        """Past its last day: ``expires`` is the last day the waiver applies."""
        return today > self.expires

    def matches(self, result: Result) -> bool:
        if result.policy.id != self.policy:
            return False
        resource = result.resource
        if resource.is_change and (self.kinds or self.namespaces or self.names):
            return False
        checks: list[tuple[tuple[str, ...] | None, list[str], Any]] = [
            (self.kinds, [resource.kind], match_name),
            (self.namespaces, [resource.namespace], match_name),
            (self.names, [resource.name], match_name),
            (self.environments, [resource.environment], match_name),
            (self.paths, [p for p in (result.location_file, resource.file,
                                      resource.rendered_by) if p], match_path),
        ]
        return all(
            patterns is None or any(match(p, value) for p in patterns for value in values)
            for patterns, values, match in checks
        )

    def ref(self) -> WaiverRef:
        return WaiverRef(self.source, self.reason, self.ticket, self.approved_by,
                         self.expires.isoformat())

    def use(self, state: str, matched: int) -> WaiverUse:
        return WaiverUse(self.source, self.policy, self.reason, self.ticket, self.approved_by,
                         self.expires.isoformat(), state, matched)


def load_waivers(path: str, name: str | None = None) -> list[Waiver]:
    """Read and validate a waivers file; ConfigError naming the file and line if bad."""
    from gate.policy import schema_error, schema_validator
    from gate.sources import display_name

    name = name or display_name(path)
    if not os.path.isfile(path):
        raise ConfigError("waivers file not found", name)
    try:
        located = read_located(path, name)
    except YamlInputError as exc:
        raise ConfigError(exc.message, exc.file, exc.line) from None
    documents = [d for d in located.documents if d.data is not None]
    if len(documents) > 1:
        raise ConfigError("a waivers file holds one YAML document", name, documents[1].line)
    if not documents:
        return []
    data = documents[0].data
    if not isinstance(data, dict):
        raise ConfigError(f"a waivers file is a mapping with 'waivers', not a "
                          f"{type(data).__name__}", name, documents[0].line)
    found = schema_error(schema_validator("waivers.schema.json"), data)
    if found is not None:
        raise ConfigError(found[1], name, located.line(0, found[0]))
    return [_waiver(entry, index, located, name)
            for index, entry in enumerate(data.get("waivers") or [])]


def _waiver(entry: dict[str, Any], index: int, located: LocatedYaml, name: str) -> Waiver:
    line = located.line(0, ("waivers", index)) or 1
    try:
        expires = date.fromisoformat(entry["expires"])
    except ValueError:
        raise ConfigError(f"waivers[{index}].expires: not a calendar date: {entry['expires']!r}",
                          name, located.line(0, ("waivers", index, "expires"))) from None
    match = entry.get("match") or {}
    selectors = {key: tuple(match[key]) if key in match else None for key in SELECTORS}
    return Waiver(
        policy=entry["policy"], reason=entry["reason"].strip(), ticket=entry.get("ticket"),
        approved_by=entry["approved_by"].strip(), expires=expires, file=name, line=line,
        **selectors,
    )


def check_policies(waivers: list[Waiver], known: set[str]) -> None:
    """A waiver for a policy that is not loaded is a mistake, not a silent no-op."""
    for waiver in waivers:
        if waiver.policy not in known:
            listed = ", ".join(sorted(known)) or "none loaded"
            raise ConfigError(f"waiver for unknown policy {waiver.policy!r} (known: {listed})",
                              waiver.file, waiver.line)


def apply_waivers(
    results: list[Result], waivers: list[Waiver], today: date, *, complete: bool
) -> tuple[list[Result], list[WaiverUse]]:
    """Results with covered findings waived, and what became of each waiver.

    ``complete``: the results cover everything the waivers could name (a whole-repository
    check), so an active waiver that matched nothing is reported stale.
    """
    active = [w for w in waivers if not w.expired(today)]
    expired = [w for w in waivers if w.expired(today)]
    matched: dict[int, int] = {}
    waived: list[Result] = []
    for result in results:
        if result.status not in WAIVABLE:
            waived.append(result)
            continue
        cover = next((w for w in active if w.matches(result)), None)
        if cover is not None:
            matched[id(cover)] = matched.get(id(cover), 0) + 1
            waived.append(replace(result, status="waived", waiver=cover.ref()))
            continue
        lapsed = next((w for w in expired if w.matches(result)), None)
        if lapsed is not None:
            matched[id(lapsed)] = matched.get(id(lapsed), 0) + 1
            result = replace(result, message=f"{result.message} (waiver {lapsed.source} "
                                             f"expired on {lapsed.expires.isoformat()})")
        waived.append(result)
    uses = [w.use(EXPIRED, matched.get(id(w), 0)) for w in expired]
    for waiver in active:
        count = matched.get(id(waiver), 0)
        if count:
            uses.append(waiver.use(ACTIVE, count))
        elif complete:
            uses.append(waiver.use(STALE, 0))
    return waived, uses


def inline_reason(obj: Any, policy_id: str) -> str | None:
    """The reason an annotation ``gate.dev/waive.<policy-id>`` gives, if any."""
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict):
        return None
    reason = annotations.get(f"{INLINE_PREFIX}{policy_id}")
    if not isinstance(reason, str) or not reason.strip():
        return None
    return reason.strip()
