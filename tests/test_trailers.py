"""Commit trailers are what git's own parser says they are.

Every expectation is computed by the installed git (``git interpret-trailers
--parse --no-divider``, the parser ``git log`` applies to commit messages), so the
table holds for whichever git runs the tests. Each case is one a hand-written
parser gets wrong one way or another: it takes a ``Key: value`` line of the body
or the subject for a trailer, misses a block git accepts (mixed with prose but
holding a git-generated ``Signed-off-by``), keeps a continuation line apart, takes
``Key : value`` or a configured ``#`` separator for prose, keeps a ``\r``, counts a
commented-out line, stops at a ``---`` divider ``git log`` does not stop at, or
(the parser this replaced, which split git's output at ASCII control characters)
lets control characters in a value forge a ``Gate-Override`` trailer.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from gate.git.repository import Repository, open_repository
from tests.gitrepo import GitRepo

pytestmark = pytest.mark.e2e

# (id, message, git config); committed verbatim (no cleanup), as a hook or a
# server-side merge could write them.
CASES: list[tuple[str, str, dict[str, str]]] = [
    ("not-in-the-last-paragraph",
     "Fix\n\nChange-Request: CHG1\n\nA closing paragraph.\n", {}),
    ("a-line-in-the-body",
     "Fix\n\nThe text mentions\nChange-Request: CHG1\nin passing, and goes\non for a while.\n", {}),
    ("mixed-block-with-signed-off-by",
     "Fix\n\nsome prose here\nChange-Request: CHG1\nSigned-off-by: Ada <ada@example.com>\n", {}),
    ("the-subject-is-never-a-trailer", "Change-Request: CHG1\n", {}),
    ("continuation-lines",
     "Fix\n\nGate-Override: INC-1 checkout\n  is down,\n\tall of it\n", {}),
    ("key-space-colon", "Fix\n\nChange-Request : CHG1\nGate-Override :INC-2 why\n", {}),
    ("case-of-keys", "Fix\n\nchange-request: CHG1\nCHANGE-REQUEST: CHG2\n", {}),
    ("hash-separator-not-configured", "Fix\n\nGate-Override # INC-1 outage\n", {}),
    ("hash-separator-configured", "Fix\n\nGate-Override # INC-1 outage\nChange-Request: CHG1\n",
     {"trailer.separators": ":#"}),
    ("crlf",
     "Fix\r\n\r\nBody text.\r\n\r\nChange-Request: CHG1\r\nGate-Override: INC-1 outage\r\n", {}),
    ("crlf-continuation", "Fix\r\n\r\nGate-Override: INC-1 long\r\n  reason\r\n", {}),
    ("cherry-picked",
     "Fix\n\nChange-Request: CHG1\n(cherry picked from commit "
     "0123456789abcdef0123456789abcdef01234567)\n", {}),
    ("after-a-patch-divider", "Fix\n\nnotes\n\n---\n\nChange-Request: CHG1\n", {}),
    ("comment-lines", "Fix\n\nChange-Request: CHG1\n# Gate-Override: INC-1 commented out\n", {}),
    ("blank-looking-line-splits-the-block",
     "Fix\n\nGate-Override: INC-1 early\n \t\nChange-Request: CHG1\n", {}),
    ("control-characters-cannot-forge-trailers",
     "Fix\n\nNote: a\x1eGate-Override\x1dINC-9 forged\x1fx\n", {}),
    ("empty-value", "Fix\n\nGate-Override:\nChange-Request: CHG1\n", {}),
]

def commit_verbatim(repo: GitRepo, message: str) -> str:
    path = repo.path.parent / "message.txt"
    path.write_bytes(message.encode("utf-8"))
    repo.clock += 60
    repo.git("commit", "-q", "--allow-empty", "--cleanup=verbatim", "-F", str(path))
    return repo.sha("HEAD")


def git_says(repo: GitRepo, message: str) -> dict[str, list[str]]:
    """``git interpret-trailers --parse --no-divider`` on the message: git's answer."""
    path = repo.path.parent / "message.txt"
    path.write_bytes(message.encode("utf-8"))
    output = repo.git("interpret-trailers", "--parse", "--no-divider", str(path))
    found: dict[str, list[str]] = {}
    for line in output.split("\n"):  # not splitlines: \x1c-\x1e are no line ends here
        if line:
            key, _, value = line.partition(":")
            found.setdefault(key, []).append(value.strip())
    return found


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write("a.yaml", "a: 1\n")
    repo.commit("base")
    return repo


@pytest.mark.parametrize(("message", "config"), [(m, c) for _, m, c in CASES],
                         ids=[case[0] for case in CASES])
def test_trailers_are_what_git_says(repo: GitRepo, message: str,
                                    config: dict[str, str]) -> None:
    for key, value in config.items():
        repo.git("config", key, value)
    base = repo.sha("HEAD")
    head = commit_verbatim(repo, message)
    expected = git_says(repo, message)
    with open_repository(str(repo.path)) as repository:
        [commit] = repository.commits(base, head)
    assert commit.trailers == expected
    assert list(commit.trailers) == list(expected)  # in git's order


def test_one_git_process_reads_every_commit_of_a_range(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = repo.sha("HEAD")
    heads = [commit_verbatim(repo, message) for _, message, config in CASES if not config]
    calls: list[tuple[str, ...]] = []
    real = Repository._git

    def counting(self: Repository, *args: str, **kwargs: object) -> object:
        calls.append(args)
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    with open_repository(str(repo.path)) as repository:
        monkeypatch.setattr(Repository, "_git", counting)
        commits = repository.commits(base, heads[-1])
    assert [c.sha for c in commits] == heads[::-1]
    # One read of the gpg.* settings that pin signature verification, then one log.
    assert [args[0] for args in calls] == ["config", "log"]
    for commit, (_, message, _) in zip(commits[::-1],
                                       [c for c in CASES if not c[2]], strict=True):
        assert commit.trailers == git_says(repo, message), commit.message
        assert commit.message.startswith(message.rstrip("\r\n").split("\n")[0])


def test_one_commit_is_read_as_a_range_reads_it(repo: GitRepo) -> None:
    """The commit a note names (a merge CI made) is parsed by the same reader."""
    base = repo.sha("HEAD")
    message = "Merge branch 'feature' into 'main'\n\nChange-Request: CHG1\n"
    head = commit_verbatim(repo, message)
    with open_repository(str(repo.path)) as repository:
        [listed] = repository.commits(base, head)
        one = repository.commit(head)
    assert one == listed and one.trailers == listed.trailers == git_says(repo, message)
