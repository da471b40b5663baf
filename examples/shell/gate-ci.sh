#!/usr/bin/env bash
# gate in any CI system, or by hand (docs/ci.md).
#
#   gate-ci.sh [BASE [GATE DIFF OPTIONS...]]
#
# Judges what HEAD changes since its merge-base with BASE (default: $GATE_BASE, else
# origin/main) by the rules of BASE (--rules-from base: a change cannot loosen the rules
# that judge it), writes the reports to $GATE_REPORT_DIR (default: gate-reports) and exits
# with gate's status: 0 nothing blocks, 1 a finding blocks, 2 gate could not judge.
# gate.md and gate.html are the whole report, to keep; gate-comment.md is the same report
# shortened to fit a pull-request comment, the one to post.
# Set $GATE_HEAD_COMMIT to the change's own head commit when HEAD is a merge your CI made
# of it (from your CI's variables, never from the change); docs/ci.md.
# Needs gate on PATH and a clone with the base's history (no shallow clone).
set -uo pipefail

base="${1:-${GATE_BASE:-origin/main}}"
if [ "$#" -gt 0 ]; then shift; fi
reports="${GATE_REPORT_DIR:-gate-reports}"
# A fresh, empty folder: whatever the change committed there (a link to .git, a fake
# report) is removed, not followed (rm -rf removes a link, never its target). The
# reports are data: never source or execute them.
rm -rf -- "$reports" && mkdir -p -- "$reports" || exit 2

status=0
gate diff --base "$base" --rules-from base ${GATE_HEAD_COMMIT:+"--head-commit=$GATE_HEAD_COMMIT"} "$@" \
    -f text \
    -f json="$reports/gate.json" \
    -f junit="$reports/gate-junit.xml" \
    -f markdown="$reports/gate.md" \
    -f markdown-comment="$reports/gate-comment.md" \
    -f html="$reports/gate.html" || status=$?

case "$status" in
    0) echo "gate: nothing blocks; reports in $reports/" ;;
    1) echo "gate: a finding blocks this change; reports in $reports/" >&2 ;;
    *) echo "gate: could not judge the change (exit status $status)" >&2 ;;
esac
exit "$status"
