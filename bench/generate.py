"""Generate a GitOps-shaped manifest tree of about N resources, for benchmarking gate.

    python bench/generate.py N OUTDIR [--seed 42]

Layout: ``base/<team>/<service>/`` plus full per-environment copies under
``envs/{dev,staging,prod}/<team>/<service>/``. Each service has a Deployment (1-3
containers, often with an init container; 40-80 lines), a Service and a ConfigMap; some
also a CronJob, and some a multi-document ``extras.yaml`` (ServiceAccount,
PodDisruptionBudget, and sometimes a second Service). Most resources pass the built-in
policies; a seeded few use ``:latest`` or untagged images, leave out resource limits or the
``app.kubernetes.io/name`` label, and many dev/staging images are not digest-pinned (which
the ``image-digest`` policy warns about). The output is deterministic for a given N and seed.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

TEAMS = ("checkout", "catalog", "identity", "fulfilment", "search", "growth", "platform",
         "billing", "content", "mobile")
NOUNS = ("cart", "pricing", "inventory", "session", "profile", "review", "shipment", "invoice",
         "coupon", "wishlist", "ledger", "notifier", "gateway", "indexer", "ranker", "media",
         "tax", "refund", "loyalty", "audit", "export", "import", "quote", "stock", "label")
SUFFIXES = ("api", "worker", "web", "sync", "svc", "consumer", "scheduler", "proxy")
ENVS = ("dev", "staging", "prod")
# Share of images pinned by digest, per copy; the rest warn under image-digest.
PIN_RATE = {"base": 0.3, "dev": 0.3, "staging": 0.5, "prod": 0.9}
SIDECARS = (("envoy", "ghcr.io/acme-shop/envoy-sidecar", "1.29.4"),
            ("log-shipper", "ghcr.io/acme-shop/fluent-bit", "3.1.9"),
            ("metrics", "ghcr.io/acme-shop/statsd-exporter", "0.27.2"))
Maker = Callable[[], str]
INITS = (("migrate", "migrations"), ("wait-for-db", "toolbox"), ("fetch-config", "toolbox"))


@dataclass
class Writer:
    """Accumulates resources into files and stops at the requested count."""

    outdir: str
    limit: int
    resources: int = 0
    files: int = 0
    bytes: int = 0
    planted: dict[str, int] = field(default_factory=dict)

    @property
    def full(self) -> bool:
        return self.resources >= self.limit

    def write(self, relpath: str, documents: list[str]) -> None:
        if not documents:
            return
        path = os.path.join(self.outdir, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        text = "---\n".join(documents)
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        self.resources += len(documents)
        self.files += 1
        self.bytes += len(text.encode())

    def plant(self, kind: str) -> None:
        self.planted[kind] = self.planted.get(kind, 0) + 1


class Service:
    def __init__(self, rng: random.Random, team: str, name: str) -> None:
        self.team = team
        self.name = name
        self.version = f"{rng.randint(0, 4)}.{rng.randint(0, 40)}.{rng.randint(0, 12)}"
        self.port = rng.choice((8080, 8000, 3000, 9000))
        self.sidecars = rng.sample(SIDECARS, rng.choices((0, 1, 2), (60, 35, 5))[0])
        self.init = rng.choice(INITS) if rng.random() < 0.4 else None
        self.has_cron = rng.random() < 0.3
        self.has_extras = rng.random() < 0.4
        self.extra_service = rng.random() < 0.3
        self.env_vars = rng.randint(0, 2)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def image(rng: random.Random, w: Writer, repo: str, tag: str, copy: str) -> str:
    roll = rng.random()
    if roll < 0.03:
        w.plant("latest tag")
        return f"{repo}:latest"
    if roll < 0.04:
        w.plant("untagged image")
        return "registry.internal:5000/" + repo.rsplit("/", 1)[1]
    if rng.random() < PIN_RATE[copy]:
        return f"{repo}:{tag}@sha256:{digest(repo + tag)}"
    w.plant("unpinned image (warn)")
    return f"{repo}:{tag}"


def labels(rng: random.Random, w: Writer, svc: Service, component: str, copy: str,
           indent: int, *, allow_missing: bool = True) -> str:
    pad = " " * indent
    out = []
    if allow_missing and rng.random() < 0.03:
        w.plant("missing name label")
        out.append(f"{pad}app: {svc.name}")
    else:
        out.append(f"{pad}app.kubernetes.io/name: {svc.name}")
    out += [f"{pad}app.kubernetes.io/component: {component}",
            f"{pad}app.kubernetes.io/part-of: {svc.team}",
            f"{pad}app.kubernetes.io/managed-by: argocd"]
    if copy != "base":
        out.append(f"{pad}acme.io/environment: {copy}")
    return "\n".join(out)


def metadata(rng: random.Random, w: Writer, svc: Service, name: str, component: str,
             copy: str) -> str:
    lines = ["metadata:", f"  name: {name}"]
    if copy != "base":
        lines.append(f"  namespace: {svc.team}-{copy}")
    lines.append("  labels:")
    lines.append(labels(rng, w, svc, component, copy, 4))
    return "\n".join(lines)


def resources_block(rng: random.Random, w: Writer, indent: int, scale: int,
                    compact: bool) -> str:
    pad = " " * indent
    cpu, mem = 50 * scale, 64 * scale
    limited = rng.random() >= 0.05
    if not limited:
        w.plant("missing limits")
    if compact:  # sidecars and init containers, as people write them: flow style
        limits = f", limits: {{cpu: {cpu * 4}m, memory: {mem * 2}Mi}}" if limited else ""
        return f"{pad}resources: {{requests: {{cpu: {cpu}m, memory: {mem}Mi}}{limits}}}"
    block = [f"{pad}resources:", f"{pad}  requests:", f"{pad}    cpu: {cpu}m",
             f"{pad}    memory: {mem}Mi"]
    if limited:
        block += [f"{pad}  limits:", f"{pad}    cpu: {cpu * 4}m",
                  f"{pad}    memory: {mem * 2}Mi"]
    return "\n".join(block)


def security(indent: int, compact: bool) -> str:
    pad = " " * indent
    if compact:
        return (f"{pad}securityContext: {{allowPrivilegeEscalation: false, "
                "readOnlyRootFilesystem: true}")
    return "\n".join([f"{pad}securityContext:", f"{pad}  allowPrivilegeEscalation: false",
                      f"{pad}  readOnlyRootFilesystem: true", f"{pad}  capabilities:",
                      f'{pad}    drop: ["ALL"]'])


def container(rng: random.Random, w: Writer, svc: Service, copy: str, indent: int,
              name: str, repo: str, tag: str, *, main: bool = False,
              args: list[str] | None = None) -> str:
    pad = " " * indent
    lines = [f"{pad}- name: {name}", f"{pad}  image: {image(rng, w, repo, tag, copy)}"]
    if args:
        lines.append(f"{pad}  args: [{', '.join(repr(a).replace(chr(39), chr(34)) for a in args)}]")
    if main:
        lines += [f"{pad}  ports:", f"{pad}    - name: http",
                  f"{pad}      containerPort: {svc.port}"]
        if svc.env_vars:
            lines.append(f"{pad}  env:")
            for i in range(svc.env_vars):
                lines += [f"{pad}    - name: {svc.name.upper().replace('-', '_')}_OPT_{i}",
                          f'{pad}      value: "{rng.randint(1, 500)}"']
        lines += [f"{pad}  envFrom:", f"{pad}    - configMapRef:",
                  f"{pad}        name: {svc.name}-config"]
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/livez")):
            lines += [f"{pad}  {probe}:", f"{pad}    httpGet:", f"{pad}      path: {path}",
                      f"{pad}      port: http", f"{pad}    periodSeconds: {rng.choice((5, 10))}"]
    lines.append(resources_block(rng, w, indent + 2, 4 if main else 1, compact=not main))
    lines.append(security(indent + 2, compact=not main))
    return "\n".join(lines)


def pod_spec(rng: random.Random, w: Writer, svc: Service, copy: str, indent: int,
             *, job: bool = False) -> str:
    pad = " " * indent
    lines = [f"{pad}serviceAccountName: {svc.name}"]
    if job:
        lines.append(f"{pad}restartPolicy: OnFailure")
    lines += [f"{pad}securityContext:", f"{pad}  runAsNonRoot: true", f"{pad}  runAsUser: 10001",
              f"{pad}  seccompProfile:", f"{pad}    type: RuntimeDefault"]
    repo = f"ghcr.io/acme-shop/{svc.team}/{svc.name}"
    if svc.init and not job:
        init_name, init_repo = svc.init
        lines.append(f"{pad}initContainers:")
        lines.append(container(rng, w, svc, copy, indent + 2, init_name,
                               f"ghcr.io/acme-shop/{init_repo}", "1.4.0", args=[init_name]))
    lines.append(f"{pad}containers:")
    if job:
        lines.append(container(rng, w, svc, copy, indent + 2, "job", repo, svc.version,
                               args=["run-nightly", "--since", "24h"]))
    else:
        lines.append(container(rng, w, svc, copy, indent + 2, svc.name, repo, svc.version,
                               main=True))
        for name, side_repo, tag in svc.sidecars:
            lines.append(container(rng, w, svc, copy, indent + 2, name, side_repo, tag))
    return "\n".join(lines)


def deployment(rng: random.Random, w: Writer, svc: Service, copy: str) -> str:
    replicas = {"base": 2, "dev": 1, "staging": 2, "prod": rng.choice((3, 4, 6))}[copy]
    return f"""# {svc.team}/{svc.name} ({copy})
apiVersion: apps/v1
kind: Deployment
{metadata(rng, w, svc, svc.name, "server", copy)}
spec:
  replicas: {replicas}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {svc.name}
  template:
    metadata:
      labels:
{labels(rng, w, svc, "server", copy, 8, allow_missing=False)}
    spec:
{pod_spec(rng, w, svc, copy, 6)}
"""


def service(rng: random.Random, w: Writer, svc: Service, copy: str, name: str) -> str:
    return f"""apiVersion: v1
kind: Service
{metadata(rng, w, svc, name, "server", copy)}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {svc.name}
  ports:
    - name: http
      port: 80
      targetPort: http
"""


def configmap(rng: random.Random, w: Writer, svc: Service, copy: str) -> str:
    data = "\n".join(f'  SETTING_{i}: "{rng.randint(0, 10_000)}"' for i in range(rng.randint(3, 8)))
    return f"""apiVersion: v1
kind: ConfigMap
{metadata(rng, w, svc, svc.name + "-config", "config", copy)}
data:
  LOG_LEVEL: {"debug" if copy == "dev" else "info"}
{data}
"""


def cronjob(rng: random.Random, w: Writer, svc: Service, copy: str) -> str:
    return f"""apiVersion: batch/v1
kind: CronJob
{metadata(rng, w, svc, svc.name + "-nightly", "batch", copy)}
spec:
  schedule: "{rng.randint(0, 59)} {rng.randint(0, 5)} * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 2
      template:
        metadata:
          labels:
{labels(rng, w, svc, "batch", copy, 12, allow_missing=False)}
        spec:
{pod_spec(rng, w, svc, copy, 10, job=True)}
"""


def extras(rng: random.Random, w: Writer, svc: Service, copy: str) -> list[Maker]:
    def account() -> str:
        return f"""apiVersion: v1
kind: ServiceAccount
{metadata(rng, w, svc, svc.name, "server", copy)}
automountServiceAccountToken: false
"""

    def budget() -> str:
        return f"""apiVersion: policy/v1
kind: PodDisruptionBudget
{metadata(rng, w, svc, svc.name, "server", copy)}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {svc.name}
"""

    makers: list[Maker] = [account, budget]
    if svc.extra_service:
        makers.append(partial(service, rng, w, svc, copy, svc.name + "-headless"))
    return makers


def emit(w: Writer, relpath: str, makers: list[Maker]) -> None:
    """Render documents (recording what they plant) only while the tree needs more."""
    documents: list[str] = []
    for make in makers:
        if w.resources + len(documents) >= w.limit:
            break
        documents.append(make())
    w.write(relpath, documents)


def generate(n: int, outdir: str, seed: int = 42) -> Writer:
    rng = random.Random(seed)
    w = Writer(outdir, n)
    index = 0
    while not w.full:
        team = TEAMS[index % len(TEAMS)]
        name = f"{NOUNS[(index // len(TEAMS)) % len(NOUNS)]}-{SUFFIXES[index % len(SUFFIXES)]}"
        if index >= len(TEAMS) * len(NOUNS):
            name += f"-{index // (len(TEAMS) * len(NOUNS))}"
        svc = Service(rng, team, name)
        for copy in ("base", *ENVS):
            where = f"base/{team}/{name}" if copy == "base" else f"envs/{copy}/{team}/{name}"
            emit(w, f"{where}/deployment.yaml", [partial(deployment, rng, w, svc, copy)])
            emit(w, f"{where}/service.yaml", [partial(service, rng, w, svc, copy, name)])
            emit(w, f"{where}/configmap.yaml", [partial(configmap, rng, w, svc, copy)])
            if svc.has_cron:
                emit(w, f"{where}/cronjob.yaml", [partial(cronjob, rng, w, svc, copy)])
            if svc.has_extras:
                emit(w, f"{where}/extras.yaml", extras(rng, w, svc, copy))
        index += 1
    return w


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of resources (Kubernetes documents)")
    parser.add_argument("outdir", help="directory to write (created if missing)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("N must be at least 1")
    w = generate(args.n, args.outdir, args.seed)
    planted = ", ".join(f"{count} {kind}" for kind, count in sorted(w.planted.items()))
    print(f"wrote {w.resources} resources in {w.files} files ({w.bytes / 1e6:.1f} MB) "
          f"to {args.outdir}; planted: {planted or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
