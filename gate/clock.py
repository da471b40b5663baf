"""The evaluation time: the one instant a run judges windows, freezes and expiries at.

Nothing else in gate reads the clock. In order of precedence: ``--now ISO-8601``,
``--at commit`` (the head commit's committer time), ``SOURCE_DATE_EPOCH`` (for
reproducible builds), and only then the system clock.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone

from gate.errors import ConfigError
from gate.limits import instant_problem

NOW = "--now"
HEAD_COMMIT = "head commit"
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"
CLOCK = "clock"


@dataclass(frozen=True)
class EvaluationTime:
    instant: datetime  # timezone-aware, UTC
    source: str  # one of NOW, HEAD_COMMIT, SOURCE_DATE_EPOCH, CLOCK

    def iso(self) -> str:
        return self.instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str, what: str = "--now") -> datetime:
    """An ISO-8601 date-time with a UTC offset (``Z`` or ``+01:00``), as UTC.

    A time without an offset is an error, not a silent UTC: the gate must not
    judge a freeze an hour off.
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{what}: not an ISO-8601 date-time: {text!r} "
                          "(e.g. 2026-12-24T18:00:00+01:00)") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigError(f"{what}: {text!r} has no UTC offset; add 'Z' or e.g. '+01:00'")
    return _in_range(moment, what)


def _in_range(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC, or ConfigError when it is outside the instants gate judges at
    (year 1 or 9999 would overflow the arithmetic of windows and expiries)."""
    problem = instant_problem(moment)
    if problem is not None:
        raise ConfigError(f"{what}: {problem}")
    return moment.astimezone(timezone.utc)


def _source_date_epoch(value: str) -> datetime:
    try:
        text = value.strip()
        # int() of thousands of digits is refused by Python itself: a clear error first.
        if len(text) > 20:
            raise ValueError(text)
        moment = datetime.fromtimestamp(int(text), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise ConfigError(f"SOURCE_DATE_EPOCH: not a number of seconds since 1970: "
                          f"{value[:40]!r}") from None
    return _in_range(moment, SOURCE_DATE_EPOCH)


def evaluation_time(
    now: str | None = None,
    at: str | None = None,
    head_commit_time: datetime | None = None,
    environ: dict[str, str] | None = None,
) -> EvaluationTime:
    """The instant to judge at; ``at`` is ``"commit"`` or ``"now"`` (or None)."""
    if now is not None and at == "commit":
        raise ConfigError("--now and --at commit are alternatives: give one")
    if now is not None:
        return EvaluationTime(parse_instant(now), NOW)
    if at == "commit":
        if head_commit_time is None:
            raise ConfigError("--at commit needs a head commit: use it with gate diff --base")
        return EvaluationTime(_in_range(head_commit_time, "--at commit: the head commit's time"),
                              HEAD_COMMIT)
    env = os.environ if environ is None else environ
    epoch = env.get("SOURCE_DATE_EPOCH")
    if epoch:
        return EvaluationTime(_source_date_epoch(epoch), SOURCE_DATE_EPOCH)
    return EvaluationTime(datetime.now(timezone.utc).replace(microsecond=0), CLOCK)
