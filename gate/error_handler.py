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

EXIT_ERROR = 2


def error_line(error: GateError) -> str:
    if error.file is None:
        return f"gate: error: {error.message}"
    where = error.file if error.line is None else f"{error.file}:{error.line}"
    return f"{where}: error: {error.message}"


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
        message = " ".join(str(exc).split()) or "no detail"
        print(
            f"gate: internal error: {type(exc).__name__}: {message} "
            "(set GATE_DEBUG=1 for a traceback, and please report it)",
            file=sys.stderr,
        )
        return EXIT_ERROR
