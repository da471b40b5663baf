"""Every bound gate puts on what an input may cost, in one place.

A pull request's author may be an adversary: each input that could make gate spend
time or memory far out of proportion to its size has a bound here, and exceeding it
is an input error (exit status 2) naming the file and, where known, the line. Each
figure is generous for real repositories (docs/security.md lists them with reasons);
raise one here, never at the place that enforces it.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gate.errors import GateError


class LimitError(GateError):
    """An input that exceeds one of the bounds below: exit status 2, naming its file."""

# -- YAML (gate/loading/yamlio.py) ----------------------------------------------------------

#: Bytes of one file read as YAML.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Collections nested deeper than this are refused: libyaml's composer recurses in C
#: and overflows the stack some tens of thousands of levels down. Just below the limit
#: of the libyaml PyYAML 6.0.4 ships (1,000 block levels), so the same documents load
#: with either.
MAX_DEPTH = 999
#: Documents in one YAML stream (``---`` separated): an empty document costs a node
#: tree and a parse each, so two million of them cost a minute from 8 MB. A rendered
#: bundle of 20,000 small resources in one file must still load.
MAX_DOCUMENTS_PER_FILE = 50_000
#: Nodes (scalars, sequences, mappings, aliases) of one file, counted before they are
#: built: a node costs some hundreds of bytes in memory from as little as two of text.
MAX_NODES_PER_FILE = 1_000_000
#: A document may expand aliases up to this many nodes without further question...
ALIAS_EXPANSION_FLOOR = 100_000
#: ...and beyond it only while expansion stays within this factor of its real size...
ALIAS_EXPANSION_FACTOR = 10
#: ...and never beyond this many nodes.
MAX_EXPANDED_NODES = 2_000_000
#: Characters of one integer scalar: Python refuses to print an int of more than 4,300
#: digits, and base-60 integers (``1:2:3``) cost time quadratic in their length.
MAX_INT_CHARS = 100

# -- Kustomize (gate/loading/renderers/kustomize/) ------------------------------------------

#: Keys of one configMapGenerator or secretGenerator entry (literals, files, env lines).
MAX_GENERATOR_KEYS = 10_000
#: Bytes of the values of one generated ConfigMap or Secret (Kubernetes stores 1 MiB).
MAX_GENERATOR_BYTES = 16 * 1024 * 1024
#: ``replicas[].count``: Kubernetes' replicas are an int32.
MAX_REPLICAS = 2**31 - 1
#: Operations of one JSON 6902 patch.
MAX_JSON_PATCH_OPS = 10_000
#: Nodes one JSON 6902 patch may add (``copy`` doubles a document with each operation).
MAX_JSON_PATCH_GROWTH = 1_000_000
#: Resources one kustomization renders (bases included more than once multiply).
MAX_RENDERED_RESOURCES = 100_000
#: Resources one render takes in from ``resources``/``bases`` at every level, summed: a
#: base included through two overlays, each included through two more, is rendered
#: 2^depth times, so the work, not only the result, needs a bound. 10,000 resources
#: through five levels of overlays take in 50,000.
MAX_RENDER_WORK = 200_000

# -- Argo CD (gate/loading/argocd/) ---------------------------------------------------------

#: Parameter sets one generator of an ApplicationSet yields (list elements, git files'
#: entries, the product of a matrix), checked before they are built.
MAX_GENERATOR_PARAMS = 10_000
#: Applications discovered in one tree, ApplicationSets' included.
MAX_APPLICATIONS = 50_000
#: Characters of one string an ApplicationSet template renders (``replace`` with an
#: empty old string multiplies).
MAX_TEMPLATE_OUTPUT = 1024 * 1024

# -- release calendar (gate/governance/calendar/) and the evaluation time (gate/clock.py) ---

#: Windows, and freezes, of one calendar.
MAX_WINDOWS = 200
MAX_FREEZES = 1_000
#: The longest window: cron schedules repeat at least every few years, and a longer
#: window is always open (or closed); use a freeze.
MAX_WINDOW_DURATION = timedelta(days=366)
#: Cron matches one decision may enumerate (windows x occurrences x changes of state).
MAX_CRON_STEPS = 20_000
#: Instants gate can judge at (``--now``, ``SOURCE_DATE_EPOCH``, the head commit's time,
#: freezes' start and end): far enough from datetime's year 1 and 9999 that windows,
#: durations and search margins never leave its range.
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST_INSTANT = datetime(9000, 1, 1, tzinfo=timezone.utc)


def instant_problem(moment: datetime) -> str | None:
    """Why ``moment`` (timezone-aware) is outside the instants gate judges at, or None."""
    try:
        utc = moment.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST_INSTANT <= utc < LATEST_INSTANT:
        return (f"{moment.isoformat()} is outside the supported range "
                f"{EARLIEST_INSTANT:%Y-%m-%d} to {LATEST_INSTANT:%Y-%m-%d}")
    return None
