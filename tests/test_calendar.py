"""Release calendar: windows, freezes, time zones, DST, next-open and config errors."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from textwrap import dedent
from zoneinfo import ZoneInfo

import pytest

from gate.errors import ConfigError
from gate.governance.calendar.config import parse_calendar, parse_duration
from gate.governance.calendar.rules import Calendar, Decision, Window
from gate.loading.yamlio import load_located

CONFIG = ".gate.yaml"
ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")
UTC = timezone.utc


def parse(text: str) -> Calendar:
    """The ``calendar`` key of a config file's text, with real lines for errors."""
    located = load_located(dedent(text).lstrip("\n"), CONFIG)
    data = located.documents[0].data or {}
    return parse_calendar(data.get("calendar"), CONFIG,
                          lambda *path: located.line(0, path), prefix=("calendar",))


CALENDAR = parse("""
    calendar:
      windows:
        - name: weekday-releases
          kind: allow
          schedule: "0 9 * * 1-4"
          duration: 8h
          timeZone: Europe/Rome
          environments: [prod]
        - name: late-releases
          kind: allow
          schedule: "0 15 * * 1-4"
          duration: 4h
          timeZone: Europe/Rome
          environments: [prod]
        - name: lunch
          kind: deny
          schedule: "0 12 * * *"
          duration: 1h
          timeZone: Europe/Rome
          environments: ["prod*"]
        - name: weekend
          kind: deny
          schedule: "0 18 * * 5"
          duration: 3d
          timeZone: Europe/Rome
          environments: [staging]
      freezes:
        - name: year-end
          start: 2026-12-20T00:00:00+01:00
          end: 2027-01-06T00:00:00+01:00
          reason: Year-end change freeze
          environments: [prod, staging]
""")


def rome(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME)


# 2026-06-08 is a Monday; June in Rome is +02:00.
DECISIONS = [
    # (id, environment, now, allowed, reason fragment, next_open)
    ("at-allow-start", "prod", rome(6, 8, 9), True,
     "allow window 'weekday-releases' is open until 2026-06-08T17:00:00+02:00", None),
    ("before-allow", "prod", rome(6, 8, 8, 59), False,
     "no allow window is open; the next one, 'weekday-releases', opens at "
     "2026-06-08T09:00:00+02:00", rome(6, 8, 9)),
    ("deny-over-allow", "prod", rome(6, 8, 12), False,
     "deny window 'lunch' is active until 2026-06-08T13:00:00+02:00; changes can merge "
     "again at 2026-06-08T13:00:00+02:00", rome(6, 8, 13)),
    ("at-deny-end", "prod", rome(6, 8, 13), True, "'weekday-releases' is open", None),
    ("overlapping-allows", "prod", rome(6, 8, 16), True,
     "'weekday-releases' is open until 2026-06-08T17:00:00+02:00; allow window "
     "'late-releases' is open until 2026-06-08T19:00:00+02:00", None),
    ("at-allow-end-other-open", "prod", rome(6, 8, 17), True,
     "allow window 'late-releases' is open until 2026-06-08T19:00:00+02:00", None),
    ("at-last-allow-end", "prod", rome(6, 8, 19), False,
     "the next one, 'weekday-releases', opens at 2026-06-09T09:00:00+02:00", rome(6, 9, 9)),
    ("next-open-across-weekend", "prod", rome(6, 11, 19, 30), False,
     "opens at 2026-06-15T09:00:00+02:00", rome(6, 15, 9)),
    ("next-open-friday", "prod", rome(6, 12, 10), False,
     "opens at 2026-06-15T09:00:00+02:00", rome(6, 15, 9)),
    ("deny-glob-only", "prod-eu", rome(6, 8, 12, 30), False,
     "deny window 'lunch' is active until 2026-06-08T13:00:00+02:00", rome(6, 8, 13)),
    ("deny-only-inactive", "prod-eu", rome(6, 12, 23), True,
     "no deny window or freeze is active for environment 'prod-eu' and no allow window "
     "applies to it", None),
    ("nothing-applies", "dev", rome(6, 8, 12), True,
     "no release window or freeze applies to environment 'dev'", None),
    ("three-day-deny", "staging", rome(6, 13, 10), False,
     "deny window 'weekend' is active until 2026-06-15T18:00:00+02:00", rome(6, 15, 18)),
    ("three-day-deny-last-minute", "staging", rome(6, 15, 17, 59), False,
     "'weekend' is active until 2026-06-15T18:00:00+02:00", rome(6, 15, 18)),
    ("three-day-deny-end", "staging", rome(6, 15, 18), True, "no deny window", None),
    ("three-day-deny-start", "staging", rome(6, 12, 18), False, "'weekend'", rome(6, 15, 18)),
    ("freeze-over-allow", "prod", rome(12, 21, 10), False,
     "freeze 'year-end' is in effect until 2027-01-06T00:00:00+01:00 (Year-end change "
     "freeze); changes can merge again at 2027-01-06T09:00:00+01:00",
     rome(1, 6, 9, year=2027)),
    ("freeze-and-deny", "prod", rome(12, 21, 12, 30), False,
     "freeze 'year-end' is in effect until 2027-01-06T00:00:00+01:00 (Year-end change "
     "freeze); deny window 'lunch' is active until 2026-12-21T13:00:00+01:00",
     rome(1, 6, 9, year=2027)),
    ("at-freeze-start", "staging", rome(12, 20, 0), False, "'year-end'",
     rome(1, 6, 0, year=2027)),
    ("at-freeze-end", "staging", rome(1, 6, 0, year=2027), True, "no deny window", None),
    ("freeze-other-env", "dev", rome(12, 21, 10), True, "no release window", None),
]


@pytest.mark.parametrize(("environment", "now", "allowed", "reason", "next_open"),
                         [case[1:] for case in DECISIONS], ids=[case[0] for case in DECISIONS])
def test_decide(environment: str, now: datetime, allowed: bool, reason: str,
                next_open: datetime | None) -> None:
    decision = CALENDAR.decide(environment, now)
    assert decision.allowed is allowed
    assert reason in decision.reason
    assert decision.next_open == next_open
    assert bool(decision.blocking) is (not allowed and "no allow window is open"
                                       not in decision.reason)


def test_decision_lists_blocking_and_active_allow() -> None:
    decision = CALENDAR.decide("prod", rome(6, 8, 12, 30))
    assert [p.rule.name for p in decision.blocking] == ["lunch"]
    assert [p.rule.name for p in decision.active_allow] == ["weekday-releases"]
    assert decision.blocking[0].start == rome(6, 8, 12)
    assert decision.blocking[0].end == rome(6, 8, 13)
    frozen = CALENDAR.decide("prod", rome(12, 21, 12, 30))
    assert [p.rule.name for p in frozen.blocking] == ["year-end", "lunch"]


def test_allow_only_calendar() -> None:
    calendar = Calendar((Window("nightly", "allow", "0 22 * * *", timedelta(hours=2)),))
    assert calendar.decide("any", datetime(2026, 6, 8, 23, 59, tzinfo=UTC)).allowed
    closed = calendar.decide("any", datetime(2026, 6, 9, 0, 0, tzinfo=UTC))
    assert not closed.allowed
    assert closed.next_open == datetime(2026, 6, 9, 22, 0, tzinfo=UTC)
    assert "opens at 2026-06-09T22:00:00+00:00" in closed.reason


def test_empty_calendar_allows() -> None:
    assert parse("calendar:\n").decide("prod", datetime(2026, 1, 1, tzinfo=UTC)) == Decision(
        True, "no release window or freeze applies to environment 'prod'")


def test_same_instant_in_different_zones() -> None:
    calendar = Calendar((Window("ny-morning", "allow", "0 9 * * *", timedelta(hours=1),
                                "America/New_York"),))
    instant = datetime(2026, 6, 8, 13, 30, tzinfo=UTC)  # 09:30 in New York
    decisions = {calendar.decide("prod", instant.astimezone(ZoneInfo(zone)))
                 for zone in ("UTC", "Europe/Rome", "Asia/Tokyo", "America/New_York")}
    assert len(decisions) == 1
    (decision,) = decisions
    assert decision.allowed
    assert decision.reason == ("allow window 'ny-morning' is open until "
                               "2026-06-08T10:00:00-04:00")
    later = calendar.decide("prod", datetime(2026, 6, 8, 14, 0, tzinfo=UTC))
    assert not later.allowed  # 10:00 in New York: end is exclusive
    assert "opens at 2026-06-09T09:00:00-04:00" in later.reason


def test_window_zones_differ_for_same_schedule() -> None:
    calendar = Calendar((
        Window("rome", "deny", "0 9 * * *", timedelta(hours=1), "Europe/Rome"),
        Window("tokyo", "deny", "0 9 * * *", timedelta(hours=1), "Asia/Tokyo"),
    ))
    at = datetime(2026, 6, 8, 7, 30, tzinfo=UTC)  # 09:30 Rome, 16:30 Tokyo
    assert [p.rule.name for p in calendar.decide("x", at).blocking] == ["rome"]
    at = datetime(2026, 6, 8, 0, 30, tzinfo=UTC)  # 02:30 Rome, 09:30 Tokyo
    assert [p.rule.name for p in calendar.decide("x", at).blocking] == ["tokyo"]


# 2026: Rome springs forward on 29 March (02:00 -> 03:00) and falls back on 25 October
# (03:00 -> 02:00); New York on 8 March (02:00 -> 03:00) and 1 November (02:00 -> 01:00).
DST_STARTS = [
    # (id, zone, schedule, after, the next starts, ISO)
    ("rome-spring-gap", "Europe/Rome", "0 2 * * *", "2026-03-28T12:00:00+01:00",
     ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"]),
    ("rome-spring-gap-half", "Europe/Rome", "30 2 * * *", "2026-03-28T12:00:00+01:00",
     ["2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"]),
    ("rome-fall-once", "Europe/Rome", "30 2 * * *", "2026-10-24T12:00:00+02:00",
     ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]),
    ("rome-fall-hourly", "Europe/Rome", "30 * * * *", "2026-10-25T01:00:00+02:00",
     ["2026-10-25T01:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T03:30:00+01:00"]),
    ("ny-spring-gap", "America/New_York", "0 2 * * *", "2026-03-07T12:00:00-05:00",
     ["2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"]),
    ("ny-spring-gap-half", "America/New_York", "30 2 * * *", "2026-03-07T12:00:00-05:00",
     ["2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00"]),
    ("ny-fall-once", "America/New_York", "30 1 * * *", "2026-10-31T12:00:00-04:00",
     ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]),
    ("ny-weekly-across-dst", "America/New_York", "0 9 * * 1", "2026-03-03T00:00:00-05:00",
     ["2026-03-09T09:00:00-04:00", "2026-03-16T09:00:00-04:00"]),
]


@pytest.mark.parametrize(("zone", "schedule", "after", "expected"),
                         [case[1:] for case in DST_STARTS], ids=[case[0] for case in DST_STARTS])
def test_dst_starts(zone: str, schedule: str, after: str, expected: list[str]) -> None:
    window = Window("w", "allow", schedule, timedelta(minutes=30), zone)
    moment = datetime.fromisoformat(after)
    starts = []
    for _ in expected:
        found = window.next_start(moment)
        assert found is not None
        starts.append(found.isoformat())
        moment = found
    assert starts == expected


DST_ACTIVE = [
    # (id, zone, schedule, duration, now, active period (start, end) or None)
    ("rome-fall-no-second-start", "Europe/Rome", "30 2 * * *", "30m",
     "2026-10-25T02:45:00+01:00", None),
    ("rome-fall-first-pass", "Europe/Rome", "30 2 * * *", "30m",
     "2026-10-25T02:45:00+02:00", ("2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00")),
    ("ny-fall-no-second-start", "America/New_York", "30 1 * * *", "30m",
     "2026-11-01T01:45:00-05:00", None),
    ("rome-spring-elapsed", "Europe/Rome", "0 1 * * *", "2h",
     "2026-03-29T03:59:00+02:00", ("2026-03-29T01:00:00+01:00", "2026-03-29T04:00:00+02:00")),
    ("rome-spring-elapsed-end", "Europe/Rome", "0 1 * * *", "2h",
     "2026-03-29T04:00:00+02:00", None),
    ("rome-fall-elapsed", "Europe/Rome", "0 1 * * *", "2h",
     "2026-10-25T02:30:00+02:00", ("2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+01:00")),
    ("rome-fall-elapsed-end", "Europe/Rome", "0 1 * * *", "2h",
     "2026-10-25T02:00:00+01:00", None),
    ("ny-spring-elapsed", "America/New_York", "0 1 * * *", "2h",
     "2026-03-08T03:30:00-04:00", ("2026-03-08T01:00:00-05:00", "2026-03-08T04:00:00-04:00")),
    ("ny-fall-elapsed", "America/New_York", "0 1 * * *", "2h",
     "2026-11-01T01:30:00-05:00", ("2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00")),
    ("rome-spring-moved-start", "Europe/Rome", "0 2 * * *", "1h",
     "2026-03-29T03:00:00+02:00", ("2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00")),
    ("rome-spring-before-moved", "Europe/Rome", "0 2 * * *", "1h",
     "2026-03-29T01:59:00+01:00", None),
    ("back-to-back-extends", "UTC", "0 9,10,11 * * *", "1h",
     "2026-06-08T09:15:00+00:00", ("2026-06-08T09:00:00+00:00", "2026-06-08T12:00:00+00:00")),
    ("overlapping-extends", "Europe/Rome", "0 9,11 * * *", "3h",
     "2026-06-08T09:15:00+02:00", ("2026-06-08T09:00:00+02:00", "2026-06-08T14:00:00+02:00")),
]


@pytest.mark.parametrize(("zone", "schedule", "duration", "now", "period"),
                         [case[1:] for case in DST_ACTIVE], ids=[case[0] for case in DST_ACTIVE])
def test_dst_activity(zone: str, schedule: str, duration: str, now: str,
                      period: tuple[str, str] | None) -> None:
    window = Window("w", "deny", schedule, parse_duration(duration), zone)
    active = window.active_period(datetime.fromisoformat(now))
    if period is None:
        assert active is None
        return
    assert active is not None
    assert (active.start.isoformat(), active.end.isoformat()) == period
    assert not active.at_least


def test_continuous_window_reports_a_lower_bound_and_no_opening() -> None:
    calendar = Calendar((Window("always", "deny", "0 * * * *", timedelta(hours=1)),))
    decision = calendar.decide("prod", datetime(2026, 6, 8, 10, 15, tzinfo=UTC))
    assert not decision.allowed
    assert decision.next_open is None
    assert decision.blocking[0].at_least
    assert decision.reason == ("deny window 'always' is active until at least "
                               "2026-06-10T13:00:00+00:00; no opening found within the "
                               "search limit")


def test_long_window_looks_back_far_enough() -> None:
    window = Window("month", "deny", "0 0 1 * *", timedelta(days=20), "Europe/Rome")
    assert window.active_period(rome(6, 20, 23, 59)) is not None
    assert window.active_period(rome(6, 21, 0)) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("90m", timedelta(minutes=90)), ("1h30m", timedelta(minutes=90)),
    ("2h", timedelta(hours=2)), ("3d", timedelta(days=3)), ("1.5h", timedelta(minutes=90)),
    ("1d12h", timedelta(hours=36)), ("45s", timedelta(seconds=45)),
])
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CALENDAR.decide("prod", datetime(2026, 6, 8, 9))


def test_parsed_fields() -> None:
    calendar = parse("""
        calendar:
          windows:
            - name: w
              kind: deny
              schedule: "0  9 * * MON-FRI"
              duration: 1h30m
              description: CHG-1234
          freezes:
            - name: f
              start: "2026-12-20T00:00:00Z"
              end: 2026-12-21T00:00:00+01:00
    """)
    (window,) = calendar.windows
    assert (window.schedule, window.duration, window.time_zone, window.environments,
            window.description, window.line) == (
        "0 9 * * MON-FRI", timedelta(minutes=90), "UTC", None, "CHG-1234", 3)
    (freeze,) = calendar.freezes
    assert freeze.start == datetime(2026, 12, 20, tzinfo=UTC)
    assert freeze.end.isoformat() == "2026-12-21T00:00:00+01:00"
    assert (freeze.reason, freeze.line, calendar.file) == (None, 9, CONFIG)


def window_yaml(**fields: str) -> str:
    """A calendar with one window (line 3 onwards, one field a line, in this order)."""
    base = {"name": "w", "kind": "allow", "schedule": '"0 9 * * *"', "duration": "1h"}
    base.update(fields)
    body = "".join(f"      {key}: {value}\n" for key, value in base.items() if value != "-")
    return "calendar:\n  windows:\n    - " + body.lstrip()


def freeze_yaml(**fields: str) -> str:
    base = {"name": "f", "start": "2026-12-20T00:00:00+01:00",
            "end": "2027-01-06T00:00:00+01:00"}
    base.update(fields)
    body = "".join(f"      {key}: {value}\n" for key, value in base.items() if value != "-")
    return "calendar:\n  freezes:\n    - " + body.lstrip()


CONFIG_ERRORS = [
    # (id, text, message fragment, line)
    ("not-a-mapping", "calendar: [1]\n", "calendar: must be a mapping", 1),
    ("unknown-top-key", "calendar:\n  windows: []\n  holidays: []\n",
     "calendar.holidays: unknown key 'holidays'", 3),
    ("windows-not-list", "calendar:\n  windows: {}\n", "calendar.windows: must be a list", 2),
    ("entry-not-mapping", "calendar:\n  windows:\n    - weekly\n",
     "calendar.windows[0]: an entry is a mapping", 3),
    ("unknown-window-key", window_yaml(timezone="UTC"),
     "calendar.windows[0].timezone: unknown key 'timezone'", 7),
    ("missing-duration", window_yaml(duration="-"),
     "calendar.windows[0]: missing 'duration'", 3),
    ("kind-case", window_yaml(kind="Allow"), "kind must be 'allow' or 'deny'", 4),
    ("kind-unknown", window_yaml(kind="block"), "kind must be 'allow' or 'deny'", 4),
    ("cron-six-fields", window_yaml(schedule='"0 0 9 * * *"'), "not a 5-field cron", 5),
    ("cron-macro", window_yaml(schedule="'@daily'"), "not a 5-field cron", 5),
    ("cron-out-of-range", window_yaml(schedule='"61 9 * * *"'), "not a valid cron", 5),
    ("cron-bad-dow", window_yaml(schedule='"0 9 * * 8"'), "not a valid cron", 5),
    ("cron-never", window_yaml(schedule='"0 0 30 2 *"'), "not a valid cron", 5),
    ("cron-L", window_yaml(schedule='"0 0 L * *"'), "L, W and # are not standard", 5),
    ("cron-hash", window_yaml(schedule='"0 0 * * 1#2"'), "L, W and # are not standard", 5),
    ("cron-number", window_yaml(schedule="5"), "must be a cron expression string", 5),
    ("duration-no-unit", window_yaml(duration="90"), "must be a duration string", 6),
    ("duration-bad-unit", window_yaml(duration="2w"), "is not a duration such as", 6),
    ("duration-zero", window_yaml(duration="0h"), "must be positive", 6),
    ("duration-negative", window_yaml(duration="-1h"), "is not a duration such as", 6),
    ("zone-invalid", window_yaml(timeZone="Europe/Atlantis"),
     "unknown time zone 'Europe/Atlantis'", 7),
    ("zone-path", window_yaml(timeZone="../etc/passwd"), "unknown time zone", 7),
    ("zone-empty", window_yaml(timeZone="''"), "must be an IANA time zone", 7),
    ("environments-empty", window_yaml(environments="[]"), "non-empty list", 7),
    ("environments-string", window_yaml(environments="prod"), "non-empty list", 7),
    ("environment-glob-blank", window_yaml(environments='[prod, " "]'),
     "calendar.windows[0].environments[1]", 7),
    ("description-long", window_yaml(description="x" * 256), "the limit is 255", 7),
    ("name-invalid", window_yaml(name="'two words'"), "is not a valid name", 3),
    ("freeze-naive-start", freeze_yaml(start="2026-12-20T00:00:00"),
     "calendar.freezes[0].start: '2026-12-20T00:00:00' has no UTC offset", 4),
    ("freeze-date-only", freeze_yaml(end="2027-01-06"), "has no UTC offset", 5),
    ("freeze-not-iso", freeze_yaml(end="next monday"), "is not an ISO-8601", 5),
    ("freeze-inverted", freeze_yaml(end="2026-12-19T00:00:00+01:00"),
     "calendar.freezes[0].end: end 2026-12-19T00:00:00+01:00 must be after start", 5),
    ("freeze-empty", freeze_yaml(end="2026-12-20T00:00:00+01:00"), "must be after start", 5),
    ("freeze-missing-end", freeze_yaml(end="-"), "missing 'end'", 3),
    ("freeze-unknown-key", freeze_yaml(until="x"), "unknown key 'until'", 6),
    ("freeze-reason-type", freeze_yaml(reason="[a]"), "reason: must be a string", 6),
    ("freeze-allow-rollback-text", freeze_yaml(allow_rollback="'yes'"),
     "calendar.freezes[0].allow_rollback: must be true or false, not a string", 6),
    ("window-allow-rollback-number", window_yaml(allow_rollback="1"),
     "calendar.windows[0].allow_rollback: must be true or false, not a number", 7),
    ("duplicate-window", "calendar:\n  windows:\n    - {name: a, kind: allow, schedule: "
     "'0 9 * * *', duration: 1h}\n    - {name: a, kind: deny, schedule: '0 9 * * *', "
     "duration: 1h}\n", "calendar.windows[1].name: duplicate name 'a': already used by "
     "windows[0] (line 3)", 4),
    ("duplicate-across", "calendar:\n  windows:\n    - {name: a, kind: allow, schedule: "
     "'0 9 * * *', duration: 1h}\n  freezes:\n    - name: a\n      start: "
     "2026-12-20T00:00:00Z\n      end: 2026-12-21T00:00:00Z\n",
     "calendar.freezes[0].name: duplicate name 'a'", 5),
]


@pytest.mark.parametrize(("text", "message", "line"),
                         [case[1:] for case in CONFIG_ERRORS],
                         ids=[case[0] for case in CONFIG_ERRORS])
def test_config_errors(text: str, message: str, line: int) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert message in caught.value.message
    assert (caught.value.file, caught.value.line) == (CONFIG, line)


ROLLBACKS = parse("""
    calendar:
      windows:
        - name: office-hours
          kind: allow
          schedule: "0 9 * * 1-5"
          duration: 8h
          timeZone: Europe/Rome
          environments: [prod]
          allow_rollback: true
        - name: lunch
          kind: deny
          schedule: "0 12 * * *"
          duration: 1h
          timeZone: Europe/Rome
          environments: [prod]
      freezes:
        - name: year-end
          start: 2026-12-20T00:00:00+01:00
          end: 2027-01-06T00:00:00+01:00
          environments: [prod]
          allow_rollback: true
""")


@pytest.mark.parametrize(("now", "allowed", "closed_by", "allow_rollback"), [
    # Open: nothing to let a rollback through.
    (rome(6, 8, 10), True, (), False),
    # Outside office hours: the shut allow window lets rollbacks through.
    (rome(6, 8, 20), False, ("office-hours",), True),
    # At lunch: the deny window keeps it closed and does not allow rollbacks.
    (rome(6, 8, 12, 30), False, ("lunch",), False),
    # In the freeze (a Thursday morning): the freeze allows rollbacks.
    (rome(12, 24, 10), False, ("year-end",), True),
    # In the freeze at lunch: both close it, and lunch does not allow rollbacks.
    (rome(12, 24, 12, 30), False, ("year-end", "lunch"), False),
])
def test_allow_rollback_needs_every_closing_rule(now: datetime, allowed: bool,
                                                 closed_by: tuple[str, ...],
                                                 allow_rollback: bool) -> None:
    decision = ROLLBACKS.decide("prod", now)
    assert decision.allowed is allowed
    assert tuple(rule.name for rule in decision.closed_by) == closed_by
    assert decision.allow_rollback is allow_rollback


def test_allow_rollback_is_off_by_default() -> None:
    assert not any(rule.allow_rollback for rule in (*CALENDAR.windows, *CALENDAR.freezes))
    assert [w.allow_rollback for w in ROLLBACKS.windows] == [True, False]
    assert ROLLBACKS.freezes[0].allow_rollback is True
