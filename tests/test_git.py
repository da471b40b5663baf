"""The git layer of ``gate diff``, against real repositories built with the git binary."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from gate.errors import GateError
from gate.git.diffs import Change
from gate.git.repository import Repository, open_repository
from gate.git.runner import GitError
from gate.loading.trees import SUBMODULE, FileTree, RefusedPath, TreePathError
from tests.processes import output_of, run_binary

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI

_CONFIG = ("-c", "user.name=Test User", "-c", "user.email=test@example.com",
           "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false",
           "-c", "init.defaultBranch=main", "-c", "core.autocrlf=false",
           "-c", "protocol.file.allow=always")


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="Test User", GIT_AUTHOR_EMAIL="test@example.com",
               GIT_COMMITTER_NAME="Test User", GIT_COMMITTER_EMAIL="test@example.com",
               GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
               GIT_TERMINAL_PROMPT="0")
    return env


ENV = _environment()


class Repo:
    """A scratch repository driven through the git binary, with deterministic dates."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = 1_700_000_000

    @classmethod
    def init(cls, path: Path) -> Repo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.git("init", "-q")
        return repo

    def git(self, *args: str, input: bytes | None = None) -> str:
        done = run_binary(["git", *_CONFIG, *args], cwd=self.path, env=self._env(), input=input,
                          timeout=30)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode("utf-8", "surrogateescape")

    def _env(self) -> dict[str, str]:
        date = f"{self.clock} +0200"
        return {**ENV, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}

    def write(self, path: str, content: str | bytes = "x\n") -> None:
        target = self.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)

    def remove(self, path: str) -> None:
        (self.path / path).unlink()

    def commit(self, message: str = "change", *, add: bool = True) -> str:
        if add:
            self.git("add", "-A")
        self.clock += 60
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.sha("HEAD")

    def sha(self, ref: str) -> str:
        return self.git("rev-parse", "--verify", f"{ref}^{{commit}}").strip()

    def merge(self, ref: str, message: str = "merge") -> str:
        self.clock += 60
        self.git("merge", "-q", "--no-ff", "--allow-unrelated-histories", "-m", message, ref)
        return self.sha("HEAD")

    def name_status(self, *args: str) -> list[Change]:
        """``git diff --name-status -M ARGS`` as Changes: what gate must agree with."""
        fields = self.git("-c", "diff.renames=true", "diff", "--name-status", "-z", "-M",
                          *args, "--").split("\0")
        changes, index = [], 0
        while index < len(fields) - 1:
            status = fields[index][0]
            if status == "R":
                changes.append(Change("R", fields[index + 1], fields[index + 2]))
                index += 3
            else:
                path = fields[index + 1]
                changes.append(Change(status, None if status == "A" else path,
                                      None if status == "D" else path))
                index += 2
        return sorted(changes, key=lambda c: c.path)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo.init(tmp_path / "repo")


@pytest.fixture
def opened() -> Iterator[Callable[[Repo], Repository]]:
    """``opened(repo)`` -> a Repository, closed (its cat-file processes ended) afterwards."""
    made: list[Repository] = []

    def open_(repo: Repo) -> Repository:
        made.append(open_repository(str(repo.path)))
        return made[-1]

    yield open_
    for repository in made:
        repository.close()


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every byte a read-only operation must leave alone: the working tree, the index,
    HEAD and the refs (objects may not be added either: their names are listed)."""
    state: dict[str, bytes] = {}
    for directory, _, files in os.walk(root):
        for name in files:
            path = Path(directory, name)
            relative = path.relative_to(root).as_posix()
            if relative.startswith(".git/objects/"):
                state[relative] = b""
            elif path.is_symlink():
                state[relative] = os.readlink(path).encode()
            else:
                state[relative] = path.read_bytes()
            if not relative.startswith(".git/"):
                state[relative + "#mtime"] = str(path.lstat().st_mtime_ns).encode()
    return state


@contextmanager
def unchanged(repo: Repo) -> Iterator[None]:
    before = _snapshot(repo.path)
    yield
    after = _snapshot(repo.path)
    assert sorted(after) == sorted(before)
    assert after == before


# -- opening ---------------------------------------------------------------------------


def test_open_finds_the_repository_from_a_subdirectory(repo: Repo) -> None:
    repo.write("apps/a.yaml")
    repo.commit()
    with open_repository(str(repo.path / "apps")) as repository:
        assert repository.root == str(repo.path.resolve())
        assert os.path.isabs(repository.root)


def test_open_outside_a_repository_is_a_gate_error(tmp_path: Path) -> None:
    with pytest.raises(GitError, match=r"^not a git repository: .*\(gate diff needs one\)$") \
            as caught:
        open_repository(str(tmp_path))
    assert isinstance(caught.value, GateError)
    with pytest.raises(GitError, match="not a git repository"):
        open_repository(str(tmp_path / "missing"))


def test_open_a_bare_repository_is_refused(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    output_of(["git", "init", "-q", "--bare", str(bare)], env=ENV)
    with pytest.raises(GitError, match="bare repository"):
        open_repository(str(bare))


# -- refs ------------------------------------------------------------------------------


@pytest.fixture
def history(repo: Repo) -> dict[str, str]:
    """main: c1 - c2 - c3 (tags v1 light on c1, v2 annotated on c2); origin/main = c2."""
    repo.write("a.yaml", "one\n")
    c1 = repo.commit("one")
    repo.git("tag", "v1")
    repo.write("a.yaml", "two\n")
    c2 = repo.commit("two")
    repo.git("tag", "-a", "-m", "release 2", "v2")
    repo.write("a.yaml", "three\n")
    c3 = repo.commit("three")
    repo.git("update-ref", "refs/remotes/origin/main", c2)
    return {"c1": c1, "c2": c2, "c3": c3}


@pytest.mark.parametrize(("ref", "expected"), [
    ("main", "c3"), ("HEAD", "c3"), ("@", "c3"), ("HEAD~2", "c1"), ("main^", "c2"),
    ("HEAD^1", "c2"), ("main~1^", "c1"), ("v1", "c1"), ("v2", "c2"),
    ("refs/tags/v2", "c2"), ("origin/main", "c2"), ("refs/remotes/origin/main", "c2"),
    ("heads/main", "c3"), ("main@{0}", "c3"), ("v2^{commit}", "c2"), ("HEAD~1^{}", "c2"),
])
def test_resolve_names(repo: Repo, history: dict[str, str], opened: Callable[..., Repository],
                       ref: str, expected: str) -> None:
    repository = opened(repo)
    with unchanged(repo):
        assert repository.resolve(ref) == history[expected]


def test_resolve_abbreviated_and_full_shas(repo: Repo, history: dict[str, str],
                                           opened: Callable[..., Repository]) -> None:
    repository = opened(repo)
    for sha in history.values():
        assert repository.resolve(sha) == sha
        assert repository.resolve(sha[:7]) == sha
        assert repository.resolve(sha.upper()[:12]) == sha


@pytest.mark.parametrize("ref", [
    "--output=/tmp/gate-test-x", "-x", "-", "--all", "HEAD..main", "main...x", "..main",
    "main..", "", " ", "main ", " main", "ma in", "main\n", "\tmain", "main\x00",
    "a\x01b", "main\x7f", "HEAD^!", "HEAD^@", "HEAD^-", "HEAD^-1", "^main", "main:a.yaml",
    ":/two", "HEAD@{1 day ago}", "main\u00a0",
])
def test_resolve_refuses_options_ranges_and_odd_characters(
        repo: Repo, history: dict[str, str], opened: Callable[..., Repository],
        ref: str) -> None:
    repository = opened(repo)
    with unchanged(repo), pytest.raises(GitError, match=r"^invalid ref .*: "):
        repository.resolve(ref)
    assert not os.path.exists("/tmp/gate-test-x")


@pytest.mark.parametrize("ref", ["--output=/tmp/gate-test-y", "--all", "-h", "--git-dir=/"])
def test_git_never_reads_a_ref_as_an_option(repo: Repo, history: dict[str, str],
                                            opened: Callable[..., Repository],
                                            monkeypatch: pytest.MonkeyPatch, ref: str) -> None:
    """Even past the validation, rev-parse gets the ref behind --end-of-options."""
    monkeypatch.setattr("gate.git.refs._check_ref", lambda ref: None)
    repository = opened(repo)
    with unchanged(repo), pytest.raises(GitError, match=r"^unknown ref "):
        repository.resolve(ref)
    assert not os.path.exists("/tmp/gate-test-y")


def test_resolve_unknown_refs_suggest_fetching(repo: Repo, history: dict[str, str],
                                               opened: Callable[..., Repository]) -> None:
    repository = opened(repo)
    with pytest.raises(GitError, match=r"^unknown ref 'nope': .*git fetch origin nope$"):
        repository.resolve("nope")
    with pytest.raises(GitError, match=r"unknown ref 'origin/feature'.*git fetch origin feature"):
        repository.resolve("origin/feature")
    with pytest.raises(GitError, match=r"unknown ref 'deadbeef1'"):
        repository.resolve("deadbeef1")
    with pytest.raises(GitError, match=r"unknown ref '0{39}1'"):
        repository.resolve("0" * 39 + "1")  # a full SHA git does not check by itself
    with pytest.raises(GitError, match=r"unknown ref 'HEAD~3'"):
        repository.resolve("HEAD~3")


def test_resolve_a_name_that_is_a_branch_and_a_tag_is_ambiguous(
        repo: Repo, history: dict[str, str], opened: Callable[..., Repository]) -> None:
    repo.git("branch", "release", history["c1"])
    repo.git("tag", "release", history["c2"])
    repository = opened(repo)
    with pytest.raises(GitError, match=r"^ambiguous ref 'release': .*refs/heads/release"):
        repository.resolve("release")
    assert repository.resolve("refs/heads/release") == history["c1"]
    assert repository.resolve("refs/tags/release") == history["c2"]


def _colliding_blobs() -> tuple[bytes, bytes, str]:
    """Two blob contents whose SHAs share their first five hex digits."""
    seen: dict[str, bytes] = {}
    number = 0
    while True:
        content = f"blob {number}\n".encode()
        sha = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
        if sha[:5] in seen:
            return seen[sha[:5]], content, sha[:5]
        seen[sha[:5]] = content
        number += 1


def test_resolve_an_ambiguous_abbreviated_sha(repo: Repo, history: dict[str, str],
                                              opened: Callable[..., Repository]) -> None:
    first, second, prefix = _colliding_blobs()
    for content in (first, second):
        repo.git("hash-object", "-w", "--stdin", input=content)
    repository = opened(repo)
    with pytest.raises(GitError, match=rf"^ambiguous ref '{prefix}': .*more of its digits"):
        repository.resolve(prefix)


def test_resolve_refuses_trees_and_blobs(repo: Repo, history: dict[str, str],
                                         opened: Callable[..., Repository]) -> None:
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    blob = repo.git("rev-parse", "HEAD:a.yaml").strip()
    repo.git("tag", "blobtag", blob)
    repo.git("tag", "-a", "-m", "annotated blob", "annotatedblob", blob)
    repository = opened(repo)
    with pytest.raises(GitError, match=r"names a tree, not a commit"):
        repository.resolve(tree)
    with pytest.raises(GitError, match=r"names a blob, not a commit"):
        repository.resolve(blob[:10])
    with pytest.raises(GitError, match=r"names a blob, not a commit"):
        repository.resolve("blobtag")
    with pytest.raises(GitError, match=r"tag of something that is not a commit"):
        repository.resolve("annotatedblob")


def test_head_sha_and_an_empty_repository(repo: Repo, opened: Callable[..., Repository]) -> None:
    repository = opened(repo)
    assert repository.head_sha() is None
    with pytest.raises(GitError, match=r"^unknown ref 'HEAD': the repository has no commits yet$"):
        repository.resolve("HEAD")
    sha = repo.commit("first")
    assert repository.head_sha() == sha
    repo.git("checkout", "-q", "--detach", "HEAD")
    assert repository.head_sha() == sha
    assert repository.is_shallow() is False


# -- merge bases -----------------------------------------------------------------------


def test_merge_base_of_a_branch_when_main_moved_on(repo: Repo,
                                                   opened: Callable[..., Repository]) -> None:
    repo.write("base.yaml")
    fork = repo.commit("fork point")
    repo.git("switch", "-q", "-c", "feature")
    repo.write("feature.yaml")
    feature = repo.commit("feature work")
    repo.git("switch", "-q", "main")
    repo.write("main.yaml")
    main = repo.commit("main moved on")
    repository = opened(repo)
    with unchanged(repo):
        base = repository.merge_base(repository.resolve("main"), repository.resolve("feature"))
    assert base == fork
    assert repository.merge_base(fork, feature) == fork
    assert repository.merge_base(main, main) == main
    # git diff main...feature: only what the branch did, not what main did since.
    assert repository.diff_commits(base, feature) == [Change("A", None, "feature.yaml")]
    assert repository.diff_commits(base, feature) == repo.name_status("main...feature")
    assert repository.tree_at(base).label == f"merge-base of main ({main[:7]}) and " \
                                             f"feature ({feature[:7]}) ({fork[:7]})"


def test_merge_base_of_a_criss_cross_history_is_gits_choice(
        repo: Repo, opened: Callable[..., Repository]) -> None:
    repo.write("a.yaml")
    repo.commit("root")
    repo.git("branch", "other")
    repo.write("main1.yaml")
    m1 = repo.commit("m1")
    repo.git("switch", "-q", "other")
    repo.write("other1.yaml")
    o1 = repo.commit("o1")
    repo.merge(m1, "merge m1 into other")
    repo.git("switch", "-q", "main")
    repo.merge(o1, "merge o1 into main")
    repo.write("main2.yaml")
    repo.commit("m2")
    repo.git("switch", "-q", "other")
    repo.write("other2.yaml")
    repo.commit("o2")
    all_bases = repo.git("merge-base", "--all", "main", "other").split()
    assert sorted(all_bases) == sorted([m1, o1])  # really criss-cross
    repository = opened(repo)
    main, other = repository.resolve("main"), repository.resolve("other")
    expected = repo.git("merge-base", "main", "other").strip()
    assert repository.merge_base(main, other) == expected
    assert repository.merge_base(main, other) == expected  # deterministic


def test_unrelated_histories_have_no_merge_base(repo: Repo,
                                                opened: Callable[..., Repository]) -> None:
    repo.write("a.yaml")
    repo.commit("main root")
    repo.git("switch", "-q", "--orphan", "other")
    repo.write("b.yaml")
    repo.commit("other root")
    repository = opened(repo)
    with pytest.raises(GitError, match=r"^main \(\w{7}\) and other \(\w{7}\) have no common "
                                       r"history"):
        repository.merge_base(repository.resolve("main"), repository.resolve("other"))


def test_merge_base_refuses_anything_but_full_shas(repo: Repo,
                                                   opened: Callable[..., Repository]) -> None:
    sha = repo.commit()
    repository = opened(repo)
    for bad in ("main", "--all", sha[:7], ""):
        with pytest.raises(GitError, match="not a full commit SHA"):
            repository.merge_base(bad, sha)


@pytest.fixture
def shallow(tmp_path: Path) -> tuple[Repo, dict[str, str]]:
    """A depth-1 clone of main (c1-c2-c3) and feature (c1-f1): the fork point is missing."""
    source = Repo.init(tmp_path / "source")
    source.write("a.yaml", "1\n")
    c1 = source.commit("c1")
    source.write("a.yaml", "2\n")
    c2 = source.commit("c2")
    source.git("switch", "-q", "-c", "feature", c1)
    source.write("f.yaml")
    f1 = source.commit("f1")
    source.git("switch", "-q", "main")
    source.write("a.yaml", "3\n")
    c3 = source.commit("c3")
    clone = Repo(tmp_path / "clone")
    source.git("clone", "-q", "--depth", "1", "--no-single-branch",
               f"file://{source.path}", str(clone.path))
    return clone, {"c1": c1, "c2": c2, "c3": c3, "f1": f1}


def test_a_shallow_clone_explains_the_missing_merge_base(
        shallow: tuple[Repo, dict[str, str]], opened: Callable[..., Repository]) -> None:
    clone, shas = shallow
    repository = opened(clone)
    assert repository.is_shallow() is True
    base = repository.resolve("origin/main")
    head = repository.resolve("origin/feature")
    assert (base, head) == (shas["c3"], shas["f1"])
    with unchanged(clone), pytest.raises(GitError) as caught:
        repository.merge_base(base, head)
    assert str(caught.value) == (
        f"no merge base of origin/main ({base[:7]}) and origin/feature ({head[:7]}): this is "
        "a shallow clone; fetch the history (git fetch --unshallow, or actions/checkout with "
        "fetch-depth: 0)")
    with pytest.raises(GitError, match=r"unknown ref .*shallow clone.*--unshallow"):
        repository.resolve(shas["c2"])


# -- changes between commits -----------------------------------------------------------


def test_diff_commits_statuses(repo: Repo, opened: Callable[..., Repository]) -> None:
    manifest = "".join(f"line {n}: some manifest content\n" for n in range(40))
    repo.write("keep.yaml", "keep\n")
    repo.write("edit.yaml", "before\n")
    repo.write("gone.yaml", "gone\n")
    repo.write("moved/old.yaml", manifest)
    repo.write("moved/old-edited.yaml", manifest.replace("line", "row"))
    repo.write("kind.yaml", "file\n")
    base = repo.commit("base")
    repo.write("edit.yaml", "after\n")
    repo.remove("gone.yaml")
    repo.git("mv", "moved/old.yaml", "moved/new.yaml")
    (repo.path / "elsewhere").mkdir()
    repo.git("mv", "moved/old-edited.yaml", "elsewhere/edited.yaml")
    repo.write("elsewhere/edited.yaml", manifest.replace("line", "row") + "one more\n")
    repo.write("added.yaml", "new\n")
    repo.remove("kind.yaml")
    os.symlink("keep.yaml", repo.path / "kind.yaml")
    head = repo.commit("head")
    repository = opened(repo)
    with unchanged(repo):
        changes = repository.diff_commits(base, head)
    assert changes == [
        Change("A", None, "added.yaml"),
        Change("M", "edit.yaml", "edit.yaml"),
        Change("R", "moved/old-edited.yaml", "elsewhere/edited.yaml"),
        Change("D", "gone.yaml", None),
        Change("T", "kind.yaml", "kind.yaml"),
        Change("R", "moved/old.yaml", "moved/new.yaml"),
    ]
    assert changes == repo.name_status(base, head)
    assert [c.path for c in changes] == sorted(c.path for c in changes)
    assert repository.diff_commits(head, head) == []
    # The other way round: additions become deletions and renames run backwards.
    backwards = repository.diff_commits(head, base)
    assert Change("D", "added.yaml", None) in backwards
    assert Change("A", None, "gone.yaml") in backwards
    assert Change("R", "moved/new.yaml", "moved/old.yaml") in backwards


def test_diff_commits_with_awkward_file_names(repo: Repo,
                                              opened: Callable[..., Repository]) -> None:
    names = ["-rf.yaml", "--output=x.yaml", "with space.yaml", "ünïcödé/ファイル.yaml",
             'quote"and\\back.yaml', "tab\there.yaml", "new\nline.yaml"]
    repo.write("seed.yaml")
    base = repo.commit("base")
    for name in names:
        repo.write(name, f"{name}\n")
    head = repo.commit("awkward names")
    repository = opened(repo)
    changes = repository.diff_commits(base, head)
    assert changes == sorted((Change("A", None, name) for name in names), key=lambda c: c.path)
    tree = repository.tree_at(head)
    for name in names:
        assert tree.is_file(name)
        assert tree.read_bytes(name) == f"{name}\n".encode()
    assert "-rf.yaml" in tree.list_dir("")
    assert tree.list_dir("ünïcödé") == ["ファイル.yaml"]


def test_diff_of_a_merge_commit_against_its_first_parent(
        repo: Repo, opened: Callable[..., Repository]) -> None:
    repo.write("a.yaml")
    repo.commit("root")
    repo.git("switch", "-q", "-c", "feature")
    repo.write("apps/feature.yaml")
    repo.write("a.yaml", "changed on the branch\n")
    repo.commit("feature")
    repo.git("switch", "-q", "main")
    repo.write("main.yaml")
    main = repo.commit("main")
    merge = repo.merge("feature")
    repository = opened(repo)
    first_parent = repository.resolve(f"{merge}^1")
    assert first_parent == main
    assert repository.diff_commits(first_parent, merge) == [
        Change("M", "a.yaml", "a.yaml"),
        Change("A", None, "apps/feature.yaml"),
    ]
    assert repository.diff_commits(first_parent, merge) == repo.name_status(f"{merge}^1", merge)


# -- trees read from git objects -------------------------------------------------------


def test_tree_at_reads_old_commits_without_a_checkout(
        repo: Repo, opened: Callable[..., Repository]) -> None:
    binary = bytes(range(256)) * 4 + b"\0\0\xff"
    big = os.urandom(3 * 1024 * 1024)
    repo.write("apps/web/deployment.yaml", "version: 1\n")
    repo.write("apps/web/service.yaml", "svc\n")
    repo.write("apps/api/deployment.yaml", "api\n")
    repo.write("deleted/only.yaml", "doomed\n")
    repo.write("logo.png", binary)
    repo.write("big.bin", big)
    repo.write("empty.yaml", "")
    old = repo.commit("old")
    repo.write("apps/web/deployment.yaml", "version: 2\n")
    repo.git("rm", "-q", "-r", "deleted")
    repo.commit("new")
    repository = opened(repo)
    with unchanged(repo):
        tree = repository.tree_at(old)
        assert tree.read_bytes("apps/web/deployment.yaml") == b"version: 1\n"
        assert tree.read_bytes("deleted/only.yaml") == b"doomed\n"
        assert tree.read_bytes("logo.png") == binary
        assert tree.read_bytes("big.bin") == big
        assert tree.read_bytes("empty.yaml") == b""
        assert tree.list_dir("") == ["apps", "big.bin", "deleted", "empty.yaml", "logo.png"]
        assert tree.list_dir("apps") == ["api", "web"]
        assert tree.list_dir("apps/web") == ["deployment.yaml", "service.yaml"]
        assert tree.list_dir("nope") == [] and tree.list_dir("logo.png") == []
        assert tree.is_dir("") and tree.is_dir("apps") and tree.is_dir("apps/web")
        assert not tree.is_dir("apps/web/service.yaml") and not tree.is_dir("nope")
        assert tree.is_file("apps/api/deployment.yaml") and not tree.is_file("apps")
        assert tree.is_file("./apps/../apps/web/service.yaml")
        with pytest.raises(FileNotFoundError):
            tree.read_bytes("apps/web/missing.yaml")
        with pytest.raises(FileNotFoundError):
            tree.read_bytes("apps")
        with pytest.raises(TreePathError):
            tree.read_bytes("../outside.yaml")
        # The working tree has moved on; the old commit's tree is untouched by it.
        head = repository.tree_at(repository.resolve("HEAD"))
        assert head.read_bytes("apps/web/deployment.yaml") == b"version: 2\n"
        assert not head.is_file("deleted/only.yaml") and not head.is_dir("deleted")
    assert tree.label == old[:7]
    assert repository.tree_at(old, name="base").label == f"base ({old[:7]})"
    main = repository.resolve("main")
    assert repository.tree_at(main).label == f"main ({main[:7]})"
    protocol_user: FileTree = tree  # satisfies the protocol the renderers read through
    assert protocol_user.list_dir("apps")


def test_tree_at_reads_blobs_through_one_cat_file_process(
        repo: Repo, opened: Callable[..., Repository]) -> None:
    for number in range(300):
        repo.write(f"many/file{number:03}.yaml", f"n: {number}\n")
    sha = repo.commit()
    repository = opened(repo)
    tree = repository.tree_at(sha)
    calls: list[object] = []
    original = repository._git

    def counting(*args: str, **kwargs: object) -> object:
        calls.append(args)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    repository._git = counting  # type: ignore[method-assign]
    for number in range(300):
        assert tree.read_bytes(f"many/file{number:03}.yaml") == f"n: {number}\n".encode()
    assert calls == []  # no subprocess per file
    persistent = repository.repo.git.cat_file_all
    assert persistent is not None and persistent.proc.poll() is None
    repository.close()
    assert repository.repo.git.cat_file_all is None


def test_symlinks_inside_are_followed_and_submodules_refused(
        repo: Repo, opened: Callable[..., Repository]) -> None:
    # As a checkout shows them: a link inside the tree reads as its target; a
    # submodule's content is in another repository, so reading it is refused by name.
    repo.write("real/a.yaml", "real\n")
    os.symlink("real", repo.path / "linkdir")
    os.symlink("real/a.yaml", repo.path / "link.yaml")
    sub = repo.commit("links")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{sub},vendor/module")
    head = repo.commit("a submodule", add=False)
    repository = opened(repo)
    tree = repository.tree_at(head)
    assert tree.is_dir("linkdir") and tree.list_dir("linkdir") == ["a.yaml"]
    for linked in ("link.yaml", "linkdir/a.yaml"):
        assert tree.is_file(linked) and tree.read_bytes(linked) == b"real\n"
    assert tree.is_file("vendor/module") and not tree.is_dir("vendor/module")
    with pytest.raises(RefusedPath, match="a git submodule: its content is not in the "
                                          "repository"):
        tree.read_bytes("vendor/module")
    assert tree.special_entries() == [("vendor/module", SUBMODULE)]
    assert tree.list_dir("") == ["link.yaml", "linkdir", "real", "vendor"]
    assert tree.list_dir("vendor") == ["module"]
    assert repository.index_tree().list_dir("") == ["link.yaml", "linkdir", "real", "vendor"]


# -- the index -------------------------------------------------------------------------


def test_index_tree_and_diff_index_see_the_staged_content(
        repo: Repo, opened: Callable[..., Repository]) -> None:
    repo.write("apps/a.yaml", "committed\n")
    repo.write("apps/b.yaml", "b\n")
    repo.write("gone.yaml", "g\n")
    repo.commit("base")
    repo.write("apps/a.yaml", "staged\n")
    repo.write("apps/new.yaml", "new and staged\n")
    repo.git("add", "apps/a.yaml", "apps/new.yaml")
    repo.git("rm", "-q", "gone.yaml")
    repo.write("apps/a.yaml", "only in the working tree\n")  # not staged
    repo.write("apps/b.yaml", "unstaged edit\n")
    repo.write("untracked.yaml", "u\n")
    repository = opened(repo)
    with unchanged(repo):
        index = repository.index_tree()
        changes = repository.diff_index()
    assert index.label == "index"
    assert index.read_bytes("apps/a.yaml") == b"staged\n"
    assert index.read_bytes("apps/b.yaml") == b"b\n"
    assert index.read_bytes("apps/new.yaml") == b"new and staged\n"
    assert not index.is_file("gone.yaml") and not index.is_file("untracked.yaml")
    assert index.list_dir("apps") == ["a.yaml", "b.yaml", "new.yaml"]
    assert changes == [
        Change("M", "apps/a.yaml", "apps/a.yaml"),
        Change("A", None, "apps/new.yaml"),
        Change("D", "gone.yaml", None),
    ]
    assert changes == repo.name_status("--cached")


def test_diff_index_sees_a_staged_rename(repo: Repo, opened: Callable[..., Repository]) -> None:
    repo.write("old.yaml", "".join(f"key{n}: value\n" for n in range(20)))
    repo.commit()
    repo.git("mv", "old.yaml", "new.yaml")
    repository = opened(repo)
    assert repository.diff_index() == [Change("R", "old.yaml", "new.yaml")]


def test_diff_index_in_a_repository_without_commits(repo: Repo,
                                                    opened: Callable[..., Repository]) -> None:
    repository = opened(repo)
    assert repository.diff_index() == []
    assert repository.diff_worktree() == []
    repo.write("b.yaml", "b\n")
    repo.write("a/c.yaml", "c\n")
    repo.git("add", "-A")
    repo.write("untracked.yaml")
    with unchanged(repo):
        assert repository.diff_index() == [Change("A", None, "a/c.yaml"),
                                           Change("A", None, "b.yaml")]
        assert repository.index_tree().read_bytes("a/c.yaml") == b"c\n"
        assert repository.diff_worktree() == [Change("A", None, "a/c.yaml"),
                                              Change("A", None, "b.yaml"),
                                              Change("A", None, "untracked.yaml")]


def test_an_unmerged_index_is_refused(repo: Repo, opened: Callable[..., Repository]) -> None:
    repo.write("a.yaml", "base\n")
    repo.commit()
    repo.git("switch", "-q", "-c", "other")
    repo.write("a.yaml", "other\n")
    repo.commit()
    repo.git("switch", "-q", "main")
    repo.write("a.yaml", "main\n")
    repo.commit()
    run_binary(["git", *_CONFIG, "merge", "-q", "other"], cwd=repo.path, env=ENV)
    repository = opened(repo)
    with unchanged(repo):
        with pytest.raises(GitError, match=r"unmerged paths \(a\.yaml\).*resolve"):
            repository.index_tree()
        with pytest.raises(GitError, match=r"a\.yaml has an unresolved merge conflict"):
            repository.diff_index()


# -- the working tree ------------------------------------------------------------------


def test_diff_worktree_with_untracked_and_ignored_files(
        repo: Repo, opened: Callable[..., Repository]) -> None:
    repo.write(".gitignore", "*.log\nbuild/\n")
    repo.write("apps/a.yaml", "a\n")
    repo.write("apps/b.yaml", "b\n")
    repo.write("-rf.yaml", "dash\n")
    repo.write("gone.yaml", "gone\n")
    repo.write("staged.yaml", "s\n")
    repo.commit("base")
    repo.write("apps/a.yaml", "edited, not staged\n")
    repo.remove("gone.yaml")                       # deleted, not staged
    repo.write("staged.yaml", "staged edit\n")
    repo.git("add", "staged.yaml")
    repo.write("apps/new file.yaml", "untracked\n")
    repo.write("debug.log", "ignored\n")
    repo.write("build/out.yaml", "ignored dir\n")
    repo.write("-rf.yaml", "dash\n")               # rewritten, same content
    os.utime(repo.path / "-rf.yaml", (1, 1))       # so its stat data is stale
    os.utime(repo.path / "apps/b.yaml", (2, 2))
    repository = opened(repo)
    with unchanged(repo):
        changes = repository.diff_worktree()
    assert changes == [
        Change("M", "apps/a.yaml", "apps/a.yaml"),
        Change("A", None, "apps/new file.yaml"),
        Change("D", "gone.yaml", None),
        Change("M", "staged.yaml", "staged.yaml"),
    ]
    repo.write("-rf.yaml", "dash, edited\n")
    assert Change("M", "-rf.yaml", "-rf.yaml") in repository.diff_worktree()


def test_diff_worktree_agrees_with_git_diff_head(repo: Repo,
                                                 opened: Callable[..., Repository]) -> None:
    manifest = "".join(f"item{n}: {n}\n" for n in range(30))
    repo.write("one.yaml", manifest)
    repo.write("two.yaml", "two\n")
    repo.write("three.yaml", "three\n")
    repo.commit()
    (repo.path / "moved").mkdir()
    repo.git("mv", "one.yaml", "moved/one.yaml")
    repo.write("moved/one.yaml", manifest + "extra: 1\n")
    repo.write("two.yaml", "two, edited\n")
    repo.git("add", "two.yaml")
    repo.write("two.yaml", "two\n")                # staged edit undone on disk
    repo.remove("three.yaml")
    repository = opened(repo)
    changes = repository.diff_worktree()
    assert changes == [Change("R", "one.yaml", "moved/one.yaml"),
                       Change("D", "three.yaml", None)]
    assert changes == repo.name_status("HEAD")


def test_diff_worktree_after_rm_cached(repo: Repo, opened: Callable[..., Repository]) -> None:
    repo.write("same.yaml", "same\n")
    repo.write("edited.yaml", "before\n")
    repo.commit()
    repo.git("rm", "-q", "--cached", "same.yaml", "edited.yaml")
    repo.write("edited.yaml", "after\n")
    repository = opened(repo)
    # Untracked now, but on disk: against HEAD one is unchanged, the other modified.
    assert repository.diff_worktree() == [Change("M", "edited.yaml", "edited.yaml")]
    assert repository.diff_index() == [Change("D", "edited.yaml", None),
                                       Change("D", "same.yaml", None)]


# -- commits ---------------------------------------------------------------------------


def test_commits_with_trailers_and_merges(repo: Repo, opened: Callable[..., Repository]) -> None:
    repo.write("a.yaml")
    base = repo.commit("base")
    repo.git("switch", "-q", "-c", "feature")
    repo.write("b.yaml")
    message = ("Raise the replica count\n\nThe service needs headroom.\n\n"
               "Change-Request: CHG123\n"
               "Co-authored-by: Ada <ada@example.com>\n"
               "Co-authored-by: Grace <grace@example.com>\n"
               "Reviewed-by: a reviewer whose name\n  goes on and on\n")
    repo.clock += 60
    repo.git("add", "b.yaml")
    repo.git("commit", "-q", "-m", message)
    first = repo.sha("HEAD")
    repo.write("c.yaml")
    second = repo.commit("No trailers here\n\nKey: value in the body,\nthen more text.")
    repo.git("switch", "-q", "main")
    repo.write("d.yaml")
    repo.commit("on main")
    merge = repo.merge("feature", "Merge feature\n\nChange-Request: CHG456")
    repository = opened(repo)
    with unchanged(repo):
        commits = repository.commits(base, merge)
    assert [c.sha for c in commits][:1] == [merge]
    assert {c.sha for c in commits} >= {merge, first, second}
    by_sha = {c.sha: c for c in commits}
    trailers = by_sha[first].trailers
    assert trailers == {
        "Change-Request": ["CHG123"],
        "Co-authored-by": ["Ada <ada@example.com>", "Grace <grace@example.com>"],
        "Reviewed-by": ["a reviewer whose name goes on and on"],
    }
    assert list(trailers) == ["Change-Request", "Co-authored-by", "Reviewed-by"]
    parsed = repo.git("log", "-1", "--format=%B", first)
    interpreted = repo.git("interpret-trailers", "--parse", input=parsed.encode())
    assert [f"{k}: {v}" for k, vs in trailers.items() for v in vs] == interpreted.splitlines()
    assert by_sha[second].trailers == {}
    assert by_sha[merge].trailers == {"Change-Request": ["CHG456"]}
    assert by_sha[first].subject == "Raise the replica count"
    assert by_sha[first].message.startswith(message.rstrip("\n"))
    assert by_sha[first].author_name == "Test User"
    assert by_sha[first].author_email == "test@example.com"
    when = by_sha[second].authored_at
    assert when.utcoffset() == timedelta(hours=2)
    assert when.timestamp() == by_sha[second].committed_at.timestamp()
    assert repository.commits(merge, merge) == []


def test_commit_dates_keep_their_offsets(repo: Repo, opened: Callable[..., Repository]) -> None:
    repo.git("commit", "-q", "--allow-empty", "-m", "west",
             "--date", "1700000000 -0530")
    repository = opened(repo)
    commits = repository.commits(repository.resolve("HEAD"), repository.resolve("HEAD"))
    assert commits == []
    head = repository.resolve("HEAD")
    root = repo.git("commit-tree", "-m", "empty", repo.git("rev-parse", "HEAD^{tree}").strip())
    commit = repository.commits(root.strip(), head)[0]
    assert commit.authored_at.utcoffset() == -timedelta(hours=5, minutes=30)
    assert commit.authored_at.timestamp() == 1_700_000_000


# -- paths -----------------------------------------------------------------------------


def test_relative_to_root(repo: Repo, tmp_path: Path, opened: Callable[..., Repository],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    repo.write("apps/web/a.yaml")
    repo.commit()
    repository = opened(repo)
    monkeypatch.chdir(repo.path / "apps")
    assert repository.relative_to_root("web") == "apps/web"
    assert repository.relative_to_root("web/a.yaml") == "apps/web/a.yaml"
    assert repository.relative_to_root("./web/../web/") == "apps/web"
    assert repository.relative_to_root("not/there.yaml") == "apps/not/there.yaml"
    assert repository.relative_to_root(".") == "apps"
    assert repository.relative_to_root("..") == ""
    assert repository.relative_to_root(str(repo.path / "apps/web")) == "apps/web"
    for outside in ("../..", str(tmp_path), "/", "../../repo-sibling"):
        with pytest.raises(GitError, match=r"^path outside the repository: "):
            repository.relative_to_root(outside)
    link = tmp_path / "link-to-repo"
    os.symlink(repo.path, link)
    assert repository.relative_to_root(str(link / "apps")) == "apps"


# -- nothing is ever written -----------------------------------------------------------


def _operations(repository: Repository) -> dict[str, Callable[[], object]]:
    head = repository.resolve("HEAD")
    base = repository.resolve("HEAD~1")
    inside = os.path.join(repository.root, "a.yaml")
    return {
        "resolve": lambda: repository.resolve("main~1"),
        "merge_base": lambda: repository.merge_base(base, head),
        "diff_commits": lambda: repository.diff_commits(base, head),
        "diff_index": repository.diff_index,
        "diff_worktree": repository.diff_worktree,
        "tree_at": lambda: [repository.tree_at(base).read_bytes(p) for p in ("a.yaml",)],
        "index_tree": lambda: repository.index_tree().read_bytes("a.yaml"),
        "commits": lambda: repository.commits(base, head),
        "head_sha": repository.head_sha,
        "is_shallow": repository.is_shallow,
        "relative_to_root": lambda: repository.relative_to_root(inside),
    }


def test_no_operation_changes_the_index_or_the_working_tree(
        repo: Repo, opened: Callable[..., Repository]) -> None:
    repo.write("a.yaml", "1\n")
    repo.write("b.yaml", "b\n")
    repo.commit()
    repo.write("a.yaml", "2\n")
    repo.commit()
    repo.write("a.yaml", "staged\n")
    repo.git("add", "a.yaml")
    repo.write("a.yaml", "unstaged\n")
    repo.write("untracked.yaml")
    os.utime(repo.path / "b.yaml", (5, 5))  # stale stat data: `git diff` would rewrite the index
    repository = opened(repo)
    for name, operation in _operations(repository).items():
        with unchanged(repo):
            assert operation() is not None or name == "relative_to_root", name
    index = (repo.path / ".git/index").read_bytes()
    output_of(["git", "diff", "--name-status"], cwd=repo.path, env=ENV)
    assert (repo.path / ".git/index").read_bytes() != index  # what the test guards against


def test_a_missing_blob_is_a_git_error_and_later_reads_still_work(
        repo: Repo, opened: Callable[..., Repository]) -> None:
    repo.write("kept.yaml", "kept\n")
    repo.write("lost.yaml", "lost\n")
    sha = repo.commit()
    lost = repo.git("rev-parse", "HEAD:lost.yaml").strip()
    (repo.path / ".git/objects" / lost[:2] / lost[2:]).unlink()  # as in a partial clone
    repository = opened(repo)
    tree = repository.tree_at(sha)
    assert tree.is_file("lost.yaml")
    with pytest.raises(GitError, match=r"cannot read lost.yaml: object \w+ is missing"):
        tree.read_bytes("lost.yaml")
    assert tree.read_bytes("kept.yaml") == b"kept\n"  # the cat-file process is still in step


def test_a_linked_worktree(repo: Repo, tmp_path: Path,
                           opened: Callable[..., Repository]) -> None:
    repo.write("a.yaml", "main\n")
    repo.commit()
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", "-b", "topic", str(linked))
    (linked / "a.yaml").write_text("topic, staged\n")
    output_of(["git", "add", "a.yaml"], cwd=linked, env=ENV)
    (linked / "b.yaml").write_text("untracked\n")
    with open_repository(str(linked)) as repository:
        assert repository.root == str(linked)
        assert repository.index_tree().read_bytes("a.yaml") == b"topic, staged\n"
        assert repository.diff_index() == [Change("M", "a.yaml", "a.yaml")]
        assert repository.diff_worktree() == [Change("M", "a.yaml", "a.yaml"),
                                              Change("A", None, "b.yaml")]
    with open_repository(str(repo.path)) as main:
        assert main.diff_worktree() == []
