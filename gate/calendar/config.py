"""Release calendar: allow/deny windows and freezes, decided at merge time.

A calendar holds cron-scheduled **windows** (Argo CD ``syncWindows`` semantics: ``allow``
or ``deny``, a 5-field cron ``schedule``, a ``duration``, an IANA ``timeZone``) and dated
**freezes**. :meth:`Calendar.decide` says whether a change to one environment may merge
at a given instant, and why. The caller passes the instant: nothing here reads the clock.

Schedules are evaluated on the wall clock of the window's zone; a wall-clock time the
clocks skip (spring forward) is moved forward by the length of the gap, a repeated
wall-clock time (fall back) starts once, at its first occurrence; durations are elapsed
time. docs/release-windows.md has the rules and the comparison with Argo CD.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterError

from gate.errors import ConfigError
from gate.globs import match_name
from gate.limits import (
    MAX_CRON_STEPS,
    MAX_FREEZES,
    MAX_WINDOW_DURATION,
    MAX_WINDOWS,
    instant_problem,
)

__all__ = [
    "Calendar", "Decision", "Freeze", "Period", "Window", "parse_calendar", "parse_duration",
]

#: ``line_of(*path)``: the line of a config field, path from the document root.
LineOf = Callable[..., "int | None"]

KINDS = ("allow", "deny")
CALENDAR_KEYS = ("windows", "freezes")
WINDOW_KEYS = ("name", "kind", "schedule", "duration", "timeZone", "environments",
               "description", "allow_rollback")
FREEZE_KEYS = ("name", "start", "end", "reason", "environments", "allow_rollback")
MAX_TEXT = 255
NAME_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
         "h": 3600.0, "d": 86400.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)")
_CRON_NAMES = re.compile(r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
                         r"|sun|mon|tue|wed|thu|fri|sat")
#: Widest gap between a wall-clock time and its instant we search around (DST shifts).
_MARGIN = timedelta(hours=3)
_MINUTE = timedelta(minutes=1)
_MAX_STEPS = 5000
_MAX_HOPS = 50
_MAX_EXTENSIONS = 50
#: next_open looks this far ahead (and at most _MAX_HOPS changes of state), then gives up.
HORIZON = timedelta(days=3 * 366)
_UTC = timezone.utc


# -- the cost of a decision ---------------------------------------------------------------


class _Budget:
    """Cron matches a decision may still enumerate; a window found costly is blamed."""

    def __init__(self, steps: int, file: str | None) -> None:
        self.left = steps
        self.file = file


_BUDGET: ContextVar[_Budget | None] = ContextVar("gate_calendar_budget", default=None)


def _spend(window: Window) -> None:
    budget = _BUDGET.get()
    if budget is None:
        return
    budget.left -= 1
    if budget.left < 0:
        raise ConfigError(
            f"calendar: deciding whether a change may merge takes more than "
            f"{MAX_CRON_STEPS:,} cron matches (window {window.name!r}, schedule "
            f"{window.schedule!r}, duration {window.duration}); use fewer or coarser windows",
            budget.file, window.line,
        )


# -- model ----------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(_UTC)


def _applies(environments: tuple[str, ...] | None, environment: str) -> bool:
    return environments is None or any(match_name(glob, environment) for glob in environments)


@dataclass(frozen=True)
class Window:
    """A cron-scheduled allow or deny window (Argo CD sync-window semantics)."""

    name: str
    kind: str
    schedule: str
    duration: timedelta
    time_zone: str = "UTC"
    environments: tuple[str, ...] | None = None
    description: str | None = None
    line: int | None = None
    # A recognised rollback may merge while this window keeps the environment closed
    # (a deny window active, an allow window shut).
    allow_rollback: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def applies_to(self, environment: str) -> bool:
        return _applies(self.environments, environment)

    def latest_start(self, at: datetime) -> datetime | None:
        """The latest start at or before ``at`` (UTC), or None."""
        zone = self.zone
        local = _utc(at).astimezone(zone).replace(tzinfo=None)
        steps = croniter(self.schedule, local + _margin(zone, at, _MINUTE))
        best: datetime | None = None
        stop: datetime | None = None
        for _ in range(_MAX_STEPS):
            _spend(self)
            naive = steps.get_prev(datetime)
            instant = _instant(naive, zone)
            if instant <= at and (best is None or instant > best):
                best = instant
                stop = stop or naive - _margin(zone, instant, timedelta(0))
            if stop is not None and naive < stop:
                break
        return best

    def next_start(self, after: datetime) -> datetime | None:
        """The first start strictly after ``after``, in the window's zone, or None."""
        zone = self.zone
        local = _utc(after).astimezone(zone).replace(tzinfo=None)
        steps = croniter(self.schedule, local - _margin(zone, after, timedelta(0)))
        best: datetime | None = None
        stop: datetime | None = None
        for _ in range(_MAX_STEPS):
            _spend(self)
            naive = steps.get_next(datetime)
            instant = _instant(naive, zone)
            if instant > after and (best is None or instant < best):
                best = instant
                stop = stop or naive + _margin(zone, instant, timedelta(0))
            if stop is not None and naive > stop:
                break
        return best.astimezone(zone) if best is not None else None

    def active_period(self, now: datetime) -> Period | None:
        """The occurrence in effect at ``now`` (start <= now < end), or None.

        ``end`` is when the window really closes: overlapping or back-to-back occurrences
        extend it, searched up to _MAX_EXTENSIONS occurrences ahead (then ``at_least``).
        """
        start = self.latest_start(now)
        if start is None or now >= start + self.duration:
            return None
        end = start + self.duration
        for _ in range(_MAX_EXTENSIONS):
            later = self.latest_start(end)
            if later is None or later + self.duration <= end:
                return Period(self, start.astimezone(self.zone), end.astimezone(self.zone))
            end = later + self.duration
        return Period(self, start.astimezone(self.zone), end.astimezone(self.zone), True)


@dataclass(frozen=True)
class Freeze:
    """A dated change freeze: active for ``start <= now < end``."""

    name: str
    start: datetime
    end: datetime
    reason: str | None = None
    environments: tuple[str, ...] | None = None
    line: int | None = None
    allow_rollback: bool = False  # a recognised rollback may merge during the freeze

    @property
    def kind(self) -> str:
        return "freeze"

    def applies_to(self, environment: str) -> bool:
        return _applies(self.environments, environment)

    def active_period(self, now: datetime) -> Period | None:
        return Period(self, self.start, self.end) if self.start <= now < self.end else None


Rule = Window | Freeze


@dataclass(frozen=True)
class Period:
    """A window occurrence or a freeze in effect: ``start <= now < end``.

    Times are in the rule's own zone (a window's ``timeZone``, a freeze's offset).
    """

    rule: Rule
    start: datetime
    end: datetime
    #: True when the end is only a lower bound (occurrences keep following on).
    at_least: bool = False

    def describe(self) -> str:
        rule = self.rule
        until = ("at least " if self.at_least else "") + self.end.isoformat()
        if isinstance(rule, Freeze):
            text = f"freeze {rule.name!r} is in effect until {until}"
            return f"{text} ({rule.reason})" if rule.reason else text
        text = f"{rule.kind} window {rule.name!r} is {'open' if rule.kind == 'allow' else 'active'}"
        return f"{text} until {until}"


@dataclass(frozen=True)
class Decision:
    """Whether a change may merge now, and why."""

    allowed: bool
    reason: str
    blocking: tuple[Period, ...] = ()
    active_allow: tuple[Period, ...] = ()
    next_open: datetime | None = None
    # What keeps the environment closed: the active freezes and deny windows, else the
    # shut allow windows that apply; empty when the change may merge.
    closed_by: tuple[Rule, ...] = ()

    @property
    def allow_rollback(self) -> bool:
        """Whether a recognised rollback may merge anyway: every rule keeping the
        environment closed has ``allow_rollback: true``."""
        return not self.allowed and bool(self.closed_by) and all(
            rule.allow_rollback for rule in self.closed_by)


@dataclass(frozen=True)
class Calendar:
    """Release windows and freezes; :meth:`decide` applies them to one environment."""

    windows: tuple[Window, ...] = ()
    freezes: tuple[Freeze, ...] = ()
    file: str | None = None

    def decide(self, environment: str, now: datetime) -> Decision:
        """The decision for ``environment`` at ``now`` (timezone-aware).

        Raises ConfigError naming the calendar when it takes more than MAX_CRON_STEPS cron
        matches (gate/limits.py): the search of a hostile calendar is bounded.
        """
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be a timezone-aware datetime")
        token = _BUDGET.set(_Budget(MAX_CRON_STEPS, self.file))
        try:
            return self._decide(environment, now)
        finally:
            _BUDGET.reset(token)

    def _decide(self, environment: str, now: datetime) -> Decision:
        windows = [w for w in self.windows if w.applies_to(environment)]
        freezes = [f for f in self.freezes if f.applies_to(environment)]
        blocking, allows = _state(windows, freezes, now)
        has_allow = any(w.kind == "allow" for w in windows)
        if blocking:
            opens = _next_open(windows, freezes, now)
            reason = "; ".join(p.describe() for p in blocking)
            return Decision(False, _with_next(reason, opens), blocking, allows, opens,
                            tuple(p.rule for p in blocking))
        if allows:
            return Decision(True, "; ".join(p.describe() for p in allows), (), allows)
        if has_allow:
            return _closed(windows, freezes, now)
        if windows or freezes:
            return Decision(True, f"no deny window or freeze is active for environment "
                                  f"{environment!r} and no allow window applies to it")
        return Decision(True, f"no release window or freeze applies to environment "
                              f"{environment!r}")


def _margin(zone: ZoneInfo, moment: datetime, otherwise: timedelta) -> timedelta:
    """How far wall-clock order and instant order may disagree around ``moment``: the
    search margin near a change of UTC offset (DST), else ``otherwise``."""
    before = (_utc(moment) - _MARGIN).astimezone(zone).utcoffset()
    after = (_utc(moment) + _MARGIN).astimezone(zone).utcoffset()
    return _MARGIN if before != after else otherwise


def _instant(naive: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone`` as a UTC instant (fold=0: a skipped time moves forward
    by the gap, a repeated time is its first occurrence)."""
    return naive.replace(tzinfo=zone, fold=0).astimezone(_UTC)


def _state(windows: Sequence[Window], freezes: Sequence[Freeze],
           now: datetime) -> tuple[tuple[Period, ...], tuple[Period, ...]]:
    """(active freezes and deny windows, active allow windows) at ``now``."""
    frozen = [p for f in freezes if (p := f.active_period(now)) is not None]
    active = [p for w in windows if (p := w.active_period(now)) is not None]
    denies = [p for p in active if p.rule.kind == "deny"]
    allows = tuple(p for p in active if p.rule.kind == "allow")
    return (*frozen, *denies), allows


def _next_open(windows: Sequence[Window], freezes: Sequence[Freeze],
               now: datetime) -> datetime | None:
    """The first instant at or after ``now`` at which a change may merge, or None."""
    allow_windows = [w for w in windows if w.kind == "allow"]
    moment = now
    for _ in range(_MAX_HOPS):
        if _utc(moment) - _utc(now) > HORIZON:
            return None
        blocking, allows = _state(windows, freezes, moment)
        if blocking:
            moment = max(blocking, key=lambda p: _utc(p.end)).end
        elif allow_windows and not allows:
            found = _earliest(w.next_start(moment) for w in allow_windows)
            if found is None:
                return None
            moment = found
        else:
            return moment
    return None


def _earliest(moments: Iterable[datetime | None]) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present, key=_utc) if present else None


def _closed(windows: Sequence[Window], freezes: Sequence[Freeze], now: datetime) -> Decision:
    """Blocked because allow windows apply and none is open."""
    starts = [(s, w) for w in windows if w.kind == "allow" and (s := w.next_start(now)) is not None]
    opens = _next_open(windows, freezes, now)
    shut = tuple(w for w in windows if w.kind == "allow")
    if not starts:
        return Decision(False, "no allow window is open and none opens again", (), (), opens,
                        shut)
    start, window = min(starts, key=lambda pair: _utc(pair[0]))
    reason = f"no allow window is open; the next one, {window.name!r}, opens at " \
             f"{start.isoformat()}"
    if opens is not None and opens != start:
        reason += f"; changes can merge again at {opens.isoformat()}"
    return Decision(False, reason, (), (), opens, shut)


def _with_next(reason: str, opens: datetime | None) -> str:
    if opens is None:
        return f"{reason}; no opening found within the search limit"
    return f"{reason}; changes can merge again at {opens.isoformat()}"


# -- configuration --------------------------------------------------------------------------


class _Problem(Exception):
    """A config mistake at a path under the calendar (``key``: blame that key's line)."""

    def __init__(self, message: str, *where: str | int) -> None:
        super().__init__(message)
        self.message = message
        self.where = where


def parse_calendar(data: Any, file: str | None, line_of: LineOf,
                   prefix: Sequence[str | int] = ()) -> Calendar:
    """Validate a calendar mapping (``windows``, ``freezes``).

    ``prefix`` is the path of the mapping in its document (``("calendar",)`` when it is
    the ``calendar`` key of ``.gate.yaml``); ``line_of`` takes paths from the document
    root. Raises ConfigError naming ``file`` and the line of the offending field.
    """
    def located(*path: str | int) -> int | None:
        return line_of(*prefix, *path)

    try:
        return _parse(data, file, located)
    except _Problem as problem:
        where = (*prefix, *problem.where)
        label = _describe(where)
        message = f"{label}: {problem.message}" if label else problem.message
        raise ConfigError(message, file, line_of(*where)) from None


def _describe(where: Sequence[str | int]) -> str:
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "empty"}
    return names.get(type(value), type(value).__name__)


def _parse(data: Any, file: str | None, line_of: LineOf) -> Calendar:
    if data is None:
        return Calendar(file=file)
    if not isinstance(data, dict):
        raise _Problem(f"must be a mapping with 'windows' and 'freezes', not {_kind(data)}")
    for key in data:
        if key not in CALENDAR_KEYS:
            raise _Problem(f"unknown key {key!r} (known: {', '.join(CALENDAR_KEYS)})", key)
    windows = tuple(_parse_window(entry, index, line_of)
                    for index, entry in _entries(data, "windows"))
    freezes = tuple(_parse_freeze(entry, index, line_of)
                    for index, entry in _entries(data, "freezes"))
    _check_unique([(w.name, ("windows", i)) for i, w in enumerate(windows)]
                  + [(f.name, ("freezes", i)) for i, f in enumerate(freezes)], line_of)
    return Calendar(windows, freezes, file)


def _entries(data: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Problem(f"must be a list, not {_kind(value)}", key)
    most = MAX_WINDOWS if key == "windows" else MAX_FREEZES
    if len(value) > most:
        raise _Problem(f"more than {most:,} {key} (gate's limit); merge some", key)
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise _Problem(f"an entry is a mapping, not {_kind(entry)}", key, index)
    return list(enumerate(value))


def _check_unique(names: list[tuple[str, tuple[str, int]]], line_of: LineOf) -> None:
    seen: dict[str, tuple[str, int]] = {}
    for name, where in names:
        if name in seen:
            first = seen[name]
            line = line_of(*first, "name")
            at = f" (line {line})" if line is not None else ""
            raise _Problem(f"duplicate name {name!r}: already used by "
                           f"{_describe(first)}{at}", *where, "name")
        seen[name] = where


def _check_keys(entry: dict[str, Any], known: Sequence[str], *where: str | int) -> None:
    for name in entry:
        if name not in known:
            raise _Problem(f"unknown key {name!r} (known: {', '.join(known)})", *where, name)


def _require(entry: dict[str, Any], required: Sequence[str], *where: str | int) -> None:
    missing = [key for key in required if key not in entry]
    if missing:
        raise _Problem(f"missing {', '.join(repr(key) for key in missing)}", *where)


def _parse_window(entry: dict[str, Any], index: int, line_of: LineOf) -> Window:
    where = ("windows", index)
    _check_keys(entry, WINDOW_KEYS, *where)
    _require(entry, ("name", "kind", "schedule", "duration"), *where)
    kind = entry["kind"]
    if kind not in KINDS:
        raise _Problem(f"kind must be 'allow' or 'deny' (exact, lower case), not {kind!r}",
                       *where, "kind")
    zone = _parse_zone(entry.get("timeZone", "UTC"), *where, "timeZone")
    schedule = _parse_schedule(entry["schedule"], *where, "schedule")
    return Window(
        name=_parse_name(entry["name"], *where, "name"),
        kind=kind,
        schedule=schedule,
        duration=_duration(entry["duration"], *where, "duration"),
        time_zone=zone,
        environments=_parse_globs(entry, *where),
        description=_parse_text(entry.get("description"), *where, "description"),
        line=line_of(*where),
        allow_rollback=_parse_flag(entry, "allow_rollback", *where),
    )


def _parse_freeze(entry: dict[str, Any], index: int, line_of: LineOf) -> Freeze:
    where = ("freezes", index)
    _check_keys(entry, FREEZE_KEYS, *where)
    _require(entry, ("name", "start", "end"), *where)
    start = _parse_time(entry["start"], *where, "start")
    end = _parse_time(entry["end"], *where, "end")
    if end <= start:
        raise _Problem(f"end {end.isoformat()} must be after start {start.isoformat()}",
                       *where, "end")
    return Freeze(
        name=_parse_name(entry["name"], *where, "name"),
        start=start,
        end=end,
        reason=_parse_text(entry.get("reason"), *where, "reason"),
        environments=_parse_globs(entry, *where),
        line=line_of(*where),
        allow_rollback=_parse_flag(entry, "allow_rollback", *where),
    )


def _parse_flag(entry: dict[str, Any], key: str, *where: str | int) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise _Problem(f"must be true or false, not {_kind(value)}", *where, key)
    return value


def _parse_name(value: Any, *where: str | int) -> str:
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise _Problem(f"{value!r} is not a valid name: up to 63 letters, digits, '.', '_' "
                       "and '-', starting and ending with a letter or digit", *where)
    return value


def _parse_text(value: Any, *where: str | int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Problem(f"must be a string, not {_kind(value)}", *where)
    if len(value) > MAX_TEXT:
        raise _Problem(f"is {len(value)} characters long; the limit is {MAX_TEXT}", *where)
    return value


def _parse_globs(entry: dict[str, Any], *where: str | int) -> tuple[str, ...] | None:
    if "environments" not in entry:
        return None
    value = entry["environments"]
    if not isinstance(value, list) or not value:
        raise _Problem("must be a non-empty list of environment globs (omit it for every "
                       "environment)", *where, "environments")
    for position, glob in enumerate(value):
        if not isinstance(glob, str) or not glob.strip() or glob != glob.strip():
            raise _Problem(f"{glob!r} is not an environment glob: a non-empty string "
                           "without surrounding spaces", *where, "environments", position)
    return tuple(value)


def _parse_zone(value: Any, *where: str | int) -> str:
    if not isinstance(value, str) or not value:
        raise _Problem(f"must be an IANA time zone name such as 'Europe/Rome', not "
                       f"{_kind(value)}", *where)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _Problem(f"unknown time zone {value!r}: use an IANA name such as "
                       "'Europe/Rome' or 'UTC'", *where) from None
    return value


def _parse_schedule(value: Any, *where: str | int) -> str:
    if not isinstance(value, str):
        raise _Problem(f"must be a cron expression string, not {_kind(value)}", *where)
    problem = cron_problem(value)
    if problem is not None:
        raise _Problem(problem, *where)
    return " ".join(value.split())


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not a 5-field cron schedule Argo CD accepts, or None."""
    fields = expression.split()
    if len(fields) != 5 or "@" in expression:
        return (f"{expression!r} is not a 5-field cron schedule (minute hour day-of-month "
                "month day-of-week; no seconds, no @daily)")
    if re.search(r"[lw#]", _CRON_NAMES.sub("", expression.lower())):
        return f"{expression!r}: L, W and # are not standard cron (Argo CD rejects them)"
    try:
        croniter(expression, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterError as error:
        return f"{expression!r} is not a valid cron schedule: {error}"
    except (ValueError, KeyError, TypeError) as error:
        return f"{expression!r} is not a valid cron schedule: {error}"
    return None


def parse_duration(text: str) -> timedelta:
    """A Go ``time.ParseDuration`` string (``90m``, ``1h30m``) or days (``3d``), positive.

    Raises ValueError.
    """
    position = 0
    seconds = 0.0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            break
        seconds += float(match.group(1)) * _UNIT[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ValueError(f"{text!r} is not a duration such as 90m, 1h30m, 8h or 3d")
    if seconds <= 0:
        raise ValueError(f"{text!r}: a duration must be positive")
    if seconds > MAX_WINDOW_DURATION.total_seconds():
        raise ValueError(f"{text!r} is longer than {MAX_WINDOW_DURATION.days} days (gate's "
                         "limit for a window); use a freeze")
    return timedelta(seconds=seconds)


def _duration(value: Any, *where: str | int) -> timedelta:
    if not isinstance(value, str):
        raise _Problem(f"must be a duration string with a unit such as '8h', not "
                       f"{_kind(value)}", *where)
    try:
        return parse_duration(value)
    except ValueError as error:
        raise _Problem(str(error), *where) from None


def _parse_time(value: Any, *where: str | int) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        text = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise _Problem(f"{value!r} is not an ISO-8601 date and time such as "
                           "'2026-12-20T00:00:00+01:00'", *where) from None
    else:
        raise _Problem(f"must be an ISO-8601 date and time with an offset, not "
                       f"{_kind(value)}", *where)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _Problem(f"{value!r} has no UTC offset: write it as "
                       "'2026-12-20T00:00:00+01:00' (or Z for UTC)", *where)
    problem = instant_problem(moment)
    if problem is not None:
        raise _Problem(problem, *where)
    return moment
