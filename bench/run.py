"""Benchmark ``gate check`` against the YAML parse floor on a generated GitOps tree.

    python bench/run.py [--resources 10000] [--repeat 3] [--seed 42] [--keep DIR]
    python bench/run.py --all-policies [--resources 10000] [--repeat 3] [--seed 42]

Generates a tree with ``bench/generate.py`` into a temporary directory, then times, each as
a fresh subprocess and keeping the best of ``--repeat`` runs:

- ``python -c pass``: interpreter start-up, for context;
- the parse floor: a script that walks the tree, reads every ``*.yaml``/``*.yml`` file and
  loads it with ``yaml.load_all(..., Loader=yaml.CSafeLoader)`` and nothing else;
- ``gate check TREE -f json=/dev/null`` (exit status 1 is expected: the tree has findings);
- ``gate --version``.

It prints machine facts, a table, and the ratio of gate to the parse floor (target: <= 3x).

``--all-policies`` runs ``gate check`` with every built-in resource policy enabled (opt-in
ones and the cross-resource policies included, through a generated ``-c`` configuration) on
trees of N and 2N resources, in rounds (each measurement once a round, the best of the
rounds counting), and prints each run's ratio to its parse floor and the ratio of the 2N
run to the N run (target: <= 2.2x: linear).

gate reads and judges on every CPU it may use (``gate check --jobs``); ``--jobs N`` passes
``-j N`` to it, so ``--jobs 1`` measures one process. The parse floor is one process.
This is a benchmark to run by hand, not a timed test.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 3.0
TARGET_SCALING = 2.2

PARSE_FLOOR = r"""
import os, sys, time
import yaml
start = time.perf_counter()
documents = 0
for root, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    for name in sorted(files):
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(root, name), encoding="utf-8") as handle:
                documents += sum(1 for _ in yaml.load_all(handle.read(), Loader=yaml.CSafeLoader))
print(documents, time.perf_counter() - start)
"""


def timed(argv: list[str], repeat: int, ok: tuple[int, ...] = (0,)) -> tuple[float, str, str]:
    """Best wall time of ``repeat`` runs, with the last run's stdout and stderr."""
    best = float("inf")
    out = err = ""
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode not in ok:
            sys.exit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
        best = min(best, elapsed)
        out, err = proc.stdout, proc.stderr
    return best, out, err


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_facts() -> list[tuple[str, str]]:
    return [
        ("CPU", f"{cpu_model()} ({os.cpu_count()} logical CPUs)"),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("PyYAML", f"{yaml.__version__} (libyaml: "
                   f"{'yes' if getattr(yaml, '__with_libyaml__', False) else 'NO'})"),
    ]


def jobs_option(jobs: int | None) -> list[str]:
    return [] if jobs is None else ["-j", str(jobs)]


def jobs_fact(jobs: int | None) -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"gate check -j {jobs}" if jobs is not None else
            f"gate check on every CPU it may use ({cpus})")


def run(tree: str, resources: int, repeat: int, seed: int, jobs: int | None = None) -> int:
    python = sys.executable
    start = time.perf_counter()
    generated = subprocess.run([python, str(HERE / "generate.py"), str(resources), tree,
                                "--seed", str(seed)], capture_output=True, text=True, check=True)
    print(generated.stdout.strip(), f"[{time.perf_counter() - start:.1f}s]")
    for key, value in machine_facts():
        print(f"{key + ':':8}{value}")
    print(f"{jobs_fact(jobs)}; best of {repeat} runs each, wall time of a fresh subprocess\n")

    startup, _, _ = timed([python, "-c", "pass"], repeat)
    floor, floor_out, _ = timed([python, "-c", PARSE_FLOOR, tree], repeat)
    documents, floor_inner = floor_out.split()
    # Exit status 1 means blocking findings, as the generated tree is meant to have.
    gate_time, _, gate_err = timed([python, "-m", "gate", "check", tree, "-f",
                                    f"json={os.devnull}", *jobs_option(jobs)], repeat, ok=(0, 1))
    version, _, _ = timed([python, "-m", "gate", "--version"], repeat)

    summary = next((line for line in gate_err.splitlines() if line.startswith("gate: ")), "")
    match = re.search(r"\((\d+) resource", summary)
    if match is None or int(match.group(1)) != int(documents):
        sys.exit(f"gate and the parse floor disagree on the documents: {summary!r} vs "
                 f"{documents}")

    rows = [
        ("python -c pass", startup, ""),
        ("parse floor (CSafeLoader load_all)", floor,
         f"{documents} documents; {float(floor_inner):.2f} s inside the process"),
        (f"gate check -f json={os.devnull}", gate_time, summary.removeprefix("gate: ")),
        ("gate --version", version, ""),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f"{'measurement':{width}}  {'wall (s)':>8}  notes")
    for name, seconds, note in rows:
        print(f"{name:{width}}  {seconds:8.3f}  {note}")
    ratio = gate_time / floor
    verdict = "within" if ratio <= TARGET_RATIO else "ABOVE"
    print(f"\nratio gate check / parse floor: {ratio:.2f}x "
          f"({verdict} the {TARGET_RATIO:g}x target)")
    net = (gate_time - startup) / (floor - startup)
    print(f"ratio without interpreter start-up: {net:.2f}x")
    return 0


def all_policies_config(path: str) -> str:
    """A configuration enabling every built-in resource policy; returns its path."""
    sys.path.insert(0, str(HERE.parent))
    from gate.evaluation.policy_loading import load_builtin

    ids = sorted(policy.id for policy in load_builtin() if policy.target != "change")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("policies:\n" + "".join(f"  {i}: {{enabled: true}}\n" for i in ids))
    return path


def run_scaling(workdir: str, resources: int, repeat: int, seed: int,
                jobs: int | None = None) -> int:
    """``gate check`` with every built-in resource policy on N and 2N resources."""
    python = sys.executable
    config = all_policies_config(os.path.join(workdir, "all-policies.yaml"))
    for key, value in machine_facts():
        print(f"{key + ':':8}{value}")
    print(f"every built-in resource policy enabled ({config}); {jobs_fact(jobs)}; "
          f"best of {repeat} rounds, wall time of a fresh subprocess\n")
    trees: dict[int, str] = {}
    for count in (resources, 2 * resources):
        trees[count] = os.path.join(workdir, f"tree-{count}")
        subprocess.run([python, str(HERE / "generate.py"), str(count), trees[count],
                        "--seed", str(seed)], capture_output=True, text=True, check=True)
    # Round after round, each measurement once per round: a machine that slows down for
    # a while (a shared host) slows every measurement alike, not one size's.
    best: dict[tuple[int, str], float] = {}
    summaries: dict[int, str] = {}
    for _ in range(repeat):
        for count, tree in trees.items():
            floor, floor_out, _ = timed([python, "-c", PARSE_FLOOR, tree], 1)
            documents = floor_out.split()[0]
            gate_time, _, gate_err = timed([python, "-m", "gate", "check", tree, "-c", config,
                                            "-f", f"json={os.devnull}", *jobs_option(jobs)],
                                           1, ok=(0, 1))
            summary = next((line for line in gate_err.splitlines()
                            if line.startswith("gate: ")), "")
            match = re.search(r"\((\d+) resource", summary)
            if match is None or int(match.group(1)) != int(documents):
                sys.exit(f"gate and the parse floor disagree on the documents: {summary!r} vs "
                         f"{documents}")
            best[count, "floor"] = min(floor, best.get((count, "floor"), floor))
            best[count, "gate"] = min(gate_time, best.get((count, "gate"), gate_time))
            summaries[count] = summary.removeprefix("gate: ")
    measured = [(count, best[count, "floor"], best[count, "gate"], summaries[count])
                for count in trees]
    print(f"{'resources':>9}  {'floor (s)':>9}  {'gate (s)':>8}  {'ratio':>6}  summary")
    for count, floor, gate_time, summary in measured:
        print(f"{count:9d}  {floor:9.3f}  {gate_time:8.3f}  {gate_time / floor:5.2f}x  {summary}")
    worst = max(gate_time / floor for _, floor, gate_time, _ in measured)
    print(f"\nratio gate check / parse floor: at most {worst:.2f}x "
          f"({'within' if worst <= TARGET_RATIO else 'ABOVE'} the {TARGET_RATIO:g}x target)")
    scaling = measured[1][2] / measured[0][2]
    floor_scaling = measured[1][1] / measured[0][1]
    print(f"gate check {2 * resources} / {resources} resources: {scaling:.2f}x "
          f"({'within' if scaling <= TARGET_SCALING else 'ABOVE'} the {TARGET_SCALING:g}x "
          f"target; the parse floor: {floor_scaling:.2f}x)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000,
                        help="resources in the generated tree (default: 10000)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each measurement; the best counts (default: 3)")
    parser.add_argument("--seed", type=int, default=42, help="generator seed (default: 42)")
    parser.add_argument("--keep", metavar="DIR",
                        help="generate into DIR (must not exist) and keep it, e.g. to profile")
    parser.add_argument("--jobs", type=int, metavar="N",
                        help="pass -j N to gate check (default: gate's own, every CPU)")
    parser.add_argument("--all-policies", action="store_true",
                        help="enable every built-in resource policy and time N and 2N resources")
    args = parser.parse_args(argv)
    if args.resources < 1 or args.repeat < 1:
        parser.error("--resources and --repeat must be at least 1")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.all_policies:
        if args.keep:
            parser.error("--keep does not combine with --all-policies")
        with tempfile.TemporaryDirectory(prefix="gate-bench-") as tmp:
            return run_scaling(tmp, args.resources, args.repeat, args.seed, args.jobs)
    if args.keep:
        if os.path.exists(args.keep):
            parser.error(f"--keep {args.keep}: already exists")
        return run(args.keep, args.resources, args.repeat, args.seed, args.jobs)
    with tempfile.TemporaryDirectory(prefix="gate-bench-") as tmp:
        return run(os.path.join(tmp, "tree"), args.resources, args.repeat, args.seed, args.jobs)


if __name__ == "__main__":
    sys.exit(main())
