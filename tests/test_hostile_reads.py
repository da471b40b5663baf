"""A hostile pull request cannot make gate read the network or outside the repository.

Every case runs on real directories and real git repositories in tmp. The
"no network" cases point remote references at an HTTP server of the test's own
on 127.0.0.1 and assert it received nothing, with ``git`` on PATH replaced by a
wrapper (outside the repository) that logs every invocation, asserting none
fetched, cloned, listed a remote or touched a submodule. Runs that could read
without bound (a link to /dev/zero, a FIFO, link loops) run in a child process
with a memory limit and a timeout.
"""
from __future__ import annotations

import http.server
import os
import resource
import shutil
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.errors import GateError
from gate.git.trees import GitTree
from gate.loading.renderers import RenderError, helm
from gate.loading.renderers.kustomize import binary as kustomize_binary
from gate.loading.renderers.kustomize import inputs as kustomize_inputs
from gate.loading.renderers.kustomize.builder import render_builtin
from gate.loading.trees import (
    DANGLING,
    LEAVES,
    LFS_POINTER,
    LOOP,
    MAX_FILE_BYTES,
    SPECIAL,
    TOO_LARGE,
    RefusedPath,
    WorkTree,
    checkout_files,
    walk_files,
)
from tests.gitrepo import ENV as GIT_ENV
from tests.gitrepo import GitRepo
from tests.manifests import WEB_DEPLOYMENT
from tests.processes import run

MEMORY_LIMIT = 1024 * 1024 * 1024  # bytes of address space for a child gate
TIMEOUT = 90  # seconds: a walk that never ends fails the test instead of hanging it
REAL_GIT = shutil.which("git") or "/usr/bin/git"
KUBECTL = kustomize_binary.find_binary()
NEEDS_BINARY = pytest.mark.skipif(KUBECTL is None, reason="no kustomize or kubectl on PATH")

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {app.kubernetes.io/name: settings}
data: {a: b}
"""
LFS_TEXT = ("version https://git-lfs.github.com/spec/v1\n"
            "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
            "size 12345\n")


# -- helpers ---------------------------------------------------------------------------


class Server:
    """An HTTP server on 127.0.0.1 that answers every request and counts it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                body = CONFIGMAP.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_HEAD = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    found = Server()
    # The counter works: a request of the test's own is seen, then forgotten.
    with urllib.request.urlopen(found.url + "/probe", timeout=5) as answer:
        assert answer.status == 200
    assert found.requests == ["/probe"]
    found.requests.clear()
    yield found
    found.close()


@pytest.fixture
def git_log(tmp_path: Path) -> Path:
    """A logging ``git`` wrapper in a directory outside every repository of the test."""
    wrappers = tmp_path / "wrappers"
    wrappers.mkdir()
    log = tmp_path / "git.log"
    script = wrappers / "git"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{REAL_GIT}" "$@"\n')
    script.chmod(0o755)
    log.write_text("")
    return log


def no_remote_git(log: Path) -> None:
    for line in log.read_text().splitlines():
        words = line.split()
        assert not {"fetch", "clone", "ls-remote", "submodule", "pull"} & set(words), line


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_gate(cwd: Path, *args: str, git_log: Path | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m gate ARGS`` in a child with bounded memory and time."""
    environment = {k: v for k, v in GIT_ENV.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    if git_log is not None:
        environment["PATH"] = f"{git_log.parent / 'wrappers'}{os.pathsep}{environment['PATH']}"
    environment.update(env or {})
    return run([sys.executable, "-m", "gate", *args], cwd=cwd, env=environment,
               timeout=TIMEOUT, before_exec=_limit_memory)


def hostile_links(root: Path, outside: Path) -> None:
    """Every kind of link and special file a working tree can hold, as manifests."""
    (outside / "secret.yaml").write_text(CONFIGMAP.replace("settings", "stolen"))
    (root / "apps").mkdir(parents=True, exist_ok=True)
    os.symlink("/etc/passwd", root / "apps/passwd.yaml")
    os.symlink(os.path.relpath(outside / "secret.yaml", root / "apps"),
               root / "apps/outside.yaml")
    os.symlink("nowhere.yaml", root / "apps/dangling.yaml")
    os.symlink("/dev/zero", root / "apps/zero.yaml")
    os.mkfifo(root / "apps/fifo.yaml")
    os.symlink("loop-b.yaml", root / "apps/loop-a.yaml")
    os.symlink("loop-a.yaml", root / "apps/loop-b.yaml")
    # Two directory links that lead back up: a walk that follows them never ends.
    (root / "loops/one").mkdir(parents=True)
    os.symlink("..", root / "loops/one/up")
    os.symlink("../one", root / "loops/one/again")


# -- the working tree ------------------------------------------------------------------


def test_work_tree_refuses_every_link_out_and_every_special_file(tmp_path: Path) -> None:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    hostile_links(root, outside)
    tree = WorkTree(str(root))
    expected = {
        "apps/passwd.yaml": LEAVES, "apps/outside.yaml": LEAVES, "apps/zero.yaml": LEAVES,
        "apps/dangling.yaml": DANGLING, "apps/fifo.yaml": SPECIAL,
        "apps/loop-a.yaml": LOOP, "apps/loop-b.yaml": LOOP,
    }
    for path, reason in expected.items():
        assert tree.is_file(path), path  # listed: whoever needs it says why it is refused
        with pytest.raises(RefusedPath) as caught:
            tree.read_bytes(path)
        assert caught.value.reason == reason and caught.value.path == path
    # Walks end, list each refused entry once, and never leave the root.
    files = walk_files(tree)
    assert sorted(files) == sorted(expected)
    assert len(checkout_files(tree)) < 100


def test_a_link_through_a_directory_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "x.yaml").write_text(CONFIGMAP)
    os.symlink(str(outside), root / "out")
    tree = WorkTree(str(root))
    assert not tree.is_dir("out") and tree.list_dir("out") == []
    with pytest.raises(RefusedPath, match=LEAVES):
        tree.read_bytes("out/x.yaml")


def test_a_link_inside_the_root_is_followed_and_judged_once(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real/cm.yaml").write_text(CONFIGMAP)
    os.symlink("real", tmp_path / "alias")
    os.symlink("real/cm.yaml", tmp_path / "current.yaml")
    os.symlink("elsewhere/cm.yaml", tmp_path / "moved.yaml")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden/cm.yaml").write_text(CONFIGMAP)
    os.symlink(".hidden", tmp_path / "shown")
    tree = WorkTree(str(tmp_path))
    assert tree.read_bytes("alias/cm.yaml") == tree.read_bytes("current.yaml") == \
        CONFIGMAP.encode()
    assert tree.is_dir("alias") and tree.resolve("alias/cm.yaml") == "real/cm.yaml"
    # Each file once, by its own path; a link to a hidden directory is its only name;
    # a dangling link is listed (reading it says why).
    assert sorted(walk_files(tree)) == ["moved.yaml", "real/cm.yaml", "shown/cm.yaml"]
    # A copy for a binary gives every name a checkout gives.
    assert set(checkout_files(tree)) >= {"alias/cm.yaml", "current.yaml", "real/cm.yaml"}


def test_files_over_the_bound_are_refused_without_being_read(tmp_path: Path) -> None:
    with open(tmp_path / "big.yaml", "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing to write
    (tmp_path / "fits.yaml").write_bytes(b"a: 1\n")
    tree = WorkTree(str(tmp_path))
    with pytest.raises(RefusedPath, match=TOO_LARGE):
        tree.read_bytes("big.yaml")
    assert tree.read_bytes("fits.yaml") == b"a: 1\n"


@pytest.mark.e2e
def test_gate_check_reports_each_refused_path_and_ends(tmp_path: Path) -> None:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    hostile_links(root, outside)
    (root / "ok.yaml").write_text(CONFIGMAP)
    done = run_gate(root, "check", ".")
    assert done.returncode == 2, done.stdout + done.stderr
    for path, reason in (("apps/passwd.yaml", LEAVES), ("apps/outside.yaml", LEAVES),
                         ("apps/zero.yaml", LEAVES), ("apps/dangling.yaml", DANGLING),
                         ("apps/fifo.yaml", SPECIAL), ("apps/loop-a.yaml", LOOP)):
        assert f"{path}: error: cannot read: {reason}" in done.stdout, done.stdout
    assert "stolen" not in done.stdout and "root:" not in done.stdout


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["builtin", "binary"])
@pytest.mark.parametrize("link", ["/etc/passwd", "OUTSIDE", "/dev/zero", "dangling.yaml"])
def test_a_kustomize_resource_that_is_a_link_out_is_refused(
        tmp_path: Path, mode: str, link: str) -> None:
    if mode == "binary" and KUBECTL is None:
        pytest.skip("no kustomize or kubectl on PATH")
    root, outside = tmp_path / "repo", tmp_path / "outside"
    (root / "overlay").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.yaml").write_text(CONFIGMAP.replace("settings", "stolen"))
    target = os.path.relpath(outside / "secret.yaml", root / "overlay") if link == "OUTSIDE" \
        else link
    os.symlink(target, root / "overlay/link.yaml")
    (root / "overlay/cm.yaml").write_text(CONFIGMAP)
    (root / "overlay/kustomization.yaml").write_text("resources:\n- cm.yaml\n- link.yaml\n")
    done = run_gate(root, "check", f"--kustomize={mode}", ".")
    assert done.returncode == 2, done.stdout + done.stderr
    reason = DANGLING if link == "dangling.yaml" else LEAVES
    assert f"overlay/link.yaml: cannot read: {reason}" in done.stdout, done.stdout
    assert "stolen" not in done.stdout


@pytest.mark.e2e
@NEEDS_BINARY
def test_a_symlinked_base_inside_the_repository_renders_with_the_binary(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base/cm.yaml").write_text(CONFIGMAP)
    (tmp_path / "base/kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (tmp_path / "overlay").mkdir()
    os.symlink("../base", tmp_path / "overlay/linked")
    (tmp_path / "overlay/kustomization.yaml").write_text(
        "namePrefix: p-\nresources: [linked]\n")
    done = run_gate(tmp_path, "check", "--kustomize=binary", "--format=json", "overlay")
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"p-settings"' in done.stdout


def test_the_binary_checkout_holds_no_link_and_nothing_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    hostile_links(root, outside)
    (root / "apps/cm.yaml").write_text(CONFIGMAP)
    os.symlink("cm.yaml", root / "apps/alias.yaml")
    copy = tmp_path / "copy"
    kustomize_binary._write_tree(WorkTree(str(root)), str(copy), [""])
    written = {str(p.relative_to(copy)) for p in copy.rglob("*") if not p.is_dir()}
    assert written == {"apps/cm.yaml", "apps/alias.yaml"}
    assert not any(p.is_symlink() for p in copy.rglob("*"))


# -- Helm ------------------------------------------------------------------------------


def _chart(root: Path) -> Path:
    chart = root / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 1.0.0\n")
    (chart / "templates/cm.yaml").write_text(CONFIGMAP)
    return chart


@pytest.mark.parametrize("link", ["/etc/passwd", "../../../outside/secret.yaml", "/dev/zero",
                                  "missing.yaml"])
def test_a_chart_file_that_links_out_is_never_copied(tmp_path: Path, link: str) -> None:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("stolen: true\n")
    chart = _chart(root)
    os.symlink(link, chart / "templates/link.yaml")
    with pytest.raises(RenderError, match=r"cannot read chart/templates/link.yaml: "
                                          r"(symbolic link leaves|dangling)"):
        helm._materialise_chart(WorkTree(str(root)), "chart", str(tmp_path / "copy"))
    assert not any("stolen" in p.read_text() for p in (tmp_path / "copy").rglob("*.yaml"))


def test_a_chart_with_a_directory_link_loop_is_copied_once(tmp_path: Path) -> None:
    chart = _chart(tmp_path)
    os.symlink("..", chart / "templates/up")
    os.symlink("../templates", chart / "templates/again")
    os.symlink("cm.yaml", chart / "templates/alias.yaml")
    copied = helm._materialise_chart(WorkTree(str(tmp_path)), "chart", str(tmp_path / "copy"))
    assert copied == {"chart/Chart.yaml", "chart/templates/cm.yaml",
                      "chart/templates/alias.yaml"}
    assert (tmp_path / "copy/chart/templates/alias.yaml").read_text() == CONFIGMAP


@pytest.mark.e2e
def test_helm_template_never_updates_dependencies_nor_sees_a_proxy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "helm.args"
    fake = tmp_path / "bin/helm"
    fake.parent.mkdir()
    fake.write_text(f"#!{sys.executable}\nimport os, sys\n"
                    f"open({str(record)!r}, 'w').write(repr((sys.argv, dict(os.environ))))\n")
    fake.chmod(0o755)
    monkeypatch.setenv(helm.HELM_ENV, str(fake))
    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "GIT_DIR"):
        monkeypatch.setenv(name, "http://proxy.example:3128")
    chart = _chart(tmp_path / "repo")
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n"
        "- {name: redis, version: 1.0.0, repository: https://charts.example.com}\n")
    (chart / "Chart.lock").write_text("dependencies: []\n")
    helm.render(WorkTree(str(tmp_path / "repo")), "chart", [], "web")
    argv, environment = eval(record.read_text())  # the test's own repr
    assert not any(arg.startswith(("--dependency-update", "--repo")) for arg in argv)
    assert environment["HTTPS_PROXY"] == environment["https_proxy"] == "http://127.0.0.1:9"
    assert "NO_PROXY" not in environment and "GIT_DIR" not in environment


# -- remote references -----------------------------------------------------------------


def _remote_cases(url: str) -> list[tuple[str, str, str]]:
    """(kustomization text, the field that is refused, the reference) for each kind."""
    port_host = url.removeprefix("http://")
    cases = [
        ("resources", f"{url}/configmap.yaml"),
        ("resources", f"git::{url}/org/repo.git//base?ref=main"),
        ("resources", f"{port_host}/org/repo//base?ref=v1"),
        ("resources", "github.com/org/repo//base?ref=v1"),
        ("resources", "git@github.com:org/repo.git//base"),
        ("resources", f"ssh://git@{port_host}/org/repo.git//base"),
        ("resources", "file:///tmp/elsewhere/repo?ref=main"),
        ("bases", f"{url}/base.yaml"),
        ("components", f"git::{url}/org/components.git//c?ref=main"),
        ("crds", f"{url}/crd.yaml"),
        ("configurations", f"{url}/config.yaml"),
        ("transformers", f"{url}/transformer.yaml"),
    ]
    found = [(f"resources:\n- cm.yaml\n- {ref}\n" if field == "resources" else
              f"resources: [cm.yaml]\n{field}:\n- {ref}\n", field, ref) for field, ref in cases]
    found.append((f"resources: [cm.yaml]\nopenapi:\n  path: {url}/schema.json\n",
                  "openapi.path", f"{url}/schema.json"))
    found.append(("resources: [cm.yaml]\nhelmCharts:\n- name: redis\n"
                  f"  repo: {url}/charts\n  version: 1.0.0\n", "helmCharts[0].repo",
                  f"{url}/charts"))
    return found


def test_every_remote_reference_is_refused_at_its_line(tmp_path: Path, server: Server) -> None:
    for index, (text, field, ref) in enumerate(_remote_cases(server.url)):
        directory = tmp_path / str(index)
        directory.mkdir()
        (directory / "cm.yaml").write_text(CONFIGMAP)
        (directory / "kustomization.yaml").write_text(text)
        with pytest.raises(RenderError) as caught:
            kustomize_inputs.check_local(WorkTree(str(directory)), "")
        assert caught.value.file == "kustomization.yaml"
        assert caught.value.line == text.count("\n", 0, text.index(ref)) + 1
        assert caught.value.message.startswith(field), caught.value.message
        assert repr(ref) in caught.value.message and "gate reads no network" in \
            caught.value.message
    assert server.requests == []


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["auto", "binary", "builtin"])
def test_gate_check_fetches_no_remote_reference(tmp_path: Path, server: Server, git_log: Path,
                                                mode: str) -> None:
    if mode == "binary" and KUBECTL is None:
        pytest.skip("no kustomize or kubectl on PATH")
    cases = _remote_cases(server.url)
    for index, (text, _, _) in enumerate(cases):
        (tmp_path / f"repo/o{index}").mkdir(parents=True)
        (tmp_path / f"repo/o{index}/cm.yaml").write_text(CONFIGMAP)
        (tmp_path / f"repo/o{index}/kustomization.yaml").write_text(text)
    done = run_gate(tmp_path / "repo", "check", f"--kustomize={mode}", ".", git_log=git_log)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout.count("kustomization.yaml:") >= len(cases), done.stdout
    assert server.requests == []
    no_remote_git(git_log)


@pytest.mark.e2e
@NEEDS_BINARY
def test_a_missing_resource_is_not_handed_to_the_binary_as_a_remote(tmp_path: Path) -> None:
    # kustomize takes a name it cannot find locally for a repository and clones it.
    (tmp_path / "kustomization.yaml").write_text("resources:\n- example.com/org/repo\n")
    with pytest.raises(GateError, match=r"remote resources are not supported|no such file"):
        kustomize_binary.render_with_binary(WorkTree(str(tmp_path)), "", list(KUBECTL or []))


@pytest.mark.e2e
@NEEDS_BINARY
def test_a_kustomization_gate_cannot_parse_never_reaches_the_binary(
        tmp_path: Path, server: Server) -> None:
    # A duplicate key: a lenient parser takes the second list, which gate never checked.
    (tmp_path / "cm.yaml").write_text(CONFIGMAP)
    (tmp_path / "kustomization.yaml").write_text(
        f"resources: [cm.yaml]\nresources:\n- {server.url}/configmap.yaml\n")
    with pytest.raises(RenderError):
        kustomize_binary.render_with_binary(WorkTree(str(tmp_path)), "", list(KUBECTL or []))
    assert server.requests == []


def test_a_path_out_of_the_tree_never_reaches_the_binary(tmp_path: Path) -> None:
    (tmp_path / "overlay").mkdir()
    (tmp_path / "overlay/kustomization.yaml").write_text(
        "resources:\n- ../../../../etc\n")
    with pytest.raises(RenderError, match="leaves the repository"):
        kustomize_inputs.check_local(WorkTree(str(tmp_path)), "overlay")


# -- gate diff: git sides and the working tree -----------------------------------------


def _hostile_repository(path: Path, url: str) -> GitRepo:
    repo = GitRepo.init(path)
    repo.write("apps/web.yaml", WEB_DEPLOYMENT)
    repo.write("overlay/cm.yaml", CONFIGMAP)
    repo.write("overlay/kustomization.yaml", "resources: [cm.yaml]\n")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "base")
    repo.git("checkout", "-qb", "change")
    repo.write("overlay/kustomization.yaml",
               f"resources:\n- cm.yaml\n- {url}/remote.yaml\n- link.yaml\n")
    os.symlink("/etc/passwd", path / "overlay/link.yaml")
    os.symlink("../../outside.yaml", path / "apps/out.yaml")
    os.symlink("web.yaml", path / "apps/alias.yaml")
    repo.write("apps/lfs.yaml", LFS_TEXT)
    repo.git("add", "-A")
    repo.git("commit", "-qm", "hostile")
    return repo


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["auto", "builtin"])
def test_gate_diff_refuses_links_remote_references_and_lfs_pointers(
        tmp_path: Path, server: Server, git_log: Path, mode: str) -> None:
    (tmp_path / "outside.yaml").write_text(CONFIGMAP.replace("settings", "stolen"))
    repo = _hostile_repository(tmp_path / "repo", server.url)
    done = run_gate(repo.path, "diff", "--base", "main", f"--kustomize={mode}",
                    git_log=git_log)
    assert done.returncode == 2, done.stdout + done.stderr
    out = done.stdout
    assert "apps/out.yaml: error: cannot read: symbolic link leaves the repository" in out, out
    assert f"apps/lfs.yaml: error: {LFS_POINTER}" in out, out
    assert "remote" in out and "gate reads no network" in out, out
    assert "stolen" not in out
    assert server.requests == []
    no_remote_git(git_log)


@pytest.mark.e2e
def test_gate_diff_worktree_ends_on_link_loops_and_refuses_special_files(
        tmp_path: Path, server: Server, git_log: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write("apps/web.yaml", WEB_DEPLOYMENT)
    repo.git("add", "-A")
    repo.git("commit", "-qm", "base")
    (tmp_path / "outside").mkdir()
    hostile_links(repo.path, tmp_path / "outside")
    done = run_gate(repo.path, "diff", "--worktree", git_log=git_log)
    assert done.returncode == 2, done.stdout + done.stderr
    # (git lists no FIFO among untracked files: it is no change of the working tree.)
    for path, reason in (("apps/zero.yaml", LEAVES), ("apps/loop-a.yaml", LOOP),
                         ("apps/passwd.yaml", LEAVES), ("apps/dangling.yaml", DANGLING)):
        assert f"{path}: error: cannot read: {reason}" in done.stdout, done.stdout
    assert server.requests == []
    no_remote_git(git_log)


@pytest.mark.e2e
def test_git_tree_follows_links_inside_and_refuses_the_rest(tmp_path: Path) -> None:
    from gate.git.repository import open_repository

    repo = _hostile_repository(tmp_path / "repo", "http://127.0.0.1:9")
    os.symlink("../..", repo.path / "apps/up")  # a loop, committed
    repo.git("add", "-A")
    repo.git("commit", "-qm", "loop")
    with open_repository(str(repo.path)) as repository:
        tree = repository.tree_at(repository.resolve("HEAD"))
        assert tree.read_bytes("apps/alias.yaml") == WEB_DEPLOYMENT.encode()
        with pytest.raises(RefusedPath, match=LEAVES):
            tree.read_bytes("overlay/link.yaml")
        with pytest.raises(RefusedPath, match=LEAVES):
            tree.read_bytes("apps/out.yaml")
        with pytest.raises(RefusedPath, match=LEAVES):
            tree.read_bytes("apps/up/x.yaml")
        files = walk_files(tree)
        assert "apps/web.yaml" in files and "apps/alias.yaml" not in files
        assert len(files) == len(set(files)) < 20
        with pytest.raises(GateError, match=r"resources\[1\]: .*gate reads no network"):
            render_builtin(tree, "overlay")
        with pytest.raises(GateError, match=r"link\.yaml: cannot read: symbolic link leaves"):
            render_builtin(_Without(tree, "overlay/kustomization.yaml",
                                    b"resources: [link.yaml]\n"), "overlay")


class _Without:
    """A tree with one file's content replaced (the rest read through ``tree``)."""

    def __init__(self, tree: GitTree, path: str, content: bytes) -> None:
        self.tree, self.path, self.content = tree, path, content
        self.label = tree.label

    def read_bytes(self, path: str) -> bytes:
        return self.content if path == self.path else self.tree.read_bytes(path)

    def is_file(self, path: str) -> bool:
        return self.tree.is_file(path)

    def is_dir(self, path: str) -> bool:
        return self.tree.is_dir(path)

    def list_dir(self, path: str) -> list[str]:
        return self.tree.list_dir(path)
