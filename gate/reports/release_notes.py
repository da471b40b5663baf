"""``gate release diff`` as text, Markdown, JSON (gate/schemas/release-diff.schema.json)
and a standalone HTML page: the release notes a change record needs."""
from __future__ import annotations

from typing import Any

from gate.governance.releases.notes import NoteCommit, ReleaseNotes
from gate.reports import html_page
from gate.reports._escape import clean_tree, one_line
from gate.reports.release_show import change_json, md, unread_json, unread_text

#: Version of the JSON output.
VERSION = 1
NO_TICKET = "no change ticket"


def headline(notes: ReleaseNotes) -> list[str]:
    lines = [
        f"Release notes {notes.old.name} -> {notes.new.name}",
        f"From {notes.old.name} ({notes.old.commit[:12]}) to {notes.new.name} "
        f"({notes.new.commit[:12]})",
        f"Microservice identity: {notes.microservice_rule}",
        f"Change tickets: {notes.ticket_rule}",
    ]
    if not notes.linear:
        lines.append(f"{notes.old.name} is not an ancestor of {notes.new.name}: the commits "
                     f"are those {notes.new.name} has and {notes.old.name} lacks")
    return lines


def change_lines(notes: ReleaseNotes) -> list[str]:
    return [f"{c.environment}: {c.microservice} {c.describe()}" for c in notes.changes]


def commit_line(commit: NoteCommit) -> str:
    tickets = ", ".join(commit.tickets) or NO_TICKET
    return (f"{commit.sha[:12]} {commit.authored_at} {commit.author}: {commit.subject} "
            f"[{tickets}]")


def completeness(notes: ReleaseNotes) -> str:
    if notes.complete:
        return "The notes are complete: every deployment of both tags was read."
    return (f"The notes are INCOMPLETE: {len(notes.unread)} part(s) could not be read; "
            "their changes are not shown.")


def text(notes: ReleaseNotes) -> str:
    lines = [*headline(notes), "", f"Changes ({len(notes.changes)}):"]
    lines += [f"  {line}" for line in change_lines(notes)] or ["  none"]
    lines += ["", f"Commits ({len(notes.commits)}, newest first):"]
    lines += [f"  {commit_line(c)}" for c in notes.commits] or ["  none"]
    lines += ["", f"Authors ({len(notes.authors)}):"]
    lines += [f"  {author}" for author in notes.authors] or ["  none"]
    lines += ["", f"Change tickets ({len(notes.tickets)}): {', '.join(notes.tickets) or 'none'}"]
    missing = notes.without_ticket
    lines.append(f"Commits without a change ticket ({len(missing)}): "
                 + (", ".join(c.sha[:12] for c in missing) or "none"))
    lines += ["", f"Unread ({len(notes.unread)}):"]
    lines += [f"  {unread_text(at, u)}" for at, u in notes.unread] or ["  none"]
    lines += ["", completeness(notes)]
    return "".join(one_line(line) + "\n" for line in lines)


def markdown(notes: ReleaseNotes) -> str:
    head = headline(notes)
    lines = [f"# {md(head[0])}", ""] + [f"- {md(line)}" for line in head[1:]] + [""]
    lines += [f"## Changes ({len(notes.changes)})", ""]
    if notes.changes:
        lines += ["| Environment | Microservice | Change | From | To |", "|---|---|---|---|---|"]
        lines += [f"| {md(c.environment)} | {md(c.microservice)} | {md(c.change)} | "
                  f"{md(', '.join(c.before_versions) or '-')} | "
                  f"{md(', '.join(c.after_versions) or '-')} |" for c in notes.changes]
    else:
        lines.append("None.")
    lines += ["", f"## Commits ({len(notes.commits)})", ""]
    if notes.commits:
        lines += ["| Commit | Date | Author | Subject | Change tickets |", "|---|---|---|---|---|"]
        lines += [f"| `{c.sha[:12]}` | {md(c.authored_at)} | {md(c.author)} | "
                  f"{md(c.subject)} | {md(', '.join(c.tickets) or NO_TICKET)} |"
                  for c in notes.commits]
    else:
        lines.append("None.")
    lines += ["", f"## Authors ({len(notes.authors)})", ""]
    lines += [f"- {md(author)}" for author in notes.authors] or ["None."]
    lines += ["", f"## Change tickets ({len(notes.tickets)})", "",
              md(", ".join(notes.tickets) or "None."), ""]
    missing = notes.without_ticket
    lines.append(f"Commits without a change ticket ({len(missing)}): "
                 + (", ".join(f"`{c.sha[:12]}`" for c in missing) or "none"))
    lines += ["", f"## Unread ({len(notes.unread)})", ""]
    lines += [f"- {md(unread_text(at, u))}" for at, u in notes.unread] or ["None."]
    lines += ["", f"**{md(completeness(notes))}**", ""]
    return "\n".join(lines)


def to_json(notes: ReleaseNotes) -> dict[str, Any]:
    document = {
        "version": VERSION,
        "from": {"name": notes.old.name, "commit": notes.old.commit},
        "to": {"name": notes.new.name, "commit": notes.new.commit},
        "linear": notes.linear,
        "microservice_rule": notes.microservice_rule,
        "ticket_rule": notes.ticket_rule,
        "environments": notes.environments,
        "changes": [change_json(c) for c in notes.changes],
        "commits": [{"sha": c.sha, "author": {"name": c.author_name, "email": c.author_email},
                     "authored_at": c.authored_at, "subject": c.subject,
                     "tickets": list(c.tickets)} for c in notes.commits],
        "authors": notes.authors,
        "tickets": notes.tickets,
        "commits_without_ticket": [c.sha for c in notes.without_ticket],
        "unread": [unread_json(at, u) for at, u in notes.unread],
        "complete": notes.complete,
    }
    cleaned: dict[str, Any] = clean_tree(document)
    return cleaned


def html(notes: ReleaseNotes) -> str:
    t = html_page.text
    head = headline(notes)
    body = ["<ul>" + "".join(f"<li>{t(line)}</li>" for line in head[1:]) + "</ul>\n"]
    body.append(f"<h2>Changes ({len(notes.changes)})</h2>\n")
    body.append(html_page.table(
        ["Environment", "Microservice", "Change", "From", "To"],
        [[t(c.environment), f"<code>{t(c.microservice)}</code>", html_page.state(c.change),
          f"<code>{t(', '.join(c.before_versions) or '-')}</code>",
          f"<code>{t(', '.join(c.after_versions) or '-')}</code>"] for c in notes.changes]))
    body.append(f"<h2>Commits ({len(notes.commits)})</h2>\n")
    body.append(html_page.table(
        ["Commit", "Date", "Author", "Subject", "Change tickets"],
        [[f"<code>{t(c.sha[:12])}</code>", t(c.authored_at), t(c.author), t(c.subject),
          t(", ".join(c.tickets)) if c.tickets else html_page.state(NO_TICKET)]
         for c in notes.commits]))
    body.append(f"<h2>Authors ({len(notes.authors)})</h2>\n<ul>"
                + "".join(f"<li>{t(a)}</li>" for a in notes.authors) + "</ul>\n")
    body.append(f"<h2>Change tickets ({len(notes.tickets)})</h2>\n"
                f"<p>{t(', '.join(notes.tickets) or 'None.')}</p>\n")
    body.append(f"<h2>Unread ({len(notes.unread)})</h2>\n<ul>"
                + "".join(f"<li>{t(unread_text(at, u))}</li>" for at, u in notes.unread)
                + "</ul>\n")
    body.append(f"<p>{html_page.state('complete' if notes.complete else 'incomplete')} "
                f"{t(completeness(notes))}</p>\n")
    style = (".state-no-change-ticket, .state-incomplete, .state-removed { color: #a40e26; }\n"
             ".state-complete, .state-added { color: #1a7f37; }\n")
    return html_page.document(head[0], "".join(body), style)
