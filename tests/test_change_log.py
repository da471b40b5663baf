"""The change log of gate diff: committer, signature as git verified it, trailers, tickets.

Signatures are real: throwaway OpenPGP keys (tests/signing.py) sign commits, and gate's
git verifies them with the keyring the test names in GNUPGHOME.
"""
from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from gate.git.repository import open_repository
from gate.git.runner import GitError
from gate.governance.change import commit_document
from tests.conftest import RunGate
from tests.gitrepo import GitRepo
from tests.signing import commit_as, keyring, signed_commit
from tests.test_governance_cli import TICKETS, diff, make_repo, set_tag

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI


def log_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = report["change"]["commit_log"]
    return entries


def test_git_reports_good_unsigned_and_uncheckable_signatures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("initial")
    base = repo.sha("HEAD")
    with keyring("Dana Lead", "dana@example.com") as dana, \
            keyring("Eve Else", "eve@example.com") as eve:
        unsigned = commit_as(repo, "unsigned", "Sam Dev <sam@example.com>")
        good = signed_commit(repo, "signed by Dana", dana, author="Dana Lead <dana@example.com>")
        unknown = signed_commit(repo, "signed by Eve", eve)
        monkeypatch.setenv("GNUPGHOME", str(dana.home))  # Eve's key is not in it
        with open_repository(str(repo.path)) as repository:
            commits = {c.sha: c for c in repository.commits(base, unknown)}
    assert commits[unsigned].signature.status == "N"
    assert (commits[unsigned].author_email, commits[unsigned].committer_email) == (
        "sam@example.com", "test@example.com")
    signature = commits[good].signature
    assert (signature.status, signature.signer, signature.key, signature.fingerprint) == (
        "G", "Dana Lead <dana@example.com>", dana.key_id, dana.fingerprint)
    assert commits[unknown].signature.status == "E"
    assert commits[unknown].signature.key == eve.key_id  # git names the key it lacks
    document = commit_document(commits[good])
    assert document["committer"] == {"name": "Test User", "email": "test@example.com"}
    assert document["signature"] == {
        "status": "G", "signer": "Dana Lead <dana@example.com>", "email": "dana@example.com",
        "key": dana.key_id, "fingerprint": dana.fingerprint}


def _evil_program(repo: GitRepo) -> Path:
    marker = repo.path.parent / "ran"
    script = repo.path / "verify.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return marker


def test_a_verifier_in_the_repository_never_runs(tmp_path: Path) -> None:
    """The repository's config names a program of the tree to verify signatures: a
    relative name is never looked up there (the signed commit cannot be checked: E), an
    absolute path into the repository stops the run."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("initial")
    base = repo.sha("HEAD")
    marker = _evil_program(repo)
    with keyring("Dana Lead", "dana@example.com") as dana:
        head = signed_commit(repo, "signed, with the script", dana)
    repo.git("config", "gpg.program", "./verify.sh")
    with open_repository(str(repo.path)) as repository:
        [commit] = repository.commits(base, head)
    assert commit.signature.status == "E"
    assert not marker.exists()
    repo.git("config", "gpg.program", str(repo.path / "verify.sh"))
    with open_repository(str(repo.path)) as repository, pytest.raises(GitError) as caught:
        repository.commits(base, head)
    assert "gpg.program" in caught.value.message and "must not come from the change" in \
        caught.value.message
    assert not marker.exists()


@pytest.mark.parametrize("key", ["gpg.ssh.allowedSignersFile", "gpg.ssh.revocationFile"])
def test_ssh_trust_files_of_the_repository_are_refused(tmp_path: Path, key: str) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    base = repo.commit("initial")
    head = repo.commit("second")
    repo.git("config", key, "allowed_signers")
    with open_repository(str(repo.path)) as repository, pytest.raises(GitError) as caught:
        repository.commits(base, head)
    assert caught.value.message.startswith(f"git config {key}='allowed_signers': it names a "
                                           "file of the repository being judged")


def test_a_relative_gnupghome_is_refused(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    base = repo.commit("initial")
    head = repo.commit("second")
    monkeypatch.setenv("GNUPGHOME", "keys")
    with open_repository(str(repo.path)) as repository, pytest.raises(GitError) as caught:
        repository.commits(base, head)
    assert "GNUPGHOME='keys'" in caught.value.message


def test_gate_diff_reports_the_change_log_in_json_text_and_markdown(
    tmp_path: Path, run_gate: RunGate
) -> None:
    repo = make_repo(tmp_path, TICKETS)
    with keyring("Dana Lead", "dana@example.com") as dana:
        set_tag(repo, "staging", "1.0.1")
        first = commit_as(repo, "staging first\n\nChange-Request: CHG100\nSigned-off-by: Sam",
                          "Sam Dev <sam@example.com>")
        set_tag(repo, "prod", "1.0.1")
        # A subject that tries to break out of a Markdown table and mention a team.
        head = signed_commit(repo, "prod | @acme/admins <b>now</b>\n\nChange-Request: CHG101\n"
                             "Change-Request: not-a-ticket", dana,
                             author="Dana Lead <dana@example.com>")
        markdown = tmp_path / "report.md"
        proc, report = diff(run_gate, repo, "-v", "-f", f"markdown={markdown}",
                            env={"GNUPGHOME": str(dana.home)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    entries = log_of(report)
    assert [e["sha"] for e in entries] == [head, first]  # newest first
    newest, oldest = entries
    assert newest["author"] == "Dana Lead <dana@example.com>"
    assert newest["committer"] == "Test User <test@example.com>"
    assert newest["signature"] == {"status": "G", "signer": "Dana Lead <dana@example.com>",
                                   "key": dana.key_id, "fingerprint": dana.fingerprint}
    assert newest["trailers"] == [{"key": "Change-Request",
                                   "values": ["CHG101", "not-a-ticket"]}]
    assert newest["tickets"] == ["CHG101"]  # change-ticket's pattern: ^CHG[0-9]+$
    assert oldest["signature"] == {"status": "N", "signer": "", "key": "", "fingerprint": ""}
    assert oldest["tickets"] == ["CHG100"]
    assert oldest["authored_at"] == "2023-11-14T22:15:20+00:00"
    assert oldest["subject"] == "staging first"
    # Text, with -v: one line per commit.
    assert (f"commit {head[:12]} Dana Lead <dana@example.com> {newest['authored_at']}, "
            f"committed by Test User <test@example.com> {newest['committed_at']}; signature "
            f"G by Dana Lead <dana@example.com>, key {dana.fingerprint}; tickets CHG101: "
            "prod | @acme/admins <b>now</b>") in proc.stdout
    assert f"commit {first[:12]} Sam Dev <sam@example.com>" in proc.stdout
    # Markdown: a table row per commit, hostile text inert.
    text = markdown.read_text(encoding="utf-8")
    assert "#### Change log (2)" in text
    [row] = [line for line in text.splitlines() if line.startswith(f"| `{head[:12]}`")]
    assert "prod \\| &#64;acme/admins &lt;b&gt;now&lt;/b&gt;" in row
    assert f"**G** Dana Lead &lt;dana&#64;example.com&gt; \\({dana.fingerprint}\\)" in row
    assert "| CHG101 |" in row
    assert row.count(" | ") == 8  # nine cells: nothing broke out of one


def test_without_change_ticket_no_ticket_is_counted(tmp_path: Path, run_gate: RunGate) -> None:
    repo = make_repo(tmp_path)
    set_tag(repo, "prod", "1.0.1")
    repo.commit("bump\n\nChange-Request: CHG100")
    proc, report = diff(run_gate, repo)
    assert proc.returncode == 0, proc.stdout
    [entry] = log_of(report)
    assert entry["tickets"] == []
    assert entry["trailers"] == [{"key": "Change-Request", "values": ["CHG100"]}]


def test_a_local_change_has_no_change_log(tmp_path: Path, run_gate: RunGate) -> None:
    repo = make_repo(tmp_path)
    set_tag(repo, "prod", "1.0.1")
    report_path = tmp_path / "r.json"
    run_gate("diff", "--worktree", "--kustomize", "builtin", "-f", f"json={report_path}",
             cwd=repo.path)
    assert json.loads(report_path.read_text(encoding="utf-8"))["change"]["commit_log"] == []


def test_signed_commits_policy_end_to_end(tmp_path: Path, run_gate: RunGate) -> None:
    config = "policies:\n  signed-commits:\n    enabled: true\n"
    with keyring("Dana Lead", "dana@example.com") as dana:
        repo = make_repo(tmp_path, config)
        set_tag(repo, "prod", "1.0.1")
        signed_commit(repo, "signed bump", dana)
        env = {"GNUPGHOME": str(dana.home)}
        proc, report = diff(run_gate, repo, env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert {r["status"] for r in report["results"]
                if r["policy"] == "signed-commits"} == {"pass"}
        unsigned = repo.commit("unsigned follow-up")
        proc, report = diff(run_gate, repo, env=env)
    assert proc.returncode == 1
    [failure] = [r for r in report["results"] if r["policy"] == "signed-commits"]
    assert failure["message"] == (
        f"commit {unsigned[:12]} ('unsigned follow-up') by test@example.com has signature "
        "status N, not one of G; changes to prod must be signed")
