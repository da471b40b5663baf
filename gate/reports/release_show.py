"""``gate release show`` as text, Markdown, JSON (gate/schemas/release-show.schema.json)
and a standalone HTML page. Every mark is written in words in every format."""
from __future__ import annotations

from typing import Any

from gate.governance.releases.compare import VersionChange
from gate.governance.releases.show import ReleaseView
from gate.governance.releases.versions import Deployed, Unread
from gate.reports import html_page
from gate.reports._escape import clean_tree, one_line
from gate.reports.markdown_text import escape as md_escape

#: Version of the JSON output.
VERSION = 1
UNCERTIFIED = "not certified"
NO_VERSION = "-"
#: The marks' colours (their words say it all in black and white too).
MARK_STYLE = (".state-not-certified, .state-incomplete { color: #a40e26; }\n"
              "[class*='state-differs'] { color: #7d4e00; }\n.state-complete { color: #1a7f37; }\n")


def short_version(deployed: Deployed) -> str:
    """The version for a matrix cell: a digest shortened to 12 hex digits."""
    digest = deployed.digest
    if digest and ":" in digest:
        algorithm, _, hexdigits = digest.partition(":")
        digest = f"{algorithm}:{hexdigits[:12]}"
    if deployed.tag and digest:
        return f"{deployed.tag}@{digest}"
    return deployed.tag or digest or "(no tag)"


def cell_text(view: ReleaseView, microservice: str, environment: str) -> str:
    """``1.2.0``, ``1.3.1 (not certified)``, ``1.1.0 (differs from v1.1.1)``, ``-``."""
    deployed = view.cell(microservice, environment)
    parts = []
    for version in sorted({short_version(d) for d in deployed}):
        same = [d for d in deployed if short_version(d) == version]
        marked = any(view.uncertified(d) for d in same)
        parts.append(f"{version} ({UNCERTIFIED})" if marked else version)
    text = ", ".join(parts) or NO_VERSION
    if view.differs(microservice, environment) is not None and view.last_release is not None:
        text += f" (differs from {view.last_release.name})"
    return text


def where(deployed: Deployed) -> str:
    return f"{deployed.file}:{deployed.line}"


def unread_text(at: str, unread: Unread) -> str:
    place = f"{unread.file}:{unread.line}" if unread.line else unread.file
    environment = f" ({unread.environment})" if unread.environment else ""
    return f"at {at}: {place}{environment}: {unread.message}"


def certification_rule(view: ReleaseView) -> str:
    production = ", ".join(view.production)
    return (f"{production} runs only versions {view.certified_in} ran at {view.ref} or at a "
            "release tag reachable from it (same image repository, tag and digest)")


def headline(view: ReleaseView) -> list[str]:
    last = view.last_release
    return [
        f"Release view at {view.ref} ({view.commit[:12]})",
        f"Microservice identity: {view.microservice_rule}",
        f"Environments in promotion order: {', '.join(view.environments) or 'none'}",
        f"Certification: {certification_rule(view)}",
        "Last release tag at or before the ref: "
        + (f"{last.name} ({last.commit[:12]})" if last else "none"),
    ]


def uncertified_lines(view: ReleaseView) -> list[str]:
    return [f"{c.deployed.environment} runs {c.deployed.microservice} {c.deployed.version} "
            f"({where(c.deployed)}), which {view.certified_in} never ran"
            for c in view.certification.uncertified]


def difference_lines(view: ReleaseView) -> list[str]:
    if view.last_release is None:
        return []
    return [f"{c.environment}: {c.microservice} {c.describe()}" for c in view.differences]


def completeness(view: ReleaseView) -> str:
    if view.complete:
        return "The view is complete: every deployment was read."
    return (f"The view is INCOMPLETE: {len(view.unread)} part(s) could not be read; "
            "their versions are not shown and were not judged.")


# -- text ----------------------------------------------------------------------------------


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows]


def text(view: ReleaseView) -> str:
    lines = [*headline(view), ""]
    rows = [["MICROSERVICE", *[e.upper() for e in view.environments]]]
    rows += [[m, *[cell_text(view, m, e) for e in view.environments]]
             for m in view.microservices]
    lines += _columns(rows) if view.microservices else ["No microservice deploys anywhere."]
    lines += ["", "Versions (where each is set):"]
    for microservice in view.microservices:
        for environment in view.environments:
            for deployed in view.cell(microservice, environment):
                lines.append(f"  {microservice} in {environment}: {deployed.version} at "
                             f"{where(deployed)} ({deployed.resource})")
    uncertified = uncertified_lines(view)
    lines += ["", f"Not certified in {view.certified_in} ({len(uncertified)}):"]
    lines += [f"  {line}" for line in uncertified] or ["  none"]
    if view.certification.consulted:
        lines.append(f"  release tags consulted: {', '.join(view.certification.consulted)}")
    if view.last_release is not None:
        name = view.last_release.name
        differing = view.differing_environments()
        lines += ["", f"Differs from {name}: "
                  + (", ".join(differing) if differing else "nothing")]
        lines += [f"  {line}" for line in difference_lines(view)]
    lines += ["", f"Unread ({len(view.unread)}):"]
    lines += [f"  {unread_text(at, u)}" for at, u in view.unread] or ["  none"]
    lines += ["", completeness(view)]
    return "".join(one_line(line) + "\n" for line in lines)


# -- markdown ------------------------------------------------------------------------------


def md(value: object) -> str:
    return md_escape(value, limit=1_000_000)  # written in full, never shortened


def markdown(view: ReleaseView) -> str:
    head = headline(view)
    lines = [f"# {md(head[0])}", ""] + [f"- {md(line)}" for line in head[1:]] + [""]
    lines += ["## Versions", ""]
    if view.microservices:
        lines.append("| Microservice | " + " | ".join(md(e) for e in view.environments) + " |")
        lines.append("|---" * (len(view.environments) + 1) + "|")
        for microservice in view.microservices:
            cells = [md(cell_text(view, microservice, e)) for e in view.environments]
            lines.append(f"| {md(microservice)} | " + " | ".join(cells) + " |")
    else:
        lines.append("No microservice deploys anywhere.")
    lines += ["", "### Where each version is set", "",
              "| Microservice | Environment | Version | File | Resource |",
              "|---|---|---|---|---|"]
    for microservice in view.microservices:
        for environment in view.environments:
            for d in view.cell(microservice, environment):
                lines.append(f"| {md(microservice)} | {md(environment)} | {md(d.version)} | "
                             f"{md(where(d))} | {md(d.resource)} |")
    uncertified = uncertified_lines(view)
    lines += ["", f"## Not certified in {md(view.certified_in)} ({len(uncertified)})", ""]
    lines += [f"- {md(line)}" for line in uncertified] or ["None."]
    if view.last_release is not None:
        lines += ["", f"## Differs from {md(view.last_release.name)}", ""]
        lines += [f"- {md(line)}" for line in difference_lines(view)] or ["Nothing."]
    lines += ["", f"## Unread ({len(view.unread)})", ""]
    lines += [f"- {md(unread_text(at, u))}" for at, u in view.unread] or ["None."]
    lines += ["", f"**{md(completeness(view))}**", ""]
    return "\n".join(lines)


# -- json ----------------------------------------------------------------------------------


def deployed_json(deployed: Deployed) -> dict[str, Any]:
    return {"repository": deployed.repository, "tag": deployed.tag, "digest": deployed.digest,
            "version": deployed.version, "file": deployed.file, "line": deployed.line,
            "resource": deployed.resource}


def change_json(change: VersionChange) -> dict[str, Any]:
    return {"microservice": change.microservice, "environment": change.environment,
            "change": change.change, "from": list(change.before_versions),
            "to": list(change.after_versions)}


def unread_json(at: str, unread: Unread) -> dict[str, Any]:
    return {"at": at, "file": unread.file, "line": unread.line,
            "environment": unread.environment or None, "message": unread.message}


def to_json(view: ReleaseView) -> dict[str, Any]:
    last = view.last_release
    certified = {c.deployed: c.certified_at for c in view.certification.certifications}
    cells = []
    for microservice in view.microservices:
        for environment in view.environments:
            deployed = view.cell(microservice, environment)
            cells.append({
                "microservice": microservice, "environment": environment,
                "versions": [{**deployed_json(d),
                              "certified_at": certified.get(d),
                              "certified": certified[d] is not None if d in certified else None}
                             for d in deployed],
                "differs_from_last_release": view.differs(microservice, environment) is not None,
            })
    document = {
        "version": VERSION,
        "ref": view.ref,
        "commit": view.commit,
        "microservice_rule": view.microservice_rule,
        "environments": view.environments,
        "certified_in": view.certified_in,
        "production": list(view.production),
        "certification_rule": certification_rule(view),
        "last_release": {"name": last.name, "commit": last.commit} if last else None,
        "microservices": view.microservices,
        "matrix": cells,
        "uncertified": [{"microservice": c.deployed.microservice,
                         "environment": c.deployed.environment, **deployed_json(c.deployed)}
                        for c in view.certification.uncertified],
        "release_tags_consulted": view.certification.consulted,
        "differences": [change_json(c) for c in view.differences],
        "unread": [unread_json(at, u) for at, u in view.unread],
        "complete": view.complete,
    }
    cleaned: dict[str, Any] = clean_tree(document)
    return cleaned


# -- html ----------------------------------------------------------------------------------


def html(view: ReleaseView) -> str:
    t = html_page.text
    head = headline(view)
    body = ["<ul>" + "".join(f"<li>{t(line)}</li>" for line in head[1:]) + "</ul>\n"]
    body.append("<h2>Versions</h2>\n")
    rows = []
    for microservice in view.microservices:
        row = [f"<code>{t(microservice)}</code>"]
        for environment in view.environments:
            row.append(_html_cell(view, microservice, environment))
        rows.append(row)
    body.append(html_page.table(["Microservice", *view.environments], rows))
    body.append("<h3>Where each version is set</h3>\n")
    body.append(html_page.table(
        ["Microservice", "Environment", "Version", "File", "Resource"],
        [[t(m), t(e), f"<code>{t(d.version)}</code>", f"<code>{t(where(d))}</code>",
          t(d.resource)]
         for m in view.microservices for e in view.environments for d in view.cell(m, e)]))
    uncertified = uncertified_lines(view)
    body.append(f"<h2>Not certified in {t(view.certified_in)} ({len(uncertified)})</h2>\n")
    body.append(_html_list(uncertified, "None."))
    if view.last_release is not None:
        body.append(f"<h2>Differs from {t(view.last_release.name)}</h2>\n")
        body.append(_html_list(difference_lines(view), "Nothing."))
    body.append(f"<h2>Unread ({len(view.unread)})</h2>\n")
    body.append(_html_list([unread_text(at, u) for at, u in view.unread], "None."))
    body.append(f"<p>{html_page.state('complete' if view.complete else 'incomplete')} "
                f"{t(completeness(view))}</p>\n")
    return html_page.document(head[0], "".join(body), MARK_STYLE)


def _html_cell(view: ReleaseView, microservice: str, environment: str) -> str:
    deployed = view.cell(microservice, environment)
    parts = []
    for version in sorted({short_version(d) for d in deployed}):
        same = [d for d in deployed if short_version(d) == version]
        mark = (" " + html_page.state(UNCERTIFIED)) if any(view.uncertified(d) for d in same) \
            else ""
        parts.append(f"<code>{html_page.text(version)}</code>{mark}")
    cell = "<br>".join(parts) or html_page.text(NO_VERSION)
    if view.differs(microservice, environment) is not None and view.last_release is not None:
        cell += " " + html_page.state(f"differs from {view.last_release.name}")
    return cell


def _html_list(lines: list[str], empty: str) -> str:
    if not lines:
        return f"<p>{html_page.text(empty)}</p>\n"
    return "<ul>" + "".join(f"<li>{html_page.text(line)}</li>" for line in lines) + "</ul>\n"

