"""Cron schedules on a time zone's wall clock: when a window starts, as an instant.

A schedule is evaluated on the wall clock of its zone; a wall-clock time the clocks skip
(spring forward) is moved forward by the length of the gap, a repeated wall-clock time
(fall back) starts once, at its first occurrence. Around a change of UTC offset,
wall-clock order and instant order may disagree, so the searches look a margin beyond
the instant asked about. Each cron match a search enumerates is announced to ``step``,
which may stop a costly search (gate/governance/calendar/rules.py keeps the budget).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from croniter import croniter
from croniter.croniter import CroniterError

_CRON_NAMES = re.compile(r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
                         r"|sun|mon|tue|wed|thu|fri|sat")
#: Widest gap between a wall-clock time and its instant we search around (DST shifts).
_MARGIN = timedelta(hours=3)
_MINUTE = timedelta(minutes=1)
_MAX_STEPS = 5000
_UTC = timezone.utc


def utc(moment: datetime) -> datetime:
    return moment.astimezone(_UTC)


def latest_start(schedule: str, zone: ZoneInfo, at: datetime,
                 step: Callable[[], None]) -> datetime | None:
    """The latest start of ``schedule`` in ``zone`` at or before ``at`` (UTC), or None."""
    local = utc(at).astimezone(zone).replace(tzinfo=None)
    steps = croniter(schedule, local + _margin(zone, at, _MINUTE))
    best: datetime | None = None
    stop: datetime | None = None
    for _ in range(_MAX_STEPS):
        step()
        naive = steps.get_prev(datetime)
        instant = _instant(naive, zone)
        if instant <= at and (best is None or instant > best):
            best = instant
            stop = stop or naive - _margin(zone, instant, timedelta(0))
        if stop is not None and naive < stop:
            break
    return best


def next_start(schedule: str, zone: ZoneInfo, after: datetime,
               step: Callable[[], None]) -> datetime | None:
    """The first start of ``schedule`` strictly after ``after``, in ``zone``, or None."""
    local = utc(after).astimezone(zone).replace(tzinfo=None)
    steps = croniter(schedule, local - _margin(zone, after, timedelta(0)))
    best: datetime | None = None
    stop: datetime | None = None
    for _ in range(_MAX_STEPS):
        step()
        naive = steps.get_next(datetime)
        instant = _instant(naive, zone)
        if instant > after and (best is None or instant < best):
            best = instant
            stop = stop or naive + _margin(zone, instant, timedelta(0))
        if stop is not None and naive > stop:
            break
    return best.astimezone(zone) if best is not None else None


def _margin(zone: ZoneInfo, moment: datetime, otherwise: timedelta) -> timedelta:
    """How far wall-clock order and instant order may disagree around ``moment``: the
    search margin near a change of UTC offset (DST), else ``otherwise``."""
    before = (utc(moment) - _MARGIN).astimezone(zone).utcoffset()
    after = (utc(moment) + _MARGIN).astimezone(zone).utcoffset()
    return _MARGIN if before != after else otherwise


def _instant(naive: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone`` as a UTC instant (fold=0: a skipped time moves forward
    by the gap, a repeated time is its first occurrence)."""
    return naive.replace(tzinfo=zone, fold=0).astimezone(_UTC)


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
