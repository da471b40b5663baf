"""The evaluation time: --now, --at commit, SOURCE_DATE_EPOCH, then the clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gate.clock import CLOCK, HEAD_COMMIT, NOW, SOURCE_DATE_EPOCH, evaluation_time, parse_instant
from gate.errors import ConfigError

UTC = timezone.utc


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-24T18:00:00+01:00", datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
    ("2026-12-24T17:00:00Z", datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
    ("2026-12-24T17:00:00z", datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
    ("2026-12-24T12:30:00-04:30", datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
    (" 2026-12-24T17:00:00.5+00:00 ", datetime(2026, 12, 24, 17, 0, 0, 500000, tzinfo=UTC)),
])
def test_parse_instant(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize(("text", "says"), [
    ("2026-12-24T17:00:00", "no UTC offset"),
    ("2026-12-24", "no UTC offset"),
    ("tomorrow", "not an ISO-8601 date-time"),
    ("2026-13-01T00:00:00Z", "not an ISO-8601 date-time"),
    ("", "not an ISO-8601 date-time"),
])
def test_bad_instants(text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_instant(text)


def test_precedence() -> None:
    head = datetime(2023, 11, 14, 23, 13, 20, tzinfo=timezone(timedelta(hours=1)))
    environ = {"SOURCE_DATE_EPOCH": "1798102800"}
    now = evaluation_time("2027-01-01T00:00:00Z", None, head, environ)
    assert (now.iso(), now.source) == ("2027-01-01T00:00:00Z", NOW)
    at_commit = evaluation_time(None, "commit", head, environ)
    assert (at_commit.iso(), at_commit.source) == ("2023-11-14T22:13:20Z", HEAD_COMMIT)
    epoch = evaluation_time(None, None, head, environ)
    assert (epoch.iso(), epoch.source) == ("2026-12-24T09:00:00Z", SOURCE_DATE_EPOCH)
    clock = evaluation_time(None, "now", head, {})
    assert clock.source == CLOCK
    assert abs(clock.instant - datetime.now(UTC)) < timedelta(minutes=1)


def test_conflicts_and_missing_commit() -> None:
    with pytest.raises(ConfigError, match="alternatives"):
        evaluation_time("2027-01-01T00:00:00Z", "commit", None, {})
    with pytest.raises(ConfigError, match="needs a head commit"):
        evaluation_time(None, "commit", None, {})


@pytest.mark.parametrize("value", ["soon", "1.5", "99999999999999999999"])
def test_bad_source_date_epoch(value: str) -> None:
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH"):
        evaluation_time(None, None, None, {"SOURCE_DATE_EPOCH": value})


def test_empty_source_date_epoch_falls_back_to_the_clock() -> None:
    assert evaluation_time(None, None, None, {"SOURCE_DATE_EPOCH": ""}).source == CLOCK
