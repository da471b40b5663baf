"""Judging on every core: a map over work items, split across forked processes.

A check reads and judges thousands of files, each independently of the others, and
Python runs one thread at a time: ``fork_map`` forks worker processes (copies of the
planned run: the policies, compiled expressions and plan are inherited, never sent),
gives each a share of the items, and has each send its results back, pickled, through
a pipe. The calling process is a worker too. Results come back in item order, so a
report is byte-identical whatever the number of processes.

Objects the parent already holds (policies' report data, collectors) are not copied
back: a worker names them by their identity in the parent (a forked process shares
the parent's addresses) and the parent resolves the name to its own object.

Only on Linux and where no other thread runs (a fork copies one thread; a lock another
thread held would stay locked in the child); elsewhere, and for little work, the items
are mapped in this process.
"""
from __future__ import annotations

import gc
import io
import os
import pickle
import struct
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from gate.errors import GateError

Item = TypeVar("Item")
Value = TypeVar("Value")

#: Items a worker takes at a time: neighbours stay together (an overlay and its
#: siblings share rendered bases), and chunks are small enough to balance the work.
CHUNK = 16
#: At most this many chunks (bigger chunks beyond): the queue (4 bytes a chunk) fits the
#: smallest buffer a pipe may have, one 4 KiB page.
MAX_CHUNKS = 1024


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    # Linux only: on macOS a forked child that touches system frameworks may crash (why
    # Python's multiprocessing no longer forks there), and Windows cannot fork.
    return sys.platform.startswith("linux") and threading.active_count() == 1


class WorkerError(GateError):
    """A worker process failed without an error of its own to report."""


def fork_map(function: Callable[[Item], Value], items: Sequence[Item], jobs: int,
             shared: Iterable[object] = ()) -> list[Value]:
    """``[function(item) for item in items]``, computed by up to ``jobs`` processes.

    Items go in chunks to whichever process is free (a queue of chunk numbers in a
    pipe), so a slow overlay does not leave the other processes idle. ``shared`` are
    objects the parent holds that values may refer to: they come back as the parent's
    own objects, not copies. An exception in a worker is raised here, as if the parent
    had raised it.
    """
    chunk = max(CHUNK, -(-len(items) // MAX_CHUNKS))
    chunks = [range(start, min(start + chunk, len(items)))
              for start in range(0, len(items), chunk)]
    jobs = min(jobs, len(chunks))
    if jobs <= 1 or not can_fork():
        return [function(item) for item in items]
    registry = {id(obj): obj for obj in shared}
    # The queue: one 4-byte chunk number per chunk, read 4 bytes at a time (a read of
    # at most PIPE_BUF bytes is atomic), written before any worker starts and closed,
    # so an empty queue reads as end of file.
    queue_read, queue_write = os.pipe()
    os.write(queue_write, b"".join(struct.pack("<I", number) for number in range(len(chunks))))
    os.close(queue_write)
    workers: list[tuple[int, int]] = []  # (pid, read end of its result pipe)
    # Flushed now, or a buffered line would be written once more by each worker.
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        for _ in range(1, jobs):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: never returns
                os.close(read_end)
                _work(function, items, chunks, queue_read, write_end, registry)
            os.close(write_end)
            workers.append((pid, read_end))
        values: list[Any] = [None] * len(items)
        try:
            for number in _claims(queue_read):
                for index in chunks[number]:
                    values[index] = function(items[index])
        finally:
            received = [_receive(pid, read_end, registry) for pid, read_end in workers]
    finally:
        os.close(queue_read)
    for pieces in received:
        for number, piece in pieces:
            for index, value in zip(chunks[number], piece, strict=True):
                values[index] = value
    return values


def _claims(queue: int) -> Iterator[int]:
    """Chunk numbers taken from the queue until it is empty."""
    while True:
        claim = os.read(queue, 4)
        if not claim:
            return
        yield struct.unpack("<I", claim)[0]


def _work(function: Callable[[Item], Any], items: Sequence[Item], chunks: list[range],
          queue: int, write_end: int, registry: dict[int, object]) -> None:
    """A worker's life: take chunks, pickle each one's values as soon as they are known
    (pickling overlaps the parent's work), send them all, exit."""
    status = 1
    try:
        buffer = io.BytesIO()
        pickler = _Pickler(buffer, registry)
        failure: BaseException | None = None
        try:
            for number in _claims(queue):
                values = [function(items[index]) for index in chunks[number]]
                try:
                    pickler.dump(("values", number, values))
                except Exception as exc:
                    failure = WorkerError(f"a worker could not send its result: {exc}")
                    break
        except BaseException as exc:  # sent to the parent, which raises it
            failure = exc
        if failure is not None:
            # Alone in a stream of its own: what went before may be half written.
            buffer = io.BytesIO()
            try:
                _Pickler(buffer, registry).dump(("error", None, failure))
            except Exception:
                buffer = io.BytesIO()
                pickle.dump(("error", None, WorkerError(f"a worker failed: {failure!r}")),
                            buffer)
        data = buffer.getbuffer()
        with open(write_end, "wb", closefd=True) as pipe:
            pipe.write(data)
        status = 0
    finally:
        # Never back into the parent's code: no atexit handler, no buffered output twice.
        os._exit(status)


def _receive(pid: int, read_end: int, registry: dict[int, object]
             ) -> list[tuple[int, list[Any]]]:
    with open(read_end, "rb", closefd=True) as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        raise WorkerError("a worker process failed"
                          + (f" (signal {signal})" if signal else
                             f" (exit status {os.waitstatus_to_exitcode(status)})"))
    pieces: list[tuple[int, list[Any]]] = []
    # Many small objects arrive at once, none of them garbage: no collection meanwhile.
    enabled = gc.isenabled()
    gc.disable()
    _receiving.update(registry)
    try:
        stream = io.BytesIO(data)
        unpickler = pickle.Unpickler(stream)  # one memo for the worker's one pickler
        while stream.tell() < len(data):
            kind, number, value = unpickler.load()
            if kind == "error":
                raise value
            pieces.append((number, value))
    finally:
        _receiving.clear()
        if enabled:
            gc.enable()
    return pieces


class _Pickler(pickle.Pickler):
    """Pickles a shared object as its name (reducer_override, unlike persistent_id, is
    not consulted for strings, numbers, lists and dicts: most of what goes through)."""

    def __init__(self, file: io.BytesIO, registry: dict[int, object]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.registry = registry

    def reducer_override(self, obj: Any) -> Any:
        key = id(obj)
        if self.registry.get(key) is obj:
            return _shared, (key,)
        return NotImplemented


#: The registry of the parent's shared objects while a worker's result is unpickled.
_receiving: dict[int, object] = {}


def _shared(key: int) -> object:
    try:
        return _receiving[key]
    except KeyError:
        raise pickle.UnpicklingError(f"unknown shared object {key}") from None
