"""Release calendar: allow/deny windows and freezes, decided at merge time.

Modules:

- ``rules``: windows, freezes and the calendar that holds them; :meth:`Calendar.decide`
  says whether a change to one environment may merge at an instant, and why.
- ``cron``: cron schedules on a time zone's wall clock (DST gaps and repeats), and the
  check that a schedule is one Argo CD accepts.
- ``config``: the ``calendar`` key of ``.gate.yaml`` parsed and checked, failing closed.
"""
