"""Release calendar rules: allow/deny windows and freezes, decided at merge time.

A calendar holds cron-scheduled **windows** (Argo CD ``syncWindows`` semantics: ``allow``
or ``deny``, a 5-field cron ``schedule``, a ``duration``, an IANA ``timeZone``) and dated
**freezes**. :meth:`Calendar.decide` says whether a change to one environment may merge
at a given instant, and why. The caller passes the instant: nothing here reads the clock.

Schedules are evaluated on the wall clock of the window's zone (gate/governance/calendar/cron.py);
durations are elapsed time. docs/release-windows.md has the rules and the comparison
with Argo CD.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from gate.errors import ConfigError
from gate.governance.calendar.cron import latest_start, next_start, utc
from gate.limits import MAX_CRON_STEPS
from gate.loading.globs import match_name

__all__ = ["Calendar", "Decision", "Freeze", "Period", "Rule", "Window"]

_MAX_HOPS = 50
_MAX_EXTENSIONS = 50
#: next_open looks this far ahead (and at most _MAX_HOPS changes of state), then gives up.
HORIZON = timedelta(days=3 * 366)


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
        return latest_start(self.schedule, self.zone, at, partial(_spend, self))

    def next_start(self, after: datetime) -> datetime | None:
        """The first start strictly after ``after``, in the window's zone, or None."""
        return next_start(self.schedule, self.zone, after, partial(_spend, self))

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
        if utc(moment) - utc(now) > HORIZON:
            return None
        blocking, allows = _state(windows, freezes, moment)
        if blocking:
            moment = max(blocking, key=lambda p: utc(p.end)).end
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
    return min(present, key=utc) if present else None


def _closed(windows: Sequence[Window], freezes: Sequence[Freeze], now: datetime) -> Decision:
    """Blocked because allow windows apply and none is open."""
    starts = [(s, w) for w in windows if w.kind == "allow" and (s := w.next_start(now)) is not None]
    opens = _next_open(windows, freezes, now)
    shut = tuple(w for w in windows if w.kind == "allow")
    if not starts:
        return Decision(False, "no allow window is open and none opens again", (), (), opens,
                        shut)
    start, window = min(starts, key=lambda pair: utc(pair[0]))
    reason = f"no allow window is open; the next one, {window.name!r}, opens at " \
             f"{start.isoformat()}"
    if opens is not None and opens != start:
        reason += f"; changes can merge again at {opens.isoformat()}"
    return Decision(False, reason, (), (), opens, shut)


def _with_next(reason: str, opens: datetime | None) -> str:
    if opens is None:
        return f"{reason}; no opening found within the search limit"
    return f"{reason}; changes can merge again at {opens.isoformat()}"
