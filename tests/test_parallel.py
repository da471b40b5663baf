"""Judging on every core (gate/evaluation/parallel.py): the same results whatever the number of
processes, in order; workers' failures raised in the parent; the CLI's --jobs."""
from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.evaluation.parallel import CHUNK, WorkerError, fork_map
from tests.conftest import REPO_ROOT, RunGate
from tests.processes import output_of

PARENT = os.getpid()
NOW = ["--now", "2026-12-07T09:00:00Z"]


def square(item: int) -> tuple[int, int]:
    return item, item * item


@pytest.mark.e2e
@pytest.mark.parametrize("jobs", [1, 2, 3, 8])
@pytest.mark.parametrize("count", [0, 1, CHUNK, CHUNK + 1, 10 * CHUNK + 3])
def test_values_come_back_in_item_order(jobs: int, count: int) -> None:
    assert fork_map(square, list(range(count)), jobs) == [square(i) for i in range(count)]


#: Files the parent and a worker create when each first takes an item, and each waits
#: for the other's: so both surely take part, however the machine schedules them.
MARKERS: list[Path] = []


def worker_takes_part() -> bool:
    """Whether this is a worker (not the parent), once the other side has an item too."""
    in_worker = os.getpid() != PARENT
    mine, theirs = MARKERS if in_worker else reversed(MARKERS)
    mine.touch()
    deadline = time.monotonic() + 60
    while not theirs.exists():
        assert time.monotonic() < deadline, "the other process took no item within a minute"
        time.sleep(0.01)
    return in_worker


@pytest.fixture(autouse=True)
def markers(tmp_path: Path) -> Iterator[None]:
    MARKERS[:] = [tmp_path / "a worker took an item", tmp_path / "the parent took an item"]
    yield
    MARKERS.clear()


def pid_of_judge(item: int) -> int:
    worker_takes_part()
    return os.getpid()


@pytest.mark.e2e
def test_workers_take_part_and_the_parent_is_one_of_them() -> None:
    pids = fork_map(pid_of_judge, list(range(4 * CHUNK)), 2)
    assert PARENT in pids
    assert len(set(pids)) == 2


class Shared:
    def __init__(self, name: str) -> None:
        self.name = name


SHARED = [Shared("a"), Shared("b")]


def pick_shared(item: int) -> tuple[Shared, Shared, bool]:
    return SHARED[item % 2], Shared(f"new {item}"), worker_takes_part()


@pytest.mark.e2e
def test_shared_objects_come_back_as_the_parents_own() -> None:
    values = fork_map(pick_shared, list(range(4 * CHUNK)), 2, shared=SHARED)
    assert any(in_worker for _, _, in_worker in values)
    for item, (shared, new, _) in enumerate(values):
        assert shared is SHARED[item % 2]  # not a copy
        assert new.name == f"new {item}" and new not in SHARED


def fail_in_worker(item: int) -> int:
    if worker_takes_part():
        raise ValueError(f"item {item} cannot be judged")
    return item


@pytest.mark.e2e
def test_an_error_in_a_worker_is_raised_in_the_parent() -> None:
    with pytest.raises(ValueError, match=r"item \d+ cannot be judged"):
        fork_map(fail_in_worker, list(range(4 * CHUNK)), 2)


def die_in_worker(item: int) -> int:
    if worker_takes_part():
        os.kill(os.getpid(), signal.SIGKILL)
    return item


@pytest.mark.e2e
def test_a_worker_that_dies_fails_the_run() -> None:
    with pytest.raises(WorkerError, match=f"signal {int(signal.SIGKILL)}"):
        fork_map(die_in_worker, list(range(4 * CHUNK)), 2)


def unpicklable_in_worker(item: int) -> object:
    if worker_takes_part():
        return lambda: item  # a value that cannot be sent back
    return item


@pytest.mark.e2e
def test_a_value_a_worker_cannot_send_fails_the_run() -> None:
    with pytest.raises(WorkerError, match="a worker could not send its result"):
        fork_map(unpicklable_in_worker, list(range(4 * CHUNK)), 2)


# -- the CLI ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hundreds of plain files in three environments, the demo's overlays and a broken
    file: enough units for several workers, and every kind of outcome."""
    root = tmp_path_factory.mktemp("parallel") / "repo"
    output_of([sys.executable, REPO_ROOT / "bench" / "generate.py", "400", root / "generated",
               "--seed", "7"])
    shutil.copytree(REPO_ROOT / "fixtures" / "demo", root / "demo")
    (root / "generated" / "broken.yaml").write_text("kind: [unclosed\n", encoding="utf-8")
    (root / ".git").mkdir()
    # Every built-in resource policy, the cross-resource ones among them.
    from gate.evaluation.policy_loading import load_builtin
    ids = sorted(policy.id for policy in load_builtin() if policy.target != "change")
    (root / "all.yaml").write_text(
        "policies:\n" + "".join(f"  {i}: {{enabled: true}}\n" for i in ids), encoding="utf-8")
    return root


FORMATS = ("json", "sarif", "junit", "markdown", "text", "codequality")


def reports(run: RunGate, tree: Path, out: Path, jobs: str) -> dict[str, bytes]:
    out.mkdir()
    result = run("check", "generated", "demo", "-c", "all.yaml", "-j", jobs, *NOW,
                 *(arg for name in FORMATS for arg in ("-f", f"{name}={out / name}")), cwd=tree)
    assert result.returncode == 2, result.stderr  # the broken file fails the run closed
    return {name: (out / name).read_bytes() for name in FORMATS}


@pytest.mark.e2e
def test_reports_are_byte_identical_whatever_the_number_of_processes(
        run_gate: RunGate, big_tree: Path, tmp_path: Path) -> None:
    one = reports(run_gate, big_tree, tmp_path / "one", "1")
    assert b"broken.yaml" in one["json"] and b"service-selects-pods" in one["json"]
    for jobs in ("2", "3", "0"):
        assert reports(run_gate, big_tree, tmp_path / f"j{jobs}", jobs) == one, jobs


@pytest.mark.e2e
def test_in_process_runs_agree_with_a_subprocess(
        run_gate: RunGate, gate_cli: RunGate, big_tree: Path, tmp_path: Path) -> None:
    # The in-process CLI forks the test process itself: its workers must leave it intact.
    assert reports(gate_cli, big_tree, tmp_path / "in", "2") == reports(
        run_gate, big_tree, tmp_path / "sub", "2")


@pytest.mark.parametrize("value", ["-1", "two", ""])
def test_jobs_must_be_a_count(gate_cli: RunGate, value: str, tmp_path: Path) -> None:
    result = gate_cli("check", str(tmp_path), "-j", value)
    assert result.returncode == 2
    assert "--jobs" in result.stderr and "Traceback" not in result.stderr
