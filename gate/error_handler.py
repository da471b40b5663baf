"""Map every way a run can end to an exit status; no traceback reaches the user.

0 nothing blocks, 1 a finding blocks, 2 usage/config/policy/input/internal error.
An uncaught exception would exit 1, which reads as "findings", so it is caught.
"""
from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

from gate.errors import GateError


def one_line(text: str) -> str:
    """The shared cleaning of untrusted text (imported when first needed: the reports
    package is heavier than a start-up needs)."""
    from gate.reports._escape import one_line as clean

    return clean(text)

EXIT_ERROR = 2


def error_line(error: GateError) -> str:
    """``file:line: error: message`` on one line; a file name or a message quoting config
    text cannot reach the terminal as a control or a second line (see _escape.py)."""
    if error.file is None:
        return f"gate: error: {one_line(error.message)}"
    where = error.file if error.line is None else f"{error.file}:{error.line}"
    return f"{one_line(where)}: error: {one_line(error.message)}"


def guarded(run: Callable[[], int]) -> int:
    try:
        return run()
    except GateError as exc:
        print(error_line(exc), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("gate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); silence the flush at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except RecursionError:
        print("gate: error: input is nested too deeply to evaluate", file=sys.stderr)
        return EXIT_ERROR
    except MemoryError:
        print("gate: error: out of memory", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # the last line of defence: never exit 1 on a crash
        if os.environ.get("GATE_DEBUG"):
            traceback.print_exc()
        message = one_line(" ".join(str(exc).split())) or "no detail"
        print(
            f"gate: internal error: {type(exc).__name__}: {message} "
            "(set GATE_DEBUG=1 for a traceback, and please report it)",
            file=sys.stderr,
        )
        return EXIT_ERROR
