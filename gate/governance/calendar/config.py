"""The release calendar's configuration: the ``calendar`` key of ``.gate.yaml``, checked.

:func:`parse_calendar` turns the mapping (``windows``, ``freezes``) into a
:class:`~gate.governance.calendar.rules.Calendar`, failing closed: every mistake is a ConfigError
naming the file and the line of the offending field. docs/release-windows.md has the
keys.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gate.errors import ConfigError
from gate.governance.calendar.cron import cron_problem
from gate.governance.calendar.rules import Calendar, Freeze, Window
from gate.limits import MAX_FREEZES, MAX_WINDOW_DURATION, MAX_WINDOWS, instant_problem

__all__ = ["parse_calendar", "parse_duration"]

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
