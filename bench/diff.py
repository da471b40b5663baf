"""Benchmark ``gate diff`` for a one-file change against a full ``gate check``.

    python bench/diff.py [--resources 10000] [--repeat 3] [--kustomize builtin] [--keep DIR]

Generates a Kustomize repository (a base per service and dev/staging/prod overlays
rendering it) whose overlays render about ``--resources`` resources, commits it to a
fresh git repository, then commits a one-file change (one overlay's image tag), and
times, each as a fresh subprocess, best of ``--repeat``:

- ``gate check REPO`` (every overlay rendered and judged);
- ``gate diff --base HEAD~1`` (only the overlay the change reaches, at both sides);
- ``gate diff --base HEAD~2`` after a second commit that changes one *base* file, which
  three overlays render;
- the one-file diff again with change governance on (``-c`` a config with environments,
  a release calendar, ``change-ticket`` and ``promotion-certified``): promotion reads what
  staging deploys at the base, so this costs the staging overlays' rendering.

Target (issue 3): the one-file diff costs at most 10% of the full check. This is a
benchmark to run by hand, not a timed test.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENVIRONMENTS = ("dev", "staging", "prod")
RESOURCES_PER_SERVICE = 3  # Deployment, Service, ConfigMap
TARGET_FRACTION = 0.10

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {svc}
  labels:
    app.kubernetes.io/name: {svc}
    app.kubernetes.io/part-of: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: {svc}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {svc}
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/{svc}:1.0.{n}
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
          readinessProbe:
            httpGet: {{path: /healthz, port: 8080}}
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{cpu: 500m, memory: 256Mi}}
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {svc}
  labels:
    app.kubernetes.io/name: {svc}
spec:
  selector:
    app.kubernetes.io/name: {svc}
  ports:
    - port: 80
      targetPort: 8080
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {svc}-settings
  labels:
    app.kubernetes.io/name: {svc}
data:
  mode: fast
  region: eu-west-1
"""

BASE_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - service.yaml
  - configmap.yaml
"""

OVERLAY_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop-{env}
resources:
  - ../../../base/{svc}
images:
  - name: ghcr.io/acme/{svc}
    newTag: "{tag}"
replicas:
  - name: {svc}
    count: {replicas}
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def generate(repo: Path, resources: int) -> int:
    """Write the repository; returns the number of services."""
    services = max(1, resources // (RESOURCES_PER_SERVICE * len(ENVIRONMENTS)))
    for n in range(services):
        svc = f"svc{n:04d}"
        base = repo / "base" / svc
        write(base / "deployment.yaml", DEPLOYMENT.format(svc=svc, n=n))
        write(base / "service.yaml", SERVICE.format(svc=svc))
        write(base / "configmap.yaml", CONFIGMAP.format(svc=svc))
        write(base / "kustomization.yaml", BASE_KUSTOMIZATION)
        for index, env in enumerate(ENVIRONMENTS):
            write(repo / "overlays" / env / svc / "kustomization.yaml",
                  OVERLAY_KUSTOMIZATION.format(env=env, svc=svc, tag=f"1.{index}.{n}",
                                               replicas=index + 1))
    return services


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=repo, env=env,
                   check=True, capture_output=True)


def timed(argv: list[str], cwd: Path, repeat: int) -> tuple[float, str]:
    best = float("inf")
    summary = ""
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode not in (0, 1):
            sys.exit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
        best = min(best, elapsed)
        summary = (proc.stdout.strip().splitlines() or [""])[-1]
    return best, summary


GOVERNANCE = """\
environments:
  - {name: dev, paths: ["overlays/dev/**"]}
  - {name: staging, paths: ["overlays/staging/**"]}
  - {name: prod, paths: ["overlays/prod/**"]}
calendar:
  windows:
    - {name: office-hours, kind: allow, schedule: "0 9 * * 1-5", duration: 8h,
       timeZone: Europe/Rome, environments: [prod]}
  freezes:
    - {name: year-end, start: "2026-12-18T00:00:00+01:00", end: "2027-01-04T00:00:00+01:00",
       environments: [prod]}
policies:
  change-ticket: {enabled: true}
  promotion-certified: {enabled: true}
"""


def run(repo: Path, resources: int, repeat: int, kustomize: str) -> int:
    services = generate(repo, resources)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    overlay = repo / "overlays" / "prod" / "svc0000" / "kustomization.yaml"
    overlay.write_text(overlay.read_text().replace('newTag: "1.2.0"', "newTag: latest"))
    git(repo, "commit", "-q", "-am", "prod: svc0000 to latest")
    base = repo / "base" / "svc0001" / "deployment.yaml"
    base.write_text(base.read_text().replace("cpu: 500m", "cpu: 600m"))
    git(repo, "commit", "-q", "-am", "svc0001: more cpu")

    gate = [sys.executable, "-m", "gate"]
    common = ["--kustomize", kustomize, "-f", "json=/dev/null", "-f", "text"]
    rendered = services * RESOURCES_PER_SERVICE * len(ENVIRONMENTS)
    print(f"repository: {services} services, {rendered} rendered resources in "
          f"{services * len(ENVIRONMENTS)} overlays; kustomize={kustomize}")
    full, full_summary = timed([*gate, "check", ".", *common], repo, repeat)
    one, one_summary = timed([*gate, "diff", "--base", "HEAD~2", "--head", "HEAD~1", *common],
                             repo, repeat)
    base_change, base_summary = timed([*gate, "diff", "--base", "HEAD~1", *common], repo,
                                      repeat)
    config = repo.parent / "governance.yaml"
    config.write_text(GOVERNANCE, encoding="utf-8")
    governed, governed_summary = timed(
        [*gate, "diff", "--base", "HEAD~2", "--head", "HEAD~1", "-c", str(config),
         "--now", "2026-11-30T10:00:00+01:00", *common], repo, repeat)
    rows = [
        ("gate check (whole repository)", full, full_summary),
        ("gate diff, one overlay file changed", one, one_summary),
        ("gate diff, one base file changed (3 overlays)", base_change, base_summary),
        ("gate diff, one overlay file, with governance", governed, governed_summary),
    ]
    print(f"\n{'measurement':48} {'wall (s)':>9}  summary")
    for name, seconds, summary in rows:
        print(f"{name:48} {seconds:9.3f}  {summary}")
    fraction = one / full
    verdict = "within" if fraction <= TARGET_FRACTION else "ABOVE"
    print(f"\none-file diff / full check: {fraction:.1%} ({verdict} the "
          f"{TARGET_FRACTION:.0%} target); base-file diff / full check: {base_change / full:.1%}; "
          f"governed one-file diff / full check: {governed / full:.1%}")
    return 0 if fraction <= TARGET_FRACTION else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kustomize", default="builtin", choices=("builtin", "binary", "auto"))
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it")
    args = parser.parse_args(argv)
    if args.keep:
        repo = Path(args.keep)
        repo.mkdir(parents=True, exist_ok=False)
        return run(repo, args.resources, args.repeat, args.kustomize)
    with tempfile.TemporaryDirectory(prefix="gate-diff-bench-") as tmp:
        return run(Path(tmp) / "repo", args.resources, args.repeat, args.kustomize)


if __name__ == "__main__":
    raise SystemExit(main())
